"""Derived content: one OS's CIS content made to accept another (a rebuild of RHEL, Debian 11, Amazon Linux 2).

SSG content decides with one OVAL definition, installed_OS_is_<product>, whether a host runs its
OS: the benchmark's CPE platform and a few checks use it. For RHEL N it reads the redhat-release
package, which a rebuild does not have; for Debian 12 it reads /etc/debian_version ("12.x"), which
says "11.x" on Debian 11. So on another OS every rule comes back notapplicable. A derived
datastream ORs into that definition, in every OVAL component that defines it, a check of
/etc/os-release (the derived OS's ID and major VERSION_ID), and adds the derived OS's own CPE,
checked the same way, as a platform of the benchmark. Rules whose checks read what the derived OS
does not have (the catalog's switch_off groups) are deselected in every profile that selects
them, each with a remark saying why. Everything else stays the source's, so results are its
benchmark applied to the derived OS, and say so ("derived from RHEL 9 content").

Deriving takes about a second (lxml parses and writes 20-30 MB); the result is kept in the data
dir's cache, keyed by the source file's sha256 and the rebuild, and found again without parsing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from core import paths
from core.content.catalog import ContentError, Datastream, Derivative, ProfileChoice, resolve_profile
from core.domain.errors import os_reason
from core.domain.models import OsInfo
from core.safexml import open_maybe_compressed

if TYPE_CHECKING:
    from core.workspace import Workspace

FORMAT = 2  # bump when the derivation changes: older files are then built again (2: rules switched off)
OVAL = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
IND = OVAL + "#independent"
CPE_DICT = "http://cpe.mitre.org/dictionary/2.0"
XCCDF = "http://checklists.nist.gov/xccdf/1.2"
ID_SPACE = "oval:compliance-tui.derived"  # our own OVAL ids: no clash with SSG's oval:ssg-...
OS_DEF = f"{ID_SPACE}:def:1"
_SECTIONS = ("definitions", "tests", "objects", "states", "variables")  # their order in the schema
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def derived_path(cache_dir: Path, source: Datastream, derivative: Derivative) -> Path:
    """Keyed by the source file and by what the derivation does (its checks and switch-offs)."""
    name = f"ssg-{derivative.key}-from-{source.product}-ds.xml"
    recipe = repr((derivative.os_id, derivative.major, derivative.cpe, derivative.off)).encode()
    return Path(cache_dir) / "derived" / f"{source.sha256}.v{FORMAT}-{hashlib.sha256(recipe).hexdigest()[:12]}" / name


def derive(source: Datastream, derivative: Derivative, cache_dir: Path) -> Datastream:
    """The derived datastream for this OS: built once, then read from the cache."""
    path = derived_path(cache_dir, source, derivative)
    with _lock_for(path):  # concurrent scans of two Rocky hosts build it once
        if not path.is_file():
            _build(source.path, derivative, path)
    with open(path, "rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    profiles = {pid: derivative.profile(info) for pid, info in source.profiles.items()}
    return replace(source, path=path, product=f"{derivative.key}-from-{source.product}", sha256=digest,
                   profiles=profiles, derived_from=derivative.source)


def materialize(choice: ProfileChoice, cache_dir: Path) -> ProfileChoice:
    """A choice whose datastream is ready to scan with: derived when the choice says so."""
    if not choice.needs_derivation:
        return choice
    assert choice.derivative is not None  # needs_derivation says so
    return replace(choice, datastream=derive(choice.datastream, choice.derivative, cache_dir))


async def resolve(workspace: Workspace, os: OsInfo | None, profile: str) -> ProfileChoice:
    """resolve_profile on the workspace's content, with derived content built when the OS needs it."""
    choice = resolve_profile(os, profile, await workspace.datastreams())
    if choice.needs_derivation:
        choice = await asyncio.to_thread(materialize, choice, paths.cache_dir(workspace.data_dir))
    return choice


# --- the derivation itself ------------------------------------------------------------------

