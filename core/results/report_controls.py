"""The HTML report's section of results by control (report --by SYSTEM): one table row per
control of the chosen reference system, with its status and its rules. Every text goes in as
element text (escaped on output); class names come from known words only."""

from __future__ import annotations

from lxml import etree
from lxml.html import builder as E

from core.domain.models import RESULT_VALUES, RuleResult
from core.results.controls import STATUSES, ControlView
from core.results.report_markup import clean

_STATUS_CLASS = {status: status.replace(" ", "-") for status in STATUSES}


def controls_section(view: ControlView) -> etree._Element:
    heading = E.H2(clean(f"By control: {view.system.title}"))
    if view.unavailable:
        return E.SECTION(heading, E.P(clean(f"Unavailable: {view.unavailable}."), E.CLASS("hint")), id="controls")
    rows = [E.TR(E.TD(E.CODE(clean(c.ref))), E.TD(clean(c.status), E.CLASS(f"ctl ctl-{_STATUS_CLASS[c.status]}")),
                 E.TD(str(c.passed)), E.TD(str(c.failed)), E.TD(str(c.other)),
                 E.TD(*_rule_list(c.rules), E.CLASS("rid")))
            for c in view.controls]
    return E.SECTION(
        heading,
        E.P(clean(f"{view.summary}. A control is met when every rule of this scan that cites it passes, "
                  f"not met when they fail and none passes, partly otherwise; {len(view.unmapped)} rule(s) "
                  "of the scan cite no control of this system."), E.CLASS("hint")),
        E.TABLE(E.THEAD(E.TR(E.TH("Control"), E.TH("Status"), E.TH("Passed"), E.TH("Failed"), E.TH("Other"),
                             E.TH("Rules"))),
                E.TBODY(*rows), E.CLASS("list compact")),
        id="controls",
    )


def _rule_list(rules: tuple[RuleResult, ...]) -> list[etree._Element]:
    """Each rule with its result (results are XCCDF's own words: the reader refuses others)."""
    return [E.DIV(E.CODE(clean(rule.rule_id.removeprefix("xccdf_org.ssgproject.content_rule_"))),
                  clean(f" {rule.result}" + (" (excepted)" if rule.exception else "")),
                  E.CLASS(f"res r-{rule.result if rule.result in RESULT_VALUES else 'other'}"))
            for rule in rules]
