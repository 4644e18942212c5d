"""Issue 21 on played hosts: a switch that cannot backfire, rollback after the fact, archives
that do not outstay their use, and a canary before the rest of a fleet is hardened.

The fixtures are test_harden's: played Ubuntu 22.04 hosts with fix control, bookworm's content.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from core.domain.models import JobStatus
from core.jobs import submit
from core.jobs.runner import Runner
from core.remediation import planning
from core.workspace import Workspace
from tests.integration.conftest import BOOKWORM
from tests.integration.test_faults import wait_for
from tests.integration.test_harden import TURN_TO_PASS, archives, etc_digest, job_output, results, scanned

RULES = [arg for rule in TURN_TO_PASS for arg in ("--rule", rule)]


def test_a_grace_out_of_its_bounds_is_refused_and_nothing_runs(ready, hosts):
    scan = scanned(ready, "plain")
    etc = etc_digest(hosts.hosts["plain"])
    strict = {"COMPLIANCE_TUI_LIMITS": ""}  # the real bound: 60 s
    for grace in ("-1", "0", "30", "7201", "soon"):
        refused = ready("fix", scan["id"][:8], *RULES, "--yes", f"--grace={grace}", env=strict)
        assert refused.returncode == 1 and refused.stdout == "", refused.stderr
        assert refused.stderr == (f"error: invalid grace {grace!r}: the dead man's switch restores /etc this many "
                                  "seconds after the last heartbeat; give 60 to 7200 (default 300)\n")
    assert etc_digest(hosts.hosts["plain"]) == etc
    assert ready.ok("jobs", "list", "--json").json()[0]["kind"] == "scan"  # no hardening job was made


def test_a_switch_that_fires_mid_job_stops_the_fixes_and_says_when_why_and_what(ready, hosts):
    """The heartbeat does not get through (its file left old, as a stalled link would): the switch
    restores /etc while fix 2 runs; fix 3 never starts, /etc is restored again, and the job says so."""
    plain = hosts.hosts["plain"]
    scan = scanned(ready, "plain")
    etc = etc_digest(plain)
    plain.control_fix("fix-2.sh", "hold")
    process = subprocess.Popen([sys.executable, "-m", "tui", "fix", scan["id"][:8], *RULES, "--yes", "--json",
                                "--grace", "60"], env=ready.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    data_dir = Path(ready.env["COMPLIANCE_TUI_HOME"])
    try:
        wait_for(lambda: "1/3 accounts_umask_etc_bashrc: exit 0" in job_output(data_dir), interval=0.05)
        (archive,) = archives(plain)

        def lost_heartbeat() -> bool:  # every heartbeat the job sends is lost on the way
            old = time.time() - 3600
            os.utime(archive / "heartbeat", (old, old))
            return (archive / "restored").exists()

        wait_for(lost_heartbeat, interval=0.2, timeout=30)
    finally:
        plain.control_fix("fix-2.sh", None)
    out, err = process.communicate(timeout=180)
    job = json.loads(out)
    assert process.returncode == 1 and job["status"] == "failed", err
    assert job["error"].startswith("rolled back: the dead man's switch restored /etc at "), job["error"]
    assert "while the job ran (no heartbeat for 60 s, the last at " in job["error"]
    assert "restored: /etc/bashrc" in job["error"]  # what fix 1 changed
    assert "3/3" not in job["output"], "no fix starts once the switch has fired"
    assert etc_digest(plain) == etc
    assert ready.ok("hosts", "check", "plain", "--json").json()["ready"]


def test_fix_rollback_restores_what_the_job_changed_and_the_rule_fails_again(ready, hosts):
    plain = hosts.hosts["plain"]
    scan = scanned(ready, "plain")
    sudoers_before = (plain.root / "etc/sudoers").read_bytes()
    job = ready.ok("fix", scan["id"][:8], "--rule", "sudo_custom_logfile", "--yes", "--json", "--grace", "60").json()
    assert job["status"] == "completed" and results(ready, job["result"]["rescan"])["sudo_custom_logfile"] == "pass"
    shown = ready.ok("fix", "rollback", job["id"][:8], "--dry-run", "--json").json()
    assert shown["files"] == [{"kind": "changed", "path": "/etc/sudoers"}]
    assert "--- /etc/sudoers (before the job)" in shown["diff"] and "+Defaults logfile=" in shown["diff"]
    unasked = ready("fix", "rollback", job["id"][:8])
    assert unasked.returncode == 1 and "nothing was changed: read the diff with --dry-run" in unasked.stderr
    back = ready.ok("fix", "rollback", job["id"][:8], "--yes", "--json", "--grace", "60").json()
    assert back["status"] == "completed", back["output"]
    assert back["result"]["restored_files"] == [["changed", "/etc/sudoers"]]
    assert [r.rpartition("_rule_")[2] for r in back["result"]["failing_again"]] == ["sudo_custom_logfile"]
    assert (plain.root / "etc/sudoers").read_bytes() == sudoers_before
    assert results(ready, back["result"]["rescan"])["sudo_custom_logfile"] == "fail"
    logged = [(e["action"], e["details"].get("job"), e["details"].get("rollback_of"))
              for e in reversed(ready.ok("audit", "log", "--action", "fix", "--json").json())]  # issue 27
    assert logged == [("fix.requested", job["id"], None), ("fix.applied", job["id"], None),
                      ("fix.requested", back["id"], job["id"]), ("fix.rolled_back", back["id"], job["id"])]
    again = ready("fix", "rollback", job["id"][:8], "--yes")
    assert again.returncode == 1 and "/etc archive is rolled back: nothing to roll back" in again.stderr
    scan_job = next(j for j in ready.ok("jobs", "list", "--json").json() if j["kind"] == "scan")
    of_a_scan = ready("fix", "rollback", scan_job["id"][:8], "--yes")
    assert of_a_scan.returncode == 1 and "only a hardening job" in of_a_scan.stderr


def test_archives_past_retention_go_with_evidence_prune_and_a_killed_jobs_with_the_next_job(ready, hosts, tmp_path):
    plain = hosts.hosts["plain"]
    scan = scanned(ready, "plain")
    config = tmp_path / "config.toml"
    config.write_text("[remediation]\nkeep_days = 0\n")
    env = {"COMPLIANCE_TUI_CONFIG": str(config)}
    job = ready.ok("fix", scan["id"][:8], "--rule", "sudo_custom_logfile", "--yes", "--json", env=env).json()
    assert [a.name for a in archives(plain)] == [job["id"]]
    pruned = ready.ok("evidence", "prune", "--keep-days", "1000", "--json", env=env).json()
    assert pruned["archives"]["removed"] == [f"plain:/var/lib/compliance-tui/rollback/{job['id']}"]
    assert archives(plain) == []
    assert ready.ok("jobs", "show", job["id"], "--json").json()["result"]["archive"]["state"] == "removed"
    # a job killed mid-way: its switch restores /etc, and the next job removes its archive
    plain.control_fix("fix-2.sh", "hold")
    lease = {"COMPLIANCE_TUI_LEASE_SECONDS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "tui", "fix", scan["id"][:8], *RULES, "--yes", "--grace", "3"],
                               env=ready.env | lease, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data_dir = Path(ready.env["COMPLIANCE_TUI_HOME"])
    wait_for(lambda: "1/3 accounts_umask_etc_bashrc: exit 0" in job_output(data_dir), interval=0.05)
    process.kill()
    process.wait()
    plain.control_fix("fix-2.sh", None)
    (killed,) = archives(plain)
    wait_for(lambda: (killed / "restored").exists() and not (killed / "watch.pid").exists(), timeout=30)
    time.sleep(1.5)  # its lease runs out
    later = ready.ok("fix", scan["id"][:8], "--rule", "sudo_custom_logfile", "--yes", "--json", env=lease).json()
    assert f"of a job that never finished: /var/lib/compliance-tui/rollback/{killed.name}" in later["output"]
    assert [a.name for a in archives(plain)] == [later["id"]]


def test_a_canary_that_fails_a_fix_leaves_the_other_hosts_untouched(ready, hosts, data_dir):
    first, second = scanned(ready, "plain"), scanned(ready, "pam")
    pam_etc = etc_digest(hosts.hosts["pam"])
    hosts.hosts["plain"].control_fix("fix-1.sh", "fail")
    (canary,) = asyncio.run(canary_run(data_dir, ready.env, [first["id"], second["id"]]))
    assert canary.status is JobStatus.COMPLETED and canary.result["canary"] == "stopped"
    assert "so the other 1 host(s) were not touched: pam" in canary.output
    assert etc_digest(hosts.hosts["pam"]) == pam_etc


def test_several_hosts_are_hardened_behind_a_canary(ready, hosts, data_dir):
    """The first host is fixed alone; the second only once the first passed (every fix exit 0,
    fresh logins, its scan again)."""
    first, second = scanned(ready, "plain"), scanned(ready, "pam")
    passed = asyncio.run(canary_run(data_dir, ready.env, [first["id"], second["id"]]))
    assert [job.host_name for job in passed] == ["plain", "pam"]
    assert all(job.status is JobStatus.COMPLETED for job in passed), [job.error for job in passed]
    assert passed[0].result["canary"] == "passed" and passed[0].result["followers"] == [passed[1].id]
    assert "canary passed on plain: hardening the other 1 host(s): pam" in passed[0].output
    assert passed[1].created_at >= passed[0].started_at
    assert sorted(r.rpartition("_rule_")[2] for r in passed[1].result["fixed"]) == sorted(TURN_TO_PASS)


async def canary_run(data_dir: Path, env: dict, scan_ids: list[str]):
    """Harden these scans' hosts as the TUI's Harden does, in this process; every job that ran."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("COMPLIANCE_TUI", "HOME"))} | BOOKWORM)
    try:
        async with await Workspace.open(data_dir) as workspace:
            requests = [await planning.quick_fix(workspace, s, TURN_TO_PASS) for s in scan_ids]
            async with Runner(workspace) as runner:
                params = [(r.host, r.params(60)) for r in requests]
                waiting, ended = [j.id for j in await submit.hardening(workspace, params, 5, runner)], []
                while waiting:
                    finished = await runner.wait_for(waiting)
                    ended += finished
                    waiting = [f for job in finished for f in (job.result or {}).get("followers", [])]
            return ended
    finally:
        os.environ.clear()
        os.environ.update(saved)