def _parser() -> etree.XMLParser:
    # our own installed content, but read as carefully as anything else
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _build(source: Path, derivative: Derivative, target: Path) -> None:
    """Parse the source, widen its OS check, switch rules off, write the result atomically to target."""
    try:
        with open_maybe_compressed(source) as stream:
            tree = etree.parse(stream, _parser())
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise ContentError(f"{source}: cannot derive content for {derivative.label}: {os_reason(exc)}") from None
    widened = apply(tree.getroot(), derivative)
    if not widened:
        raise ContentError(f"{source.name}: no OVAL definition {_source_def(derivative)} to widen "
                           f"for {derivative.label}; this content cannot be derived")
    switch_off(tree.getroot(), derivative)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    os.close(fd)  # a unique partial file: another process may be building the same one
    try:
        tree.write(partial, xml_declaration=True, encoding="utf-8")
        os.chmod(partial, 0o600)  # private like everything in the data dir
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(path, threading.Lock())


def _source_def(derivative: Derivative) -> str:
    return f"oval:ssg-installed_OS_is_{derivative.source_product}:def:1"


def apply(root: etree._Element, derivative: Derivative) -> int:
    """Widen the source OS's check in place; returns how many definitions were widened."""
    widened = 0
    for oval in root.iter(f"{{{OVAL}}}oval_definitions"):  # one per OVAL component
        source = _find_def(oval, _source_def(derivative))
        if source is None:
            continue
        _add_os_check(oval, derivative)
        _or_into(source, derivative)
        widened += 1
    if widened:
        _add_platform(root, derivative)
    return widened


def _find_def(oval: etree._Element, def_id: str) -> etree._Element | None:
    for element in oval.iter(f"{{{OVAL}}}definition"):
        if element.get("id") == def_id:
            return element
    return None


def _section(oval: etree._Element, name: str) -> etree._Element:
    """The <tests>, <objects>, ... section, made in its schema position when missing."""
    found = oval.find(f"{{{OVAL}}}{name}")
    if found is not None:
        return found
    later = _SECTIONS[_SECTIONS.index(name) + 1:]
    section = etree.Element(f"{{{OVAL}}}{name}")
    following = next((c for c in oval if isinstance(c.tag, str) and etree.QName(c).localname in later), None)
    if following is None:
        oval.append(section)
    else:
        following.addprevious(section)
    return section


def _add_os_check(oval: etree._Element, derivative: Derivative) -> None:
    """Our definition: /etc/os-release says ID=<rebuild> and VERSION_ID=<major>[.minor]."""
    definition = _sub(_section(oval, "definitions"), OVAL, "definition",
                      id=OS_DEF, version="1", **{"class": "inventory"})
    metadata = _sub(definition, OVAL, "metadata")
    _sub(metadata, OVAL, "title").text = derivative.label
    _sub(_sub(metadata, OVAL, "affected", family="unix"), OVAL, "platform").text = derivative.label
    _sub(metadata, OVAL, "reference", ref_id=derivative.cpe, source="CPE")
    _sub(metadata, OVAL, "description").text = (
        f"The operating system installed is {derivative.label}, per /etc/os-release "
        f"(added by compliance-tui to content derived from {derivative.source} content)")
    criteria = _sub(definition, OVAL, "criteria", operator="AND")
    checks = (  # the same patterns as SSG's own os-release checks
        ("ID", r"""^ID=["']?([\w.-]+)["']?$""", "equals", derivative.os_id, derivative.os_id),
        ("VERSION_ID", r"""^VERSION_ID=["']?([\w.]+)["']?$""", "pattern match",
         rf"^{derivative.major}(\.[0-9]+)*$", derivative.major),
    )
    for n, (key, pattern, operation, value, shown) in enumerate(checks, start=1):
        comment = f"{key} in /etc/os-release is {shown}"
        _sub(criteria, OVAL, "criterion", comment=comment, test_ref=f"{ID_SPACE}:tst:{n}")
        _add_test(oval, n, comment, pattern, operation, value)


