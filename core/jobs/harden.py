"""One hardening job end to end, in this order, so that no fix can lock anyone out:

1. the fixes are rebuilt from the scan they answer (core/remediation/planning.py);
2. a fresh login is checked before anything changes (so a later failure is the fixes');
3. /etc is archived and the dead man's switch armed (core/remediation/safety.py);
4. each fix runs on its own through the open session, its exit status and output recorded;
   after each fix that can lock out (PAM, sshd, sudo, firewall, network), and after the
   last, a NEW SSH connection must log in and run `sudo -n true`;
5. all good: the switch is cancelled and checked gone, and the archive kept for a rollback
   after the fact ([remediation] keep_days) with the list of files the job changed; else /etc
   is restored through the open session (or by the switch, when the session died), a fresh
   login is checked again, and the job fails with "rolled back: <reason>". A switch that
   fired while the job ran (a heartbeat that could not get through) is seen at the next
   heartbeat: no fix runs after it, /etc is restored again, and the job says when and why;
6. the host is scanned again with the same content and profile, and each fixed rule's
   result before and after is recorded.
"""

from __future__ import annotations

import asyncio
import getpass
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

from core.audit.log import record
from core.domain.errors import ConnectionLost, OperatorError
from core.domain.models import Host
from core.domain.text import one_line
from core.domain.timeutil import to_iso
from core.jobs import queue
from core.jobs.context import JobContext
from core.jobs.scan import Content, probe_host, scan_on_host, store_results
from core.remediation import safety
from core.remediation.fixes import Fix, rule_part
from core.remediation.planning import FixRequest, load
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.targets.transport import Transport, shell_join

MAX_LISTED = 1000  # changed files recorded in a job's result (the target keeps the whole list)
PART_TIMEOUT = 900  # seconds one rule's fix may take (package installs included)

Login = Callable[[str], Awaitable[None]]  # checks a fresh login works, at a moment it names


class RolledBack(OperatorError):
    pass


class SwitchFired(OperatorError):
    pass



async def run_harden_job(ctx: JobContext) -> None:
    try:
        await _harden(ctx)
    except BaseException:
        then = ctx.job.params.get("then") or []
        if then:
            ctx.say(f"canary failed on {ctx.job.host_name}: the other {len(then)} host(s) were not touched: "
                    + ", ".join(f["host"] for f in then))
        raise


async def _harden(ctx: JobContext) -> None:
    workspace, job = ctx.workspace, ctx.job
    request = await load(workspace, job.params)
    host, plan = request.host, request.plan
    ctx.say(f"{len(plan.fixes)} fix(es) from {request.datastream.path.name} (SSG {request.datastream.version}), "
            f"values of {request.profile_id}; scan {request.scan.short_id} before")
    for unfixable in plan.missing:
        ctx.say(f"no automated fix: {unfixable.rule_id}")
    if not plan.fixes:
        raise OperatorError(f"{host.name}: none of the chosen rules has an automated fix; see their fix texts")
    grace = safety.check_grace(job.params.get("grace", safety.DEFAULT_GRACE))
    login = await _login_check(ctx, host, plan.locks_out)
    async with await connect(host) as transport:
        found = await probe_host(ctx, transport, host)
        run = Hardening(ctx, host, grace, safety.RootCommand(transport, sudo_for(host, found)), login)
        await run.prepare(plan.locks_out)
        failures: list[str] = []

        async def fixes() -> None:
            failures.extend(await run.apply(transport, plan.fixes))

        kept = await run.guarded(fixes)
        if failures:
            ctx.say(f"{len(failures)} fix(es) exited non-zero: {', '.join(failures)}")
        chosen, missing = [f.rule_id for f in plan.fixes], [m.rule_id for m in plan.missing]
        await record(workspace, "fix.applied", host.name, {
            "job": job.id, "rules": chosen, "exited_non_zero": failures,
            "changed_files": len(kept.get("changed_files", [])), "archive": kept.get("archive", {}).get("directory")})

        async def summary(scan_id: str, after: dict[str, str]) -> dict[str, Any]:
            fixed = [r for r in chosen if after.get(r) in ("pass", "fixed")]
            still = [r for r in chosen if r not in fixed]
            ctx.say(f"fixed {len(fixed)}, still failing {len(still)}, without fix {len(missing)}")
            return {"source_scan": request.scan.id, "rescan": scan_id, "fixed": fixed, "still_failing": still,
                    "without_fix": missing,
                    "rules": {r: {"before": "fail", "after": after.get(r, "notchecked")} for r in chosen + missing},
                    **kept, **await release_followers(ctx, failures)}  # before this job ends

        await rescan(ctx, transport, host, found, request, summary)


