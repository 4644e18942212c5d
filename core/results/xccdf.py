"""Read XCCDF results (ARF or plain XCCDF 1.2) and rule metadata from SCAP content.

Everything streams through safexml: an ARF holds megabytes of OVAL results and a
datastream megabytes of OVAL definitions we never look at, so each finished element is
released at once. Only a few XCCDF elements (a Rule, a Value, a rule-result) are kept
whole until their end tag, because their content is read there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator

from lxml import etree

from core import safexml
from core.domain import limits as limits_
from core.domain.models import RESULT_VALUES, SEVERITIES, RuleInfo, RuleResult
from core.results import references as refs_

XCCDF_NS_PREFIX = "{http://checklists.nist.gov/xccdf/"  # 1.2, and 1.1 costs nothing
SH_FIX_SYSTEM = "urn:xccdf:fix:script:sh"

# <sub idref=X/> becomes this marker while converting; Values may be defined after the
# Rule that uses them, so markers are resolved once the whole Benchmark has been read.
_SUB_OPEN, _SUB_CLOSE = "\ue000", "\ue001"
SUB_RE = re.compile(f"{_SUB_OPEN}([^{_SUB_CLOSE}]*){_SUB_CLOSE}")
# Layout markers used by the Markdown conversion (never present in real text).
_BR, _PARA, _INDENT, _BLOCK = "\x01", "\x02", "\x03", "\x04"
_BLOCK_RE = re.compile(f"{_BLOCK}(\\d+){_BLOCK}")
_SPACE_RE = re.compile(r"[ \t\r\n]+")
_BLOCK_TAGS = frozenset({"p", "div", "ul", "ol", "table", "tr", "blockquote", "h1", "h2", "h3", "h4"})


@dataclass(frozen=True)
class TestResultData:
    __test__ = False  # not a pytest test class despite the name

    test_result_id: str
    benchmark_id: str | None
    benchmark_version: str | None
    profile_id: str | None
    start_time: str | None
    end_time: str | None
    target: str | None
    target_addresses: tuple[str, ...]
    results: tuple[RuleResult, ...]
    has_benchmark: bool


# --------------------------------------------------------------------------- streaming

def xccdf_name(element: etree._Element) -> str | None:
    """Local name of an XCCDF element, None for anything else (OVAL, ARF, XHTML...)."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith(XCCDF_NS_PREFIX):
        return tag.rpartition("}")[2]
    return None


def stream(source: safexml.Source, keep: frozenset[str], limit: int | None = None) -> Iterator[tuple[str, str, etree._Element]]:
    """Yield (event, local name, element) for XCCDF elements, releasing as we go.

    Elements named in `keep` are handed over whole at their end event (their
    children are not reported separately); everything else, XCCDF or not, is
    released as soon as it ends, so memory stays flat whatever the file holds.
    A kept element may hold at most limits.children elements (a real rule-result
    or Rule holds a few dozen; a bomb holds millions).
    """
    bounds = limits_.current()
    held: etree._Element | None = None
    inside = text = 0
    prefix = XCCDF_NS_PREFIX
    # The hot loop of every read (an ARF is 100,000 elements, each a start and an end): xccdf_name
    # and safexml.release inlined, the same checks in the same order.
    for event, element in safexml.iterparse(source, limit=limit):
        if held is not None and element is not held:
            if event == "start":
                inside += 1
                previous = element.getprevious()
                text += len(previous.tail or "") if previous is not None else len(element.getparent().text or "")
            else:
                text += len(element.text or "")
            if inside > bounds.children or text > bounds.element_bytes:
                raise safexml.XmlError(
                    f"one {xccdf_name(held) or 'kept'} element holds more than {bounds.children:,} elements "
                    f"or {limits_.size(bounds.element_bytes)} of text; refusing the file")
            continue  # inside a kept element: read whole at its end
        tag = element.tag
        name = tag.rpartition("}")[2] if tag.__class__ is str and tag.startswith(prefix) else None
        if event == "start":
            if name is not None:
                if name in keep:
                    held, inside, text = element, 0, 0
                yield event, name, element
            continue
        if name is not None:
            yield event, name, element
        held = None
        element.clear(keep_tail=False)  # safexml.release
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]