def _add_test(oval: etree._Element, n: int, comment: str, pattern: str, operation: str, value: str) -> None:
    """A textfilecontent54 test of /etc/os-release: its object (the line) and state (the value)."""
    test = _sub(_section(oval, "tests"), IND, "textfilecontent54_test", id=f"{ID_SPACE}:tst:{n}",
                version="1", check="all", check_existence="at_least_one_exists", comment=comment)
    _sub(test, IND, "object", object_ref=f"{ID_SPACE}:obj:{n}")
    _sub(test, IND, "state", state_ref=f"{ID_SPACE}:ste:{n}")
    obj = _sub(_section(oval, "objects"), IND, "textfilecontent54_object", id=f"{ID_SPACE}:obj:{n}", version="1")
    _sub(obj, IND, "filepath").text = "/etc/os-release"
    _sub(obj, IND, "pattern", operation="pattern match").text = pattern
    _sub(obj, IND, "instance", datatype="int", operation="greater than or equal").text = "1"
    state = _sub(_section(oval, "states"), IND, "textfilecontent54_state", id=f"{ID_SPACE}:ste:{n}", version="1")
    _sub(state, IND, "subexpression", operation=operation).text = value


def _or_into(source: etree._Element, derivative: Derivative) -> None:
    """The source OS's definition becomes: (what it was) OR (our os-release check)."""
    original = source.find(f"{{{OVAL}}}criteria")
    either = etree.Element(f"{{{OVAL}}}criteria", operator="OR",
                           comment=f"{derivative.source}, or {derivative.label} (derived content)")
    original.addprevious(either)
    either.append(original)
    _sub(either, OVAL, "extend_definition", comment=f"{derivative.label} is installed", definition_ref=OS_DEF)


def _add_platform(root: etree._Element, derivative: Derivative) -> None:
    """The derived OS's CPE, checked by our definition, as one more platform of the benchmark."""
    for item_list in root.iter(f"{{{CPE_DICT}}}cpe-list"):
        source = _source_def(derivative)
        checks = [c for c in item_list.iter(f"{{{CPE_DICT}}}check") if (c.text or "").strip() == source]
        names = {item.get("name") for item in item_list.iter(f"{{{CPE_DICT}}}cpe-item")}
        if not checks or derivative.cpe in names:
            continue
        item = _sub(item_list, CPE_DICT, "cpe-item", name=derivative.cpe)
        title = _sub(item, CPE_DICT, "title")
        title.set("{http://www.w3.org/XML/1998/namespace}lang", "en-us")
        title.text = derivative.label
        _sub(item, CPE_DICT, "check", system=OVAL, href=checks[0].get("href", "")).text = OS_DEF
    for benchmark in root.iter(f"{{{XCCDF}}}Benchmark"):
        platforms = benchmark.findall(f"{{{XCCDF}}}platform")
        if platforms and derivative.cpe not in {p.get("idref") for p in platforms}:
            platform = etree.Element(f"{{{XCCDF}}}platform", idref=derivative.cpe)
            platforms[-1].addnext(platform)
            platform.tail = platforms[-1].tail


def switch_off(root: etree._Element, derivative: Derivative) -> int:
    """Deselect the rules that cannot apply, with the reason as the select's remark; returns how many.

    A profile names each item at most once (the schema's itemSelectKey), so its own select changes.
    """
    reasons = dict(derivative.off)
    done = 0
    for benchmark in root.iter(f"{{{XCCDF}}}Benchmark"):
        for profile in benchmark.iterchildren(f"{{{XCCDF}}}Profile"):
            for select in profile.iterchildren(f"{{{XCCDF}}}select"):
                rule = select.get("idref")
                if rule in reasons and select.get("selected") in ("true", "1"):
                    select.set("selected", "false")
                    remark = _sub(select, XCCDF, "remark")
                    remark.text = f"Switched off by compliance-tui for {derivative.label}: {reasons[rule]}"
                    done += 1
    return done


def _sub(parent: etree._Element, ns: str, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
