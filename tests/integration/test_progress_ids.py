"""What the CLI and the runner say while jobs run, on the test fleet: one id per scan, and a
hardening job's progress that counts fixes, then the rules of its re-scan."""

from __future__ import annotations

import re

from core.domain.models import Job, JobStatus
from core.jobs import submit
from core.jobs.runner import Runner
from core.remediation import planning
from core.remediation.safety import DEFAULT_GRACE
from core.workspace import Workspace
from tests.conftest import add_fleet_host
from tests.integration.conftest import BOOKWORM, QUICK_SWITCH
from tests.integration.test_harden import TURN_TO_PASS, scanned

L1 = "cis-level1-server"


def test_the_id_on_the_progress_line_is_the_scan_results_and_report_take(cli, fleet, known_hosts):
    add_fleet_host(cli, fleet, "u2204")
    done = cli.ok("scan", "u2204", "--profile", L1)
    (started,) = re.findall(r"^(\S+) u2204: started$", done.stderr, re.M)
    (ended,) = re.findall(r"^(\S+) u2204: completed$", done.stderr, re.M)
    header, row = done.stdout.splitlines()[:2]
    assert header.split()[0] == "SCAN" and row.split()[0].startswith(started) and ended == started
    rules = cli.ok("results", started, "--json").json()
    assert rules and rules == cli.ok("results", row.split()[0], "--json").json()
    assert cli.ok("report", started).stdout.strip().endswith(".html")
    (job,) = [j for j in cli.ok("jobs", "list", "--json").json() if j["scan_id"].startswith(started)]
    assert cli.ok("jobs", "show", started, "--json").json()["id"] == job["id"]  # a scan id names its job

    # the ids `scan --enqueue` prints are jobs': they lead to their scans too
    queued = cli.ok("scan", "u2204", "--profile", L1, "--enqueue").stdout.split()[0]
    cli.ok("worker", "--once")
    by_job = cli.ok("results", queued[:8], "--json").json()
    scan_id = cli.ok("jobs", "show", queued, "--json").json()["scan_id"]
    assert by_job == cli.ok("results", scan_id, "--json").json() and len(by_job) == len(rules)
    missing = cli("results", "00000000")
    assert missing.returncode == 1 and "no scan or job '00000000'" in missing.stderr


async def test_hardening_progress_counts_fixes_then_the_rescans_rules(ready, hosts, home, data_dir, monkeypatch):
    scan = scanned(ready, "plain")
    for name, value in {**BOOKWORM, **QUICK_SWITCH, "HOME": str(home)}.items():
        monkeypatch.setenv(name, value)  # this process sees what the CLI saw
    seen: list[Job] = []
    async with await Workspace.open(data_dir) as workspace:
        workspace.hub.subscribe(lambda event: seen.append(event.job) if event.kind == "progress" else None)
        request = await planning.quick_fix(workspace, scan["id"], TURN_TO_PASS)
        async with Runner(workspace) as runner:
            (job,) = await submit.hardening(workspace, [(request.host, request.params(DEFAULT_GRACE))], 5, runner)
            (ended,) = await runner.wait_for([job.id])
    assert ended.status is JobStatus.COMPLETED, ended.error
    units = [j.progress_unit for j in seen]
    fixing, rescanning = units.index("rules"), len(units)
    assert set(units[:fixing]) == {"fixes"} and set(units[fixing:]) == {"rules"}  # fixes, then rules
    assert {(j.progress_total, j.scan_id) for j in seen[:fixing]} == {(3, None)}
    assert {(j.progress_total, j.scan_id) for j in seen[fixing:rescanning]} == {(189, ended.scan_id)}
    assert all(j.progress_done <= j.progress_total for j in seen)
    assert [j.progress_line for j in (seen[0], seen[fixing - 1], seen[-1])] == \
        ["0 / 3 fixes", "3 / 3 fixes", "189 / 189 rules"]
    assert ended.progress_line == "189 / 189 rules"  # what the store keeps: the re-scan's