def text_of(element: etree._Element) -> str:
    """Character data of an element, entity references dropped (never expanded)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


# --------------------------------------------------------------------------- results

# Read whole at their end tag (released children would lose their text and tails).
_RESULT_KEEP = frozenset({"rule-result", "target", "target-address", "version"})


def read_test_results(source: safexml.Source, limit: int | None = None) -> list[TestResultData]:
    """One TestResultData per XCCDF TestResult in an ARF or plain XCCDF results file; limit:
    the most bytes of XML to read (default limits.xml_bytes)."""
    bounds = limits_.current()
    stored = 0  # rule results kept from the whole file
    found: list[dict[str, Any]] = []  # _start_test_result()s
    benchmarks: list[str | None] = []  # ids of the Benchmarks we are inside
    seen_benchmarks: list[str | None] = []
    versions: dict[str | None, str] = {}
    current: dict[str, Any] | None = None
    for event, name, element in stream(source, _RESULT_KEEP, limit):
        if event == "start":
            if name == "Benchmark":
                benchmarks.append(element.get("id"))
                seen_benchmarks.append(element.get("id"))
            elif name == "TestResult":
                if len(found) >= bounds.test_results:
                    raise safexml.XmlError(f"more than {bounds.test_results} TestResults in one file; "
                                           "split it, or raise the test_results limit")
                current = _start_test_result(element, benchmarks[-1] if benchmarks else None)
            continue
        if name == "Benchmark":
            benchmarks.pop()
        elif name == "version" and _parent_name(element) == "Benchmark":
            versions[benchmarks[-1] if benchmarks else None] = text_of(element).strip()
        elif current is None:
            continue
        elif name == "TestResult":
            found.append(current)
            current = None
        elif _parent_name(element) == "TestResult":
            if name == "rule-result":
                stored += 1
                if len(current["results"]) >= bounds.rule_results or stored > bounds.file_rule_results:
                    raise safexml.XmlError(
                        f"TestResult {current['id']!r} holds more rule results than any benchmark has "
                        f"(limit {bounds.rule_results:,} per TestResult, {bounds.file_rule_results:,} per file)")
            _read_test_result_child(current, name, element)
    if not found:
        raise safexml.XmlError("not SCAP results: no XCCDF TestResult found")
    return [_finish_test_result(d, versions, seen_benchmarks) for d in found]


def _parent_name(element: etree._Element) -> str | None:
    parent = element.getparent()
    return None if parent is None else xccdf_name(parent)


def _start_test_result(element: etree._Element, enclosing_benchmark: str | None) -> dict[str, Any]:
    """A TestResult while it is read: what _finish_test_result makes a TestResultData of."""
    test_result_id = element.get("id")
    if not test_result_id:
        raise safexml.XmlError("XCCDF TestResult without an id")
    return {
        "id": test_result_id,
        "benchmark_id": enclosing_benchmark,
        "version": element.get("version"),  # XCCDF: copied from the Benchmark
        "profile_id": None,
        "start_time": element.get("start-time"),
        "end_time": element.get("end-time"),
        "target": None,
        "addresses": [],
        "results": [],
    }


def _read_test_result_child(data: dict[str, Any], name: str, element: etree._Element) -> None:
    if name == "rule-result":
        data["results"].append(_rule_result(element))
    elif name == "benchmark":
        data["benchmark_id"] = element.get("id") or data["benchmark_id"]
    elif name == "profile":
        data["profile_id"] = element.get("idref")
    elif name == "target" and data["target"] is None:
        data["target"] = text_of(element).strip() or None
    elif name == "target-address":
        address = text_of(element).strip()
        if address:
            data["addresses"].append(address)


def _rule_result(element: etree._Element) -> RuleResult:
    rule_id = element.get("idref")
    if not rule_id:
        raise safexml.XmlError("XCCDF rule-result without an idref")
    result_element = next((c for c in element if xccdf_name(c) == "result"), None)
    if result_element is None:
        raise safexml.XmlError(f"rule-result for {rule_id} has no result")
    result = text_of(result_element).strip()
    if result not in RESULT_VALUES:
        raise safexml.XmlError(f"unknown XCCDF result value {result!r} for {rule_id}")
    return RuleResult(rule_id=rule_id, result=result, severity=_severity(element))


def _severity(element: etree._Element) -> str:
    severity = element.get("severity", "unknown")
    return severity if severity in SEVERITIES else "unknown"


def _finish_test_result(data: dict[str, Any], versions: dict[str | None, str],
                        benchmark_ids: list[str | None]) -> TestResultData:
    benchmark_id = data["benchmark_id"]
    if benchmark_id is None and len(benchmark_ids) == 1:
        benchmark_id = benchmark_ids[0]  # the file's only Benchmark
    return TestResultData(
        test_result_id=data["id"],
        benchmark_id=benchmark_id,
        benchmark_version=versions.get(benchmark_id) or data["version"],
        profile_id=data["profile_id"],
        start_time=data["start_time"],
        end_time=data["end_time"],
        target=data["target"],
        target_addresses=tuple(data["addresses"]),
        results=tuple(data["results"]),
        has_benchmark=bool(benchmark_ids),
    )


def count_results(results: Iterable[RuleResult]) -> dict[str, int]:
    """Result value -> count, in the order reports list the values."""
    counts = Counter(r.result for r in results)
    ordered = {value: counts.pop(value) for value in RESULT_VALUES if value in counts}
    ordered.update(counts)  # values outside XCCDF cannot come from read_test_results
    return ordered


# A rule checked more than once (multi-check) gets the verdict of its worst check.
_SEVERITY_OF_RESULT = ("fail", "error", "unknown", "fixed", "pass", "informational",
                       "notchecked", "notapplicable", "notselected")


def merge_duplicates(results: Iterable[RuleResult]) -> list[RuleResult]:
    """One result per rule id, in first-seen order."""
    merged: dict[str, RuleResult] = {}
    for result in results:
        seen = merged.get(result.rule_id)
        if seen is None or (_SEVERITY_OF_RESULT.index(result.result)
                            < _SEVERITY_OF_RESULT.index(seen.result)):
            merged[result.rule_id] = result
    return list(merged.values())


# --------------------------------------------------------------------------- rules

def read_rules(source: safexml.Source, rule_ids: set[str] | None = None) -> dict[str, RuleInfo]:
    """Rule metadata from the Benchmark in a datastream, an ARF or an XCCDF file."""
    bounds = limits_.current()
    rules: dict[str, dict[str, str]] = {}
    cited: dict[str, list[tuple[str, bool, str]]] = {}  # rule id -> (href or ident system, ident?, text)
    ref_names: dict[str, str] = {}  # the Benchmark's own names of reference URLs: href -> "nist"
    values: dict[str, str] = {}
    kept = 0  # characters of text kept: a hostile file cannot make us hold gigabytes of it
    seen_benchmark = False
    keep = frozenset({"Rule", "Value", "plain-text"})
    for event, name, element in stream(source, keep):
        if event == "start":
            seen_benchmark = seen_benchmark or name == "Benchmark"
            continue
        if name == "Rule":
            rule_id = element.get("id")
            if rule_id and (rule_ids is None or rule_id in rule_ids):
                rules[rule_id] = _rule_fields(element)
                cited[rule_id] = _rule_references(element)
                kept += sum(map(len, rules[rule_id].values())) + sum(len(t) + len(h) for h, _, t in cited[rule_id])
                if len(rules) > bounds.rules:
                    raise safexml.XmlError(f"the benchmark describes more than {bounds.rules:,} rules; refusing it")
        elif name == "Value":
            _read_value(element, values)
            kept += len(values.get(element.get("id") or "", ""))
        elif name == "reference" and _parent_name(element) == "Benchmark" and len(ref_names) < 200:
            ref_names[element.get("href", "")] = text_of(element).strip()
        elif name == "plain-text" and element.get("id"):
            values[element.get("id")] = text_of(element)
            kept += len(values[element.get("id")])
        if kept > bounds.rule_text_bytes or len(values) > bounds.rules * 4:
            raise safexml.XmlError("the benchmark's rule texts are larger than any real benchmark's; refusing them")
    if not seen_benchmark:
        raise safexml.XmlError("no XCCDF Benchmark found")
    return {rid: replace(_resolve_rule(rid, fields, values), references=_resolve_references(cited[rid], ref_names))
            for rid, fields in rules.items()}


def _read_value(element: etree._Element, values: dict[str, str]) -> None:
    """Record the Value's default: the <value> without a selector, else the first one
    (what oscap itself substitutes, e.g. var_removable_partition in RHEL content)."""
    value_id = element.get("id")
    choices = [c for c in element if xccdf_name(c) == "value"]
    if not value_id or not choices:
        return
    default = next((c for c in choices if not c.get("selector")), choices[0])
    values[value_id] = text_of(default)


def _rule_fields(rule: etree._Element) -> dict[str, str]:
    fields = {"severity": _severity(rule)}
    for child in rule:
        name = xccdf_name(child)
        if name in ("title", "description", "rationale", "fixtext") and name not in fields:
            fields[name] = to_markdown(child) if name != "title" else _inline_text(child)
        elif name == "fix" and child.get("system") == SH_FIX_SYSTEM and "fix_script" not in fields:
            fields["fix_script"] = raw_text(child).strip()
    return fields


def _rule_references(rule: etree._Element) -> list[tuple[str, bool, str]]:
    found: list[tuple[str, bool, str]] = []
    for child in rule:
        name = xccdf_name(child)
        if name in ("reference", "ident") and len(found) < refs_.MAX_REFS_PER_RULE:
            found.append((child.get("system" if name == "ident" else "href", ""), name == "ident",
                          text_of(child)[:refs_.MAX_REF_CHARS * 2]))
    return found


def _resolve_references(cited: list[tuple[str, bool, str]], names: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(system, id) pairs of the systems we know, each once, in the order the rule cites them."""
    found: dict[tuple[str, str], None] = {}
    for where, is_ident, text in cited:
        system = refs_.ident_system(where) if is_ident else refs_.system_of(where, names)
        ref = refs_.clean_ref(text)
        if system and ref:
            found[(system, ref)] = None
    return tuple(found)


