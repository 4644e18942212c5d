"""One hardening job end to end, in this order, so that no fix can lock anyone out:

1. the fixes are rebuilt from the scan they answer (core/remediation/planning.py);
2. a fresh login is checked before anything changes (so a later failure is the fixes');
3. /etc is archived and the dead man's switch armed (core/remediation/safety.py);
4. each fix runs on its own through the open session, its exit status and output recorded;
   after each fix that can lock out (PAM, sshd, sudo, firewall, network), and after the
   last, a NEW SSH connection must log in and run `sudo -n true`;
5. all good: the switch is cancelled and checked gone; else /etc is restored through the
   open session (or by the switch, when the session died), a fresh login is checked again,
   and the job fails with "rolled back: <reason>";
6. the host is scanned again with the same content and profile, and each fixed rule's
   result before and after is recorded.
"""

from __future__ import annotations

import asyncio
import getpass
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from core.domain.errors import ConnectionLost, OperatorError
from core.domain.models import Host
from core.domain.text import one_line
from core.jobs.runner import JobContext
from core.jobs.scan import Content, probe_host, scan_on_host, store_results
from core.remediation import safety
from core.remediation.fixes import Fix, rule_part
from core.remediation.planning import FixRequest, load
from core.targets import remote
from core.targets.connect import connect, sudo_for
from core.targets.transport import Transport, shell_join

PART_TIMEOUT = 900  # seconds one rule's fix may take (package installs included)
DEFAULT_GRACE = 300  # seconds without a heartbeat before the switch restores /etc


class RolledBack(OperatorError):
    pass


async def run_harden_job(ctx: JobContext) -> None:
    workspace, job = ctx.workspace, ctx.job
    request = await load(workspace, job.params)
    host, plan = request.host, request.plan
    ctx.say(f"{len(plan.fixes)} fix(es) from {request.datastream.path.name} (SSG {request.datastream.version}), "
            f"values of {request.profile_id}; scan {request.scan.short_id} before")
    for missing in plan.missing:
        ctx.say(f"no automated fix: {missing.rule_id}")
    if not plan.fixes:
        raise OperatorError(f"{host.name}: none of the chosen rules has an automated fix; see their fix texts")
    run = Hardening(ctx, host, int(job.params.get("grace") or DEFAULT_GRACE))
    run.login = await _login_check(ctx, host, plan.locks_out)
    async with await connect(host) as transport:
        found = await probe_host(ctx, transport, host)
        run.root = safety.RootCommand(transport, sudo_for(host, found))
        await run.prepare(plan.locks_out)
        try:
            failures = await run.apply(transport, plan.fixes)
            await run.login("after the fixes")
        except RolledBack:
            raise
        except ConnectionLost as exc:
            await run.after_lost_connection(exc)
        except asyncio.CancelledError:
            try:  # cancelled by the operator: put /etc back, then end as cancelled
                await asyncio.shield(run.roll_back("the job was cancelled"))
            except (OperatorError, asyncio.CancelledError):
                pass
            raise
        except (OperatorError, TimeoutError) as exc:
            await run.roll_back(one_line(str(exc)) or "timed out")
        await run.finish()
        if failures:
            ctx.say(f"{len(failures)} fix(es) exited non-zero: {', '.join(failures)}")
        await _rescan(ctx, transport, host, found, request)