async def release_followers(ctx: JobContext, failures: list[str]) -> dict[str, Any]:
    """A canary's hosts to harden next: only once it passed (its fresh logins, its scan again,
    which got here, and every fix exiting 0). What the canary's result says of them."""
    then = ctx.job.params.get("then") or []
    if not then:
        return {}
    if failures:
        ctx.say(f"canary: {len(failures)} fix(es) exited non-zero on {ctx.job.host_name}, so the other "
                f"{len(then)} host(s) were not touched: {', '.join(f['host'] for f in then)}")
        return {"canary": "stopped", "followers": []}
    jobs = []
    for follower in then:
        host = await ctx.workspace.store.require_host(follower["host"])
        here = ctx.runner if ctx.job.params.get("here") else None  # where the canary ran (core/jobs/submit.py)
        jobs.append(await queue.create_harden(ctx.workspace, host, follower["params"], ctx.job.priority, here))
    ctx.say(f"canary passed on {ctx.job.host_name}: hardening the other {len(jobs)} host(s): "
            + ", ".join(f"{j.host_name} ({j.short_id})" for j in jobs))
    return {"canary": "passed", "followers": [j.id for j in jobs]}


class Hardening:
    """The state of one hardening run on its host: the root session, the switch, the login check."""

    def __init__(self, ctx: JobContext, host: Host, grace: int, root: safety.RootCommand, login: Login):
        self.ctx, self.host, self.grace = ctx, host, grace
        self.root = root  # the open session, as root
        self.login = login
        self.rollback: safety.Rollback | None = None
        self.directory: str | None = None  # the /etc archive on the target
        self.fired: safety.Fired | None = None  # the switch restored /etc while the job ran

    async def prepare(self, locks_out: bool) -> safety.Capabilities:
        """Root works; the switch is there when needed; a fresh login works; /etc archived, switch armed.
        Returns what the target has to do it with."""
        root, host = self.root, self.host
        result = await root.run("id -u", check=False, timeout=30)
        if result.exit_status != 0 or result.text.strip() != "0":
            raise OperatorError(f"{host.name}: sudo does not let this user run fixes as root (sh); hardening "
                                f"needs sudo rights beyond oscap: {one_line(result.stderr, 200) or 'refused'}")
        capabilities = await safety.capabilities(root)
        switch = capabilities.switch
        if switch is None and locks_out:
            raise OperatorError(f"{host.name}: no systemd-run, at or setsid to run a dead man's switch; refusing "
                                "fixes that change PAM, sshd, sudo, the firewall or the network")
        await self.login("before any change")
        for removed in await safety.clean(root, own=f"{safety.ROLLBACK_DIR}/{self.ctx.job.id}"):
            self.ctx.say(f"removed an /etc archive past its retention, or of a job that never finished: {removed}")
        directory = self.directory = await safety.snapshot(root, self.ctx.job.id, capabilities)
        self.ctx.say(f"archived /etc and the package list in {directory}")
        if switch:
            self.rollback = await safety.arm(root, directory, switch, self.grace, self.ctx.job.id)
            self.ctx.say(f"dead man's switch armed ({switch}): /etc is restored {self.grace} s after the "
                         "last heartbeat")
        return capabilities

    async def guarded(self, change: Callable[[], Awaitable[None]]) -> dict[str, Any]:
        """Run change under the switch, then a fresh login, and keep the archive (what finish()
        returns); a failure, a lost connection, a fired switch or a cancel rolls /etc back."""
        try:
            await change()
            await self.login("after the changes")
            return await self.finish()
        except RolledBack:
            raise
        except SwitchFired as exc:
            await self.roll_back(str(exc))
        except ConnectionLost as exc:
            await self.after_lost_connection(exc)
        except asyncio.CancelledError:
            try:  # cancelled by the operator: put /etc back, then end as cancelled
                await asyncio.shield(self.roll_back("the job was cancelled"))
            except (OperatorError, asyncio.CancelledError):
                pass
            raise
        except (OperatorError, TimeoutError) as exc:
            await self.roll_back(one_line(str(exc)) or "timed out")
        raise AssertionError("roll_back always raises")  # pragma: no cover

    async def apply(self, transport: Transport, fixes: list[Fix]) -> list[str]:
        """Each fix alone as root; a fix that can lock out is followed by a fresh login. While
        a fix runs the heartbeat goes on; when sudo stops working it stops, and the switch fires."""
        ctx, work, failures = self.ctx, await remote.prepare(transport), []
        beating = asyncio.create_task(self._keep_beating())
        try:
            for index, fix in enumerate(fixes, start=1):
                await self._beat(f"before {fix.short_id}")  # no fix runs once the switch has fired
                await ctx.progress(index - 1, len(fixes), fix.rule_id)
                path = f"{work.tmp}/fix-{index}.sh"
                await remote.upload(transport, rule_part(index, len(fixes), fix).encode(), path, timeout=120)
                result = await self.root.run(f"exec bash {shell_join(path)}", timeout=PART_TIMEOUT, check=False)
                ctx.say(f"{index}/{len(fixes)} {fix.short_id}: exit {result.exit_status}")
                for line in (result.text + result.stderr).strip().splitlines()[-20:]:
                    ctx.say(f"    {line}")
                if result.exit_status != 0:
                    failures.append(fix.short_id)
                await ctx.flush()
                await self._beat(f"after {fix.short_id}")
                if fix.locks_out:
                    await self.login(f"after {fix.short_id}")
            await ctx.progress(len(fixes), len(fixes))
        finally:
            beating.cancel()
            await remote.discard(transport, work)
        return failures

    async def _beat(self, when: str) -> None:
        """The heartbeat; raises SwitchFired when the switch restored /etc meanwhile."""
        if self.rollback is None:
            return
        if self.fired is None:
            try:
                self.fired = await safety.beat(self.root, self.rollback.directory)
            except OperatorError as exc:
                raise OperatorError(f"sudo stopped working in the open session {when}: {exc}") from None
        if self.fired is not None:
            raise SwitchFired(str(self.fired))

    async def _keep_beating(self) -> None:
        """While a fix runs: every third of the grace. A fix running when the switch fired is
        not stopped (it would leave a half-written file); none starts after it."""
        while self.rollback is not None and self.fired is None:
            await asyncio.sleep(self.grace / 3)
            try:
                await self._beat("while a fix ran")
            except OperatorError:
                return  # fired (the next fix sees it), or sudo gone: the switch takes over

    async def finish(self) -> dict[str, Any]:
        """Cancel the switch; keep the archive for a rollback after the fact; what was kept."""
        directory = self.directory
        if directory is None:  # guarded() runs only after prepare() archived /etc
            raise RuntimeError("no /etc archive to keep: the hardening run was never prepared")
        if self.rollback:
            await self._beat("after the fixes")  # fired at the last moment: still a rollback
            await safety.disarm(self.root, self.rollback)
            self.ctx.say("dead man's switch cancelled, and checked gone")
        days = self.ctx.workspace.settings.remediation.keep_days
        until = datetime.now(timezone.utc) + timedelta(days=days)
        changed = await safety.keep(self.root, directory, int(until.timestamp()))
        self.ctx.say(f"the job changed {len(changed)} file(s) of /etc: "
                     f"{', '.join(path for _kind, path in changed[:10]) or 'none'}"
                     + (f" and {len(changed) - 10} more" if len(changed) > 10 else ""))
        self.ctx.say(f"the /etc archive stays in {directory} until {until:%Y-%m-%d %H:%M} UTC: "
                     f"compliance-tui fix rollback {self.ctx.job.short_id}")
        return {"archive": {"directory": directory, "keep_until": to_iso(until), "state": "kept"},
                "changed_files": [[kind, path] for kind, path in changed[:MAX_LISTED]]}

    async def roll_back(self, reason: str) -> None:
        """Restore /etc through the open session, or, when sudo no longer works there, let the
        switch do it; check a fresh login; always raises RolledBack."""
        ctx = self.ctx
        ctx.say(f"restoring /etc: {reason}")
        rollback = self.rollback
        if rollback is None:
            raise RolledBack(f"not rolled back ({reason}): no dead man's switch and no archive to restore")
        root = self.root
        try:
            await safety.restore(root, rollback)
        except OperatorError as exc:
            ctx.say(f"the open session cannot restore ({one_line(str(exc), 200)}): waiting for the dead man's "
                    "switch")
            restored = await safety.wait_for_switch(lambda: _fresh_root(self.host), rollback, self.grace,
                                                    ctx.say)
            if not restored:
                raise RolledBack(f"{reason}; the dead man's switch should have restored /etc, but "
                                 f"{self.host.name} could not be checked") from None
            ctx.say(f"the dead man's switch restored /etc at {restored}")
            await self.restored(reason, "dead man's switch")
            async with _fresh_root(self.host) as fresh:
                await self._packages(fresh, rollback)
            await self.login("after the restore")
            raise RolledBack(f"rolled back by the dead man's switch: {reason}") from None
        await self.restored(reason, "open session")
        await self._packages(root, rollback)
        await self.login("after the restore")
        await safety.remove(root, rollback)
        raise RolledBack(f"rolled back: {reason}")

    async def restored(self, reason: str, by: str) -> None:
        """Log a restore of /etc the job made itself (a failed fix, a lost session, a cancel)."""
        await record(self.ctx.workspace, "fix.rolled_back", self.host.name,
                     {"job": self.ctx.job.id, "automatic": True, "by": by, "reason": one_line(reason, 300)})

    async def _packages(self, root: safety.RootCommand, rollback: safety.Rollback) -> None:
        for package in await safety.new_packages(root, rollback):
            self.ctx.say(f"installed by a rolled-back fix (not removed): {package}")

    async def after_lost_connection(self, exc: OperatorError) -> None:
        """The open session died mid-apply: the switch restores /etc; wait, and look."""
        ctx, host = self.ctx, self.host
        if self.rollback is None:
            raise RolledBack(f"connection lost while applying fixes, and no dead man's switch ran: check {host.name}")
        fires = datetime.now(timezone.utc) + timedelta(seconds=self.grace)
        ctx.say(f"connection lost ({one_line(str(exc), 200)}); the dead man's switch restores /etc "
                f"at about {fires:%H:%M:%S} UTC")
        restored = await safety.wait_for_switch(lambda: _fresh_root(host), self.rollback, self.grace, ctx.say)
        if restored:
            ctx.say(f"the dead man's switch restored /etc at {restored}; a fresh login works")
            await self.restored("the connection was lost mid-fix", "dead man's switch")
            raise RolledBack(f"rolled back by the dead man's switch: the connection was lost mid-fix ({restored})")
        raise RolledBack(f"connection lost mid-fix; the dead man's switch should have restored /etc by "
                         f"{fires:%H:%M:%S} UTC, but {host.name} could not be checked")


