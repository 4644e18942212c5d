"""Read a datastream's XCCDF Benchmark as a stream: its id, version, and profiles with rule counts.

Datastreams are tens of megabytes; only the Benchmark's profiles and rule ids are kept while
reading, and everything else is freed as soon as it is parsed.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from core.safexml import XmlError, iterparse, release

_XCCDF_NS = "http://checklists.nist.gov/xccdf/"
# profile id -> (title, the profile it extends, its own selections)
_RawProfiles = dict[str, tuple[str, str | None, dict[str, bool]]]


def _split_tag(element: etree._Element) -> tuple[str, str]:
    """(namespace, local name) of an element; ("", "") for anything without a tag name."""
    tag = element.tag if isinstance(element.tag, str) else ""
    ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return ns, name


def _profile_parts(profile: etree._Element) -> tuple[str, str | None, dict[str, bool]]:
    title, selects = "", {}
    for child in profile:
        name = _split_tag(child)[1]
        if name == "title" and not title:
            title = " ".join("".join(child.itertext()).split())
        elif name == "select":  # a later select of the same item overrides an earlier one
            selects[child.get("idref", "")] = child.get("selected") in ("true", "1")
    return title, profile.get("extends"), selects


def _selections(pid: str, raw: _RawProfiles, seen: tuple[str, ...] = ()) -> dict[str, bool]:
    _title, extends, selects = raw[pid]
    base = _selections(extends, raw, seen + (pid,)) if extends in raw and extends not in seen else {}
    return {**base, **selects}


def _parent_name(element: etree._Element) -> str:
    parent = element.getparent()
    return "" if parent is None else _split_tag(parent)[1]


def _inside_xccdf(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and _split_tag(parent)[0].startswith(_XCCDF_NS)


def _read(path: Path) -> tuple[str, str, list[str], _RawProfiles]:
    """(benchmark id, version, rule ids in document order, raw profiles). Raises XmlError."""
    benchmark, version = None, ""
    rules: list[str] = []
    raw: _RawProfiles = {}
    events = iterparse(path, events=("end",))
    try:
        for _event, element in events:
            ns, name = _split_tag(element)
            if benchmark is None and ns.startswith(_XCCDF_NS):
                if name == "Rule":
                    rules.append(element.get("id", ""))
                elif name == "Profile":
                    raw[element.get("id", "")] = _profile_parts(element)
                elif name == "version" and _parent_name(element) == "Benchmark":
                    version = (element.text or "").strip()
                elif name == "Benchmark":
                    benchmark = element.get("id", "")
                if name in ("Rule", "Profile", "Group", "Value", "Benchmark"):
                    release(element)
            elif benchmark is not None or not _inside_xccdf(element):
                release(element)  # OVAL, OCIL, CPE, or anything after the benchmark
    finally:
        events.close()
    if benchmark is None:
        raise XmlError("it has no XCCDF Benchmark")
    if not benchmark:
        raise XmlError("its XCCDF Benchmark has no id")
    return benchmark, version, rules, raw


def read_benchmark(path: Path, watch: frozenset[str] = frozenset()
                   ) -> tuple[str, str, dict[str, tuple[str, int, frozenset[str]]]]:
    """Stream the first XCCDF Benchmark's id, version and profiles; check the rest is well-formed.

    Profiles map id -> (title, number of rules selected, the selected rules that are in `watch`).
    Raises XmlError.
    """
    benchmark, version, order, raw = _read(path)
    rules = set(order)
    profiles = {}
    for pid, (title, _extends, _selects) in raw.items():
        chosen = _selections(pid, raw)
        selected = {idref for idref, on in chosen.items() if on and idref in rules}
        profiles[pid] = (title or pid, len(selected), frozenset(selected & watch))
    return benchmark, version, profiles


def selected_rules(path: Path, profile_id: str) -> list[str]:
    """The rules a profile selects, in the order oscap evaluates them (the document's)."""
    _benchmark, _version, order, raw = _read(path)
    chosen = _selections(profile_id, raw) if profile_id in raw else {}
    return [rule for rule in order if chosen.get(rule)]
