"""Documented exceptions: their life (request, approve or reject by a second person, revoke;
expiry is read from the date), list, remove, and export as an XCCDF 1.2 tailoring that switches
the rules off, for sites that hand tailoring files to other tools.

Each step of the life is one small function (request_exception, approve_exception,
reject_exception, revoke_exception), the one place that acts, for the CLI and the TUI alike.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path

from lxml import etree

from core.audit.log import actor, record  # who acts: user@host, as the OS says (not an authentication)
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


def two_person(workspace: Workspace) -> bool:
    return workspace.settings.exceptions.two_person


async def request_exception(workspace: Workspace, *, rule: str, reason: str, expires: str,
                            host: str | None = None, tag: str | None = None, all_hosts: bool = False,
                            on: date | None = None, by: str | None = None) -> RuleException:
    """A pending exception: recorded, changes no score until someone approves it."""
    exc = await _checked(workspace, rule=rule, reason=reason, expires=expires, host=host, tag=tag,
                         all_hosts=all_hosts, on=on, by=by or actor())
    return await _logged(workspace, "exception.added", await workspace.store.add_exception(exc))


async def add_exception(workspace: Workspace, *, rule: str, reason: str, expires: str,
                        host: str | None = None, tag: str | None = None, all_hosts: bool = False,
                        on: date | None = None, by: str | None = None) -> RuleException:
    """`exceptions add`: with the two-person rule (the default) a request like any other;
    without it, approved by whoever adds it, at once."""
    if two_person(workspace):
        return await request_exception(workspace, rule=rule, reason=reason, expires=expires, host=host, tag=tag,
                                       all_hosts=all_hosts, on=on, by=by)
    who = by or actor()
    exc = await _checked(workspace, rule=rule, reason=reason, expires=expires, host=host, tag=tag,
                         all_hosts=all_hosts, on=on, by=who)
    return await _logged(workspace, "exception.added",
                         await workspace.store.add_exception(replace(exc, status="approved", decided_by=who)))


async def _checked(workspace: Workspace, *, rule: str, reason: str, expires: str, host: str | None,
                   tag: str | None, all_hosts: bool, on: date | None, by: str) -> RuleException:
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
    return RuleException(scope, rule_id, reason, by, day.isoformat(),
                         host=host, tag=check_tag(tag.strip().lower()) if tag else None)


def _note(note: str | None) -> str | None:
    return one_line(note, MAX_REASON) or None if note else None


def person(who: str) -> str:
    """The login name of user@host: alice at two jump hosts sharing a store is one person, so the
    two-person rule compares login names (a shared account, such as root, cannot approve its own)."""
    return who.rpartition("@")[0] or who


def require_second_person(workspace: Workspace, exc: RuleException, who: str, doing: str) -> None:
    """The two-person rule: InvalidInput when who requested exc and the rule is on."""
    if two_person(workspace) and person(exc.requested_by) == person(who):
        raise InvalidInput(f"{who} requested exception {exc.short_id} and cannot {doing} it too: the two-person "
                            "rule needs someone else ([exceptions] two_person = false switches it off)")


async def approve_exception(workspace: Workspace, exc_id: str, note: str | None = None,
                            by: str | None = None, on: date | None = None) -> RuleException:
    """A pending exception takes effect: from now on it changes scores, until it expires."""
    who, exc = by or actor(), await workspace.store.get_exception(exc_id)
    require_second_person(workspace, exc, who, "approve")
    if exc.status == "pending" and exc.expired(on or today()):
        raise InvalidInput(f"exception {exc.short_id} expired on {exc.expires} before anyone approved it: "
                           "reject it, and request it again with a new expiry")
    return await _logged(workspace, "exception.approved",
                         await workspace.store.decide_exception(exc.id or exc_id, "approved", who, _note(note)))


async def reject_exception(workspace: Workspace, exc_id: str, note: str | None = None,
                           by: str | None = None) -> RuleException:
    """A pending exception refused: it stays on record and never changes a score."""
    who, exc = by or actor(), await workspace.store.get_exception(exc_id)
    require_second_person(workspace, exc, who, "reject")
    return await _logged(workspace, "exception.rejected",
                         await workspace.store.decide_exception(exc.id or exc_id, "rejected", who, _note(note)))


async def revoke_exception(workspace: Workspace, exc_id: str, note: str | None = None,
                           by: str | None = None) -> RuleException:
    """An approved exception withdrawn before its expiry: its rule counts as failing again.
    Anyone may revoke (it makes the score stricter)."""
    return await _logged(workspace, "exception.revoked",
                         await workspace.store.revoke_exception(exc_id, by or actor(), _note(note)))


def audited(exc: RuleException) -> dict[str, str | None]:
    """What the action log says of an exception."""
    return {"rule": exc.rule_id, "scope": exc.scope_text(), "reason": exc.reason, "status": exc.status,
            "requested_by": exc.requested_by, "accepted_by": exc.accepted_by or None, "expires": exc.expires,
            "note": exc.revoke_note if exc.status == "revoked" else exc.decision_note}


async def _logged(workspace: Workspace, action: str, exc: RuleException) -> RuleException:
    """exc as stored, once its step is in the action log."""
    await record(workspace, action, exc.id or "", audited(exc))
    return exc


async def log_expired(workspace: Workspace, on: date | None = None) -> int:
    """Each approved exception past its day logged once as exception.expired (its rule counts as
    failing again from then on, as scores are read); how many were new. The worker looks hourly."""
    on = on or today()
    logged = 0
    for exc in await workspace.store.find_exceptions():
        if exc.id and exc.status == "approved" and exc.expired(on) and not \
                await workspace.store.audit_entries(subject=exc.id, action="exception.expired", limit=1):
            await record(workspace, "exception.expired", exc.id, audited(exc))
            logged += 1
    return logged


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
    """Deleted from the store, the action log keeping that it was (revoke keeps the record)."""
    return await _logged(workspace, "exception.removed", await workspace.store.remove_exception(exc_id))


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
    unapproved = next((e for e in chosen if e.status != "approved"), None)
    if unapproved is not None:  # a tailoring would switch the rule off without the approval
        raise InvalidInput(f"exception {unapproved.short_id} is {unapproved.status}: only approved exceptions "
                           "are exported")
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


async def list_exceptions(workspace: Workspace, status: str | None = None) -> list[RuleException]:
    """Every exception (or those of one status), oldest first; RuleException.state(today) says
    what each does now."""
    return await workspace.store.find_exceptions(status)
