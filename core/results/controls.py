"""A scan's results by control: each control of one reference system with its rules and a status.

The references come from the store (kept with the rule texts when the content was first stored);
content stored before they were kept has them read once from a scan's evidence (its ARF embeds
the benchmark). When neither exists (evidence pruned) the view says so instead of guessing.

Status of a control, from the rules of the scan that cite it (rules the profile did not select
count for nothing):
  met             every rule with a verdict passes
  not met         rules fail and none passes
  partly          some pass, others fail or could not be checked
  not applicable  every rule is notapplicable
  not checked     no rule failed or passed (error, unknown, notchecked, informational)
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core import safexml
from core.domain.models import RuleInfo, RuleResult, Scan
from core.results import xccdf
from core.results.references import System, system_named

if TYPE_CHECKING:
    from core.store.base import Store

log = logging.getLogger(__name__)

MET, NOT_MET, PARTLY, NOT_APPLICABLE, NOT_CHECKED = "met", "not met", "partly", "not applicable", "not checked"
STATUSES = (NOT_MET, PARTLY, NOT_CHECKED, MET, NOT_APPLICABLE)  # the order a view lists them in
PASSED = frozenset({"pass", "fixed"})
FAILED = frozenset({"fail"})
UNSELECTED = frozenset({"notselected"})


@dataclass(frozen=True)
class Control:
    ref: str  # the control's id as the content writes it: AC-6(2), UBTU-22-255045, Req-2.2.4
    status: str
    rules: tuple[RuleResult, ...]

    def count(self, results: frozenset[str]) -> int:
        return sum(r.result in results for r in self.rules)

    @property
    def passed(self) -> int:
        return self.count(PASSED)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    @property
    def other(self) -> int:
        return len(self.rules) - self.passed - self.failed


@dataclass(frozen=True)
class ControlView:
    system: System
    controls: tuple[Control, ...] = ()
    unmapped: tuple[RuleResult, ...] = ()  # rules of the scan that cite nothing of this system
    unavailable: str | None = None  # why there is no view (references unknown), else None
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if self.unavailable:
            return f"{self.system.title}: unavailable ({self.unavailable})"
        counts = ", ".join(f"{self.statuses[s]} {s}" for s in STATUSES if self.statuses.get(s))
        return f"{self.system.title}: {len(self.controls)} controls ({counts or 'none'})"


def status_of(results: list[RuleResult] | tuple[RuleResult, ...]) -> str:
    values = {r.result for r in results if r.result not in UNSELECTED}
    passed, failed = bool(values & PASSED), bool(values & FAILED)
    unchecked = bool(values - PASSED - FAILED - {"notapplicable"})
    if passed and not failed and not unchecked:
        return MET
    if passed:
        return PARTLY
    if failed:
        return NOT_MET
    return NOT_CHECKED if unchecked else NOT_APPLICABLE


def control_order(ref: str) -> tuple[tuple[int, object], ...]:
    """AC-2 before AC-10, 1.2 before 1.10: numbers compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in re.findall(r"\d+|\D+", ref))


def group(system: System, results: list[RuleResult], references: dict[str, list[str]]) -> ControlView:
    """Pure: the scan's selected rule results grouped by the controls they cite."""
    by_control: dict[str, list[RuleResult]] = {}
    unmapped = []
    for result in results:
        if result.result in UNSELECTED:
            continue
        cited = references.get(result.rule_id, [])
        for ref in cited:
            by_control.setdefault(ref, []).append(result)
        if not cited:
            unmapped.append(result)
    controls = tuple(Control(ref, status_of(rules), tuple(rules))
                     for ref, rules in sorted(by_control.items(), key=lambda item: control_order(item[0])))
    statuses: dict[str, int] = {}
    for control in controls:
        statuses[control.status] = statuses.get(control.status, 0) + 1
    return ControlView(system, controls, tuple(unmapped), None, statuses)


async def control_view(store: Store, scan: Scan, system_name: str,
                       results: list[RuleResult] | None = None) -> ControlView:
    """The scan's view by one system (results: the scan's, with exceptions, when the caller has them)."""
    from core.views.exceptions import results_with_exceptions

    system = system_named(system_name)
    if results is None:
        results = await results_with_exceptions(store, scan, None, order="rule")
    references, why = await scan_references(store, scan, system.name)
    if references is None:
        return ControlView(system, unavailable=why)
    return group(system, results, references)


async def scan_references(store: Store, scan: Scan, system: str) -> tuple[dict[str, list[str]] | None, str]:
    """Rule id -> the ids it cites in one system, or (None, why they are unknown)."""
    if not scan.content_id:
        return None, "the scan names no content to read rule references from"
    if await store.references_read(scan.content_id):
        return await store.rule_references(scan.content_id, system), ""
    rules = await _rules_from_evidence(scan)
    if rules is None:
        return None, ("its content was stored before rule references were kept and its evidence "
                      "is gone; a new scan of the profile has them")
    if await store.get_content(scan.content_id) is not None:
        await store.save_references(scan.content_id, rules.values())  # once: every later view reads the store
    return {rid: [ref for s, ref in info.references if s == system] for rid, info in rules.items()
            if any(s == system for s, _ in info.references)}, ""


async def _rules_from_evidence(scan: Scan) -> dict[str, RuleInfo] | None:
    if not scan.arf_path or not Path(scan.arf_path).is_file():
        return None
    try:
        return await asyncio.to_thread(xccdf.read_rules, scan.arf_path)
    except (safexml.XmlError, OSError) as exc:
        log.warning("%s: cannot read rule references from the evidence: %s", scan.short_id, exc)
        return None