@asynccontextmanager
async def _fresh_root(host: Host) -> AsyncIterator[safety.RootCommand]:
    async with await connect(host) as transport:
        found = await remote.probe(transport)
        yield safety.RootCommand(transport, sudo_for(host, found))


async def _login_check(ctx: JobContext, host: Host, locks_out: bool) -> Login:
    """The check that a NEW login works and can become root: an SSH connection of its own
    (the local machine: an SSH login to it, needed only for fixes that can lock out)."""
    target = host
    if host.transport == "local":
        if not locks_out:
            async def local(when: str) -> None:
                await _sudo_works(await connect(host), host, when)
                ctx.say(f"checked {when}: sudo works")
            return local
        target = replace(host, transport="ssh", address="127.0.0.1", port=22, username=getpass.getuser())

    async def check(when: str) -> None:
        try:
            transport = await connect(target)
        except OperatorError as exc:
            raise OperatorError(f"a fresh SSH login to {host.name} failed {when}: {one_line(str(exc), 200)}") from None
        await _sudo_works(transport, target, when)
        ctx.say(f"checked {when}: a fresh SSH login and sudo work")

    if host.transport == "local":
        try:
            await check("beforehand (localhost)")
        except OperatorError as exc:
            raise OperatorError(f"{host.name}: these fixes change PAM, sshd, sudo, the firewall or the network; "
                                f"they need a working SSH login to this machine to check afterwards: {exc}") from None
    return check