def _resolve_rule(rule_id: str, fields: dict[str, str], values: dict[str, str]) -> RuleInfo:
    def substitute(text: str) -> str:
        return SUB_RE.sub(lambda m: values.get(m.group(1), f"<{m.group(1)}>"), text)

    resolved = {key: substitute(text) for key, text in fields.items()}
    return RuleInfo(rule_id, resolved.get("title", ""), resolved.get("severity", "unknown"),
                    resolved.get("description", ""), resolved.get("rationale", ""), resolved.get("fixtext", ""),
                    resolved.get("fix_script", ""))


# --------------------------------------------------------------------------- text

def _html_name(element: etree._Element) -> str:
    """Local name of an XHTML (or any non-XCCDF) element; '' for entity nodes."""
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""


def _is_sub(element: etree._Element) -> bool:
    return xccdf_name(element) == "sub"


def _sub_marker(element: etree._Element) -> str:
    return f"{_SUB_OPEN}{element.get('idref', '')}{_SUB_CLOSE}"


def raw_text(element: etree._Element) -> str:
    """Verbatim text (scripts, <pre>): subs become markers, <br> a newline, entities vanish."""
    parts = [element.text or ""]
    for child in element:
        if _is_sub(child):
            parts.append(_sub_marker(child))
        elif _html_name(child) == "br":
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(raw_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _inline_text(element: etree._Element) -> str:
    return _SPACE_RE.sub(" ", raw_text(element)).strip()


def to_markdown(element: etree._Element) -> str:
    """XCCDF text with XHTML markup -> light Markdown (see module tests for the rules)."""
    blocks: list[str] = []
    flat = _SPACE_RE.sub(" ", "".join(_md_parts(element, blocks, 0)))
    paragraphs = []
    for para in flat.split(_PARA):
        lines = [line.strip().replace(_INDENT, "  ") for line in para.split(_BR)]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    out = "\n\n".join(paragraphs)
    return _BLOCK_RE.sub(lambda m: blocks[int(m.group(1))], out)


def _md_parts(element: etree._Element, blocks: list[str], depth: int) -> list[str]:
    parts = [element.text or ""]
    for child in element:
        parts.extend(_md_child(child, blocks, depth))
        parts.append(child.tail or "")
    return parts


def _md_child(child: etree._Element, blocks: list[str], depth: int) -> list[str]:
    if not isinstance(child.tag, str):
        return []  # unexpanded entity reference: dropped, never expanded
    if _is_sub(child):
        return [_sub_marker(child)]
    name = _html_name(child)
    if name == "br":
        return [_BR]
    if name == "pre" or (name in ("code", "tt") and "\n" in raw_text(child).strip()):
        return _fenced(raw_text(child), blocks)
    if name in ("code", "tt"):
        return [_backticks(_inline_text(child))]
    inner = _md_parts(child, blocks, depth + (name in ("ul", "ol")))
    if name in ("ul", "ol") and depth:
        return [_BR, *inner, _BR]  # a nested list stays inside its item
    if name in ("strong", "b"):
        return ["**", *inner, "**"]
    if name in ("em", "i"):
        return ["*", *inner, "*"]
    if name == "li":
        return [_BR, _INDENT * max(depth - 1, 0), "- ", *inner, _BR]
    if name == "a" and child.get("href") and _inline_text(child) != child.get("href"):
        return ["[", *inner, f"]({child.get('href')})"]
    if name in _BLOCK_TAGS:
        return [_PARA, *inner, _PARA]
    return inner


def _fenced(text: str, blocks: list[str]) -> list[str]:
    """Park a verbatim block outside the text so whitespace folding cannot touch it."""
    body = "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    fence = "~~~" if "```" in body else "```"
    blocks.append(f"{fence}\n{body}\n{fence}")
    return [_PARA, f"{_BLOCK}{len(blocks) - 1}{_BLOCK}", _PARA]


def _backticks(text: str) -> str:
    if not text:
        return ""
    return f"`` {text} ``" if "`" in text else f"`{text}`"