class Hardening:
    """The state of one hardening run on its host: the root session, the switch, the login check."""

    def __init__(self, ctx: JobContext, host: Host, grace: int):
        self.ctx, self.host, self.grace = ctx, host, grace
        self.root: safety.RootCommand | None = None
        self.rollback: safety.Rollback | None = None
        self.login = None

    async def prepare(self, locks_out: bool) -> None:
        """Root works; the switch is there when needed; a fresh login works; /etc archived, switch armed."""
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
        directory = await safety.snapshot(root, self.ctx.job.id, capabilities)
        self.ctx.say(f"archived /etc and the package list in {directory}")
        if switch:
            self.rollback = await safety.arm(root, directory, switch, self.grace, self.ctx.job.id)
            self.ctx.say(f"dead man's switch armed ({switch}): /etc is restored {self.grace} s after the "
                         "last heartbeat")

    async def apply(self, transport: Transport, fixes: list[Fix]) -> list[str]:
        """Each fix alone as root; a fix that can lock out is followed by a fresh login. While
        a fix runs the heartbeat goes on; when sudo stops working it stops, and the switch fires."""
        ctx, work, failures = self.ctx, await remote.prepare(transport), []
        beating = asyncio.create_task(self._keep_beating())
        try:
            for index, fix in enumerate(fixes, start=1):
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
        if self.rollback is None:
            return
        result = await self.root.run(f"touch {shell_join(self.rollback.directory + '/heartbeat')}",
                                     timeout=30, check=False)
        if result.exit_status != 0:
            raise OperatorError(f"sudo stopped working in the open session {when}: "
                                f"{one_line(result.stderr, 200) or f'exit {result.exit_status}'}")

    async def _keep_beating(self) -> None:
        while self.rollback is not None:
            await asyncio.sleep(max(1.0, self.grace / 3))
            try:
                await self._beat("while a fix ran")
            except OperatorError:
                return  # the switch takes over

    async def finish(self) -> None:
        if self.rollback:
            await safety.disarm(self.root, self.rollback)
            self.ctx.say("dead man's switch cancelled, and checked gone")
            await safety.remove(self.root, self.rollback)

    async def roll_back(self, reason: str) -> None:
        """Restore /etc through the open session, or, when sudo no longer works there, let the
        switch do it; check a fresh login; always raises RolledBack."""
        ctx = self.ctx
        ctx.say(f"restoring /etc: {reason}")
        if self.rollback is None:
            raise RolledBack(f"not rolled back ({reason}): no dead man's switch and no archive to restore")
        root = self.root
        try:
            await safety.restore(root, self.rollback)
        except OperatorError as exc:
            ctx.say(f"the open session cannot restore ({one_line(str(exc), 200)}): waiting for the dead man's "
                    "switch")
            restored = await safety.wait_for_switch(lambda: _fresh_root(self.host), self.rollback, self.grace,
                                                    ctx.say)
            if not restored:
                raise RolledBack(f"{reason}; the dead man's switch should have restored /etc, but "
                                 f"{self.host.name} could not be checked") from None
            ctx.say(f"the dead man's switch restored /etc at {restored}")
            async with _fresh_root(self.host) as fresh:
                await self._packages(fresh)
            await self.login("after the restore")
            raise RolledBack(f"rolled back by the dead man's switch: {reason}") from None
        await self._packages(root)
        await self.login("after the restore")
        await safety.remove(root, self.rollback)
        raise RolledBack(f"rolled back: {reason}")

    async def _packages(self, root: safety.RootCommand) -> None:
        for package in await safety.new_packages(root, self.rollback):
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
            raise RolledBack(f"rolled back by the dead man's switch: the connection was lost mid-fix ({restored})")
        raise RolledBack(f"connection lost mid-fix; the dead man's switch should have restored /etc by "
                         f"{fires:%H:%M:%S} UTC, but {host.name} could not be checked")


@asynccontextmanager
async def _fresh_root(host: Host):
    async with await connect(host) as transport:
        found = await remote.probe(transport)
        yield safety.RootCommand(transport, sudo_for(host, found))


async def _login_check(ctx: JobContext, host: Host, locks_out: bool):
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


async def _rescan(ctx: JobContext, transport: Transport, host: Host, found, request: FixRequest) -> None:
    """The same content and profile again; each fixed rule before and after."""
    store = ctx.workspace.store
    scan_id = await store.add_job_scan(ctx.job.id, request.scan.profile)
    ctx.say(f"scanning again (scan {scan_id[:8]}) with the same content")
    content = Content(request.datastream, request.profile_id, None, None)
    timeout = ctx.workspace.settings.scan_timeout
    arf = await scan_on_host(ctx, transport, host, found, scan_id, content, request.tailoring, timeout)
    chosen = [f.rule_id for f in request.plan.fixes]
    missing = [m.rule_id for m in request.plan.missing]

    def summary(after: dict[str, str]) -> dict:
        fixed = [r for r in chosen if after.get(r) in ("pass", "fixed")]
        still = [r for r in chosen if r not in fixed]
        ctx.say(f"fixed {len(fixed)}, still failing {len(still)}, without fix {len(missing)}")
        return {"source_scan": request.scan.id, "rescan": scan_id, "fixed": fixed, "still_failing": still,
                "without_fix": missing,
                "rules": {r: {"before": "fail", "after": after.get(r, "notchecked")} for r in chosen + missing}}

    await store_results(ctx, scan_id, arf, request.datastream, summary)
