"""Documented exceptions: add (who accepted it is the login name), list, remove, and export
as an XCCDF 1.2 tailoring that switches the rules off, for sites that hand tailoring files
to other tools.
"""

from __future__ import annotations

import asyncio
import getpass
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from lxml import etree

from core.audit.log import record
from core.content import rule_lookup
from core.domain.errors import InvalidInput
from core.domain.models import ScanStatus
from core.domain.policy import (
    MAX_REASON,
    SCOPES,
    SSG_RULE_PREFIX,
    RuleException,
    check_tag,
    full_rule_id,
    parse_day,
)
from core.domain.text import one_line
from core.results.exports import write_atomically
from core.views.exceptions import today
from core.workspace import Workspace

XCCDF = "http://checklists.nist.gov/xccdf/1.2"
PROFILE_PREFIX = "xccdf_org.ssgproject.content_profile_"


def accepted_by() -> str:
    """The login name of whoever accepts the exception."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME (a bare container)
        return "unknown"


async def add_exception(workspace: Workspace, *, rule: str, reason: str, expires: str,
                        host: str | None = None, tag: str | None = None, all_hosts: bool = False,
                        on: date | None = None) -> RuleException:
    given = sum(bool(x) for x in (host, tag, all_hosts))
    if given != 1:
        raise InvalidInput("give the exception's scope: --host NAME, --tag TAG or --all")
    scope = SCOPES[[bool(host), bool(tag), all_hosts].index(True)]
    reason = one_line(reason or "", MAX_REASON)
    if len(reason) < 3:
        raise InvalidInput("give the business reason with --reason TEXT (at least 3 characters)")
    day = parse_day(expires)
    if day < (on or today()):
        raise InvalidInput(f"expiry {day} is in the past: give a date from today on")
    if host:
        await workspace.store.require_host(host)
    rule_id = await known_rule(workspace, full_rule_id(rule))
    exc = RuleException(scope, rule_id, reason, accepted_by(), day.isoformat(),
                        host=host, tag=check_tag(tag.strip().lower()) if tag else None)
    added = await workspace.store.add_exception(exc)
    await record(workspace, "exception.added", added.id or "", audited(added))
    return added


def audited(exc: RuleException) -> dict[str, str]:
    """What the log says of an exception (the lead's approval steps may reuse it)."""
    return {"rule": exc.rule_id, "scope": exc.scope_text(), "reason": exc.reason, "accepted_by": exc.accepted_by,
            "expires": exc.expires}


async def known_rule(workspace: Workspace, rule_id: str) -> str:
    """The rule id, when a stored scan or installed content knows it: a typo would accept nothing."""
    if await workspace.store.rule_titles([rule_id]) or await workspace.store.failing_results_since(None, [rule_id]):
        return rule_id
    paths = [d.path for d in await workspace.datastreams()]
    if await asyncio.to_thread(rule_lookup.any_defines_rule, paths, rule_id):
        return rule_id
    raise InvalidInput(f"unknown rule {rule_id.removeprefix(SSG_RULE_PREFIX)}: no stored scan and no installed "
                       "datastream has it; check the id (`compliance-tui results SCAN_ID` lists a scan's rules)")


async def remove_exception(workspace: Workspace, exc_id: str) -> RuleException:
    removed = await workspace.store.remove_exception(exc_id)
    await record(workspace, "exception.removed", removed.id or "", audited(removed))
    return removed


@dataclass(frozen=True)
class Base:
    """What a tailoring extends: the benchmark's profile and its datastream file."""

    profile_id: str
    datastream: str | None


async def _base_for(workspace: Workspace, chosen: list[RuleException]) -> Base:
    """The profile of the newest completed scan that evaluated one of these rules on a host
    they cover."""
    hosts = {h.name: h for h in await workspace.store.find_hosts()}
    for scan in await workspace.store.find_scans(status=ScanStatus.COMPLETED.value, limit=200):
        host = hosts.get(scan.host_name)
        if host is None or not scan.profile_id:
            continue
        rules = {e.rule_id for e in chosen if e.covers(host.name, host.tags)}
        if rules and any(r.rule_id in rules for r in await workspace.store.rule_results(scan.id)):
            return Base(scan.base_profile_id or scan.profile_id, scan.content_file)
    raise InvalidInput("no completed scan evaluated these rules: give the profile to extend with "
                       "--profile XCCDF_PROFILE_ID")


def tailoring_xml(chosen: list[RuleException], base: Base, now: datetime | None = None) -> bytes:
    """An XCCDF 1.2 Tailoring whose one profile extends base and deselects each rule, with
    the exception's reason, who accepted it and its expiry as the selection's remark."""
    now = now or datetime.now(timezone.utc)
    x = f"{{{XCCDF}}}"
    root = etree.Element(x + "Tailoring", nsmap={"xccdf": XCCDF},
                         id="xccdf_compliance-tui_tailoring_exceptions")
    if base.datastream:
        etree.SubElement(root, x + "benchmark", href=base.datastream)
    version = etree.SubElement(root, x + "version", time=now.strftime("%Y-%m-%dT%H:%M:%S"))
    version.text = "1"
    suffix = base.profile_id.removeprefix(PROFILE_PREFIX).rpartition("_profile_")[2] or "profile"
    profile = etree.SubElement(root, x + "Profile", id=f"xccdf_compliance-tui_profile_{suffix}_exceptions",
                               extends=base.profile_id)
    etree.SubElement(profile, x + "title").text = f"{suffix} with documented exceptions"
    etree.SubElement(profile, x + "description").text = (
        "Rules switched off by exceptions accepted in compliance-tui: " + ", ".join(
            sorted({e.short_id for e in chosen})))
    for exc in sorted(chosen, key=lambda e: e.rule_id):
        select = etree.SubElement(profile, x + "select", idref=exc.rule_id, selected="false")
        etree.SubElement(select, x + "remark").text = (
            f"{exc.reason} (accepted by {exc.accepted_by} for {exc.scope_text()}, until {exc.expires})")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


async def export_tailoring(workspace: Workspace, exc_ids: list[str], output: Path | None = None,
                           profile_id: str | None = None) -> Path:
    chosen = [await workspace.store.get_exception(i) for i in exc_ids]
    if not chosen:
        raise InvalidInput("give the ids of the exceptions to export (compliance-tui exceptions list)")
    if profile_id is not None and not profile_id.startswith("xccdf_"):
        raise InvalidInput(f"--profile {profile_id!r}: a tailoring extends an XCCDF profile id, "
                           "e.g. xccdf_org.ssgproject.content_profile_cis_level1_server")
    base = Base(profile_id, None) if profile_id else await _base_for(workspace, chosen)
    if profile_id:  # the datastream the newest scan of that profile used, when there is one
        scans = [s for s in await workspace.store.find_scans(status="completed", limit=200)
                 if (s.base_profile_id or s.profile_id) == profile_id]
        base = Base(profile_id, scans[0].content_file if scans else None)
    path = output or workspace.data_dir / "exports" / f"exceptions-{now_stamp()}.tailoring.xml"
    return write_atomically(path, tailoring_xml(chosen, base).decode("utf-8"))


def now_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


async def list_exceptions(workspace: Workspace) -> list[tuple[RuleException, bool]]:
    """Every exception with whether it has expired (expired ones count again)."""
    day = today()
    return [(e, e.expired(day)) for e in await workspace.store.find_exceptions()]