async def _sudo_works(transport: Transport, host: Host, when: str) -> None:
    async with transport:
        found = await remote.probe(transport)
        command, stdin = sudo_for(host, found).wrap("true")
        result = await transport.run(command, input=stdin, timeout=30)
    if result.exit_status != 0:
        raise OperatorError(f"sudo failed in a fresh login to {host.name} {when}: "
                            f"{one_line(result.stderr, 200) or f'exit {result.exit_status}'}")


async def rescan(ctx: JobContext, transport: Transport, host: Host, found: remote.Probe, request: FixRequest,
                 summary: Callable[[str, dict[str, str]], Awaitable[dict[str, Any]] | dict[str, Any]]) -> None:
    """The same content and profile again; summary(scan id, rule results) is what the job found."""
    store = ctx.workspace.store
    scan_id = await store.add_job_scan(ctx.job.id, request.scan.profile)
    ctx.say(f"scanning again (scan {scan_id[:8]}) with the same content")
    content = Content(request.datastream, request.profile_id, None, None)
    timeout = ctx.workspace.settings.scan_timeout
    arf = await scan_on_host(ctx, transport, host, found, scan_id, content, request.tailoring, timeout)
    await store_results(ctx, scan_id, arf, request.datastream, lambda after: summary(scan_id, after))
