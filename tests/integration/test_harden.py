"""Quick Fix and hardening jobs on the test fleet: real fixes from the datastream, run as root
on played hosts, a real dead man's switch, real lock-outs rolled back.

Each test gets fresh played hosts of its own (their /etc changes). The content is bookworm's
SSG 0.1.65, whose fixes run on played hosts (newer fixes first check packages through
dpkg-query, which a played host does not fake). Rules are chosen whose fixes touch only
/etc, the one directory a played host has of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import add_fleet_host
from tests.integration.test_faults import wait_for

L1 = "cis-level1-server"
# failed on a played Ubuntu 22.04; their fixes touch only /etc, and none checks for a container
TURN_TO_PASS = ["accounts_umask_etc_bashrc", "file_permissions_etc_shadow", "sudo_custom_logfile"]


def scanned(cli, name: str) -> dict:
    (scan,) = cli.ok("scan", name, "--profile", L1, "--json").json()
    assert scan["status"] == "completed", scan["error_message"]
    return scan


def results(cli, scan_id: str) -> dict[str, str]:
    rule = "xccdf_org.ssgproject.content_rule_"
    return {r["rule_id"].removeprefix(rule): r["result"] for r in cli.ok("results", scan_id, "--json").json()}


def etc_digest(host) -> str | None:
    """What a restore must bring back: every file of the played host's /etc (None while a
    restore is rewriting it)."""
    digest = hashlib.sha256()
    try:
        for path in sorted((host.root / "etc").rglob("*")):
            if path.is_file() and not path.is_symlink():
                digest.update(str(path.relative_to(host.root)).encode() + path.read_bytes())
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def no_switch_left(host) -> bool:
    return not host.processes("compliance-tui/rollback/")


def archives(host) -> list[Path]:
    """The /etc archives hardening jobs left on a played host (its own /var/lib/compliance-tui)."""
    return sorted((host.root / "var/lib/compliance-tui/rollback").glob("*"))


def job_output(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "compliance.db") as db:
        row = db.execute("SELECT output FROM jobs WHERE kind = 'harden' ORDER BY created_at DESC LIMIT 1").fetchone()
    return row[0] if row else ""


def test_quick_fix_turns_failed_rules_to_pass_and_leaves_no_switch(ready, hosts):
    scan = scanned(ready, "plain")
    etc = etc_digest(hosts.hosts["plain"])
    before = results(ready, scan["id"])
    assert all(before[r] == "fail" for r in TURN_TO_PASS) and before["partition_for_tmp"] == "fail"
    rules = [arg for r in TURN_TO_PASS + ["partition_for_tmp"] for arg in ("--rule", r)]
    preview = ready.ok("fix", scan["id"][:8], *rules, "--dry-run", "--json").json()
    assert [f["rule_id"].rpartition("_rule_")[2] for f in preview["fixes"]] == TURN_TO_PASS
    assert [m["rule_id"] for m in preview["without_fix"]][0].endswith("partition_for_tmp")
    assert "changes sudoers: sudo_custom_logfile" in preview["warnings"]
    assert "# ---- 3/3 xccdf_org.ssgproject.content_rule_sudo_custom_logfile" in preview["script"]
    assert etc_digest(hosts.hosts["plain"]) == etc  # a dry run changes nothing
    job = ready.ok("fix", scan["id"][:8], *rules, "--yes", "--json", "--grace", "30").json()
    assert job["status"] == "completed" and job["kind"] == "harden", job["output"]
    result = job["result"]
    assert sorted(r.rpartition("_rule_")[2] for r in result["fixed"]) == sorted(TURN_TO_PASS)
    assert result["still_failing"] == [] and result["without_fix"][0].endswith("partition_for_tmp")
    after = results(ready, result["rescan"])
    assert all(after[r] == "pass" for r in TURN_TO_PASS)
    for line in ("archived /etc", "dead man's switch armed (setsid)", "checked after sudo_custom_logfile",
                 "dead man's switch cancelled, and checked gone", "fixed 3, still failing 0, without fix 1"):
        assert line in job["output"], line
    assert no_switch_left(hosts.hosts["plain"])
    (kept,) = archives(hosts.hosts["plain"])  # for a rollback after the fact
    assert kept.name == job["id"] and (kept / "kept-until").is_file() and (kept / "etc.tar.gz").is_file()
    assert result["archive"]["state"] == "kept" and result["archive"]["directory"].endswith(job["id"])
    assert ["changed", "/etc/sudoers"] in result["changed_files"]
    assert f"compliance-tui fix rollback {job['id'][:8]}" in job["output"]
    rescan = ready.ok("scans", "list", "--host", "plain", "--json").json()[0]
    assert rescan["id"] == result["rescan"] and rescan["score"] > scan["score"]


def test_a_fix_that_locks_out_is_rolled_back_and_the_host_stays_reachable(ready, hosts):
    """pam_tally2 is gone from Debian's PAM: its CIS fix makes PAM refuse every login."""
    pam = hosts.hosts["pam"]
    scan = scanned(ready, "pam")
    etc = etc_digest(pam)
    done = ready("fix", scan["id"][:8], "--rule", "accounts_umask_etc_bashrc", "--rule", "accounts_passwords_pam_tally2",
                 "--yes", "--json", "--grace", "4")
    assert done.returncode == 1
    job = done.json()
    # sudo breaks too in the open session (PAM refuses its credentials): the switch restores /etc
    assert job["status"] == "failed", job["output"]
    assert job["error"].startswith("rolled back by the dead man's switch: sudo stopped working in the open "
                                   "session after accounts_passwords_pam_tally2"), job["error"]
    assert "the dead man's switch restored /etc at" in job["output"] and "checked after the restore" in job["output"]
    assert etc_digest(pam) == etc, "/etc is back as it was, the other fix's change included"
    assert ready.ok("hosts", "check", "pam", "--json").json()["ready"]
    assert no_switch_left(pam)
    (restored,) = ready.ok("audit", "log", "--action", "fix.rolled_back", "--json").json()  # issue 27
    assert restored["subject"] == "pam" and restored["details"]["automatic"] is True
    assert restored["details"]["by"] == "dead man's switch" and restored["details"]["job"] == job["id"]


def test_a_lost_connection_mid_fix_is_restored_by_the_switch(ready, hosts):
    plain = hosts.hosts["plain"]
    scan = scanned(ready, "plain")
    etc = etc_digest(plain)
    plain.control_fix("fix-2.sh", "hold")  # fix 1 has changed /etc; fix 2 waits
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "fix", scan["id"][:8], "--rule", "accounts_umask_etc_bashrc",
         "--rule", "sudo_custom_logfile", "--yes", "--json", "--grace", "3"],
        env=ready.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    data_dir = Path(ready.env["COMPLIANCE_TUI_HOME"])
    wait_for(lambda: "1/2 accounts_umask_etc_bashrc: exit 0" in job_output(data_dir), interval=0.05)
    plain.kill_sessions()  # the session that applies the fixes dies
    plain.control_fix("fix-2.sh", None)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    job = json.loads(out)
    assert job["error"].startswith("rolled back by the dead man's switch"), job["error"]
    assert "the dead man's switch restored /etc at" in job["output"]
    assert etc_digest(plain) == etc
    assert ready.ok("hosts", "check", "plain", "--json").json()["ready"]


def test_the_app_killed_mid_hardening_is_restored_by_the_switch(ready, hosts):
    plain = hosts.hosts["plain"]
    scan = scanned(ready, "plain")
    etc = etc_digest(plain)
    plain.control_fix("fix-2.sh", "hold")
    env = ready.env | {"COMPLIANCE_TUI_LEASE_SECONDS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "fix", scan["id"][:8], "--rule", "accounts_umask_etc_bashrc",
         "--rule", "sudo_custom_logfile", "--yes", "--grace", "3"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data_dir = Path(ready.env["COMPLIANCE_TUI_HOME"])
    wait_for(lambda: "1/2 accounts_umask_etc_bashrc: exit 0" in job_output(data_dir), interval=0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    plain.control_fix("fix-2.sh", None)
    wait_for(lambda: etc_digest(plain) == etc, timeout=30)  # the switch fired on its own
    time.sleep(1.5)  # the lease runs out
    (job,) = ready.ok("jobs", "list", "--json", env={"COMPLIANCE_TUI_LEASE_SECONDS": "1"}).json()[:1]
    assert job["status"] == "failed"
    assert job["error"] == "worker stopped (lease expired); the host's dead man's switch restores /etc"
    assert ready.ok("hosts", "check", "plain", "--json").json()["ready"]
    wait_for(lambda: no_switch_left(plain), timeout=10)


def test_a_fix_that_exits_non_zero_is_recorded_and_the_others_go_on(ready, hosts):
    plain = hosts.hosts["plain"]
    scan = scanned(ready, "plain")
    plain.control_fix("fix-1.sh", "fail")
    job = ready.ok("fix", scan["id"][:8], "--rule", "accounts_umask_etc_bashrc", "--rule", "sudo_custom_logfile",
                   "--yes", "--json", "--grace", "30").json()
    assert job["status"] == "completed"
    assert "1/2 accounts_umask_etc_bashrc: exit 3" in job["output"] and "fix failed on purpose" in job["output"]
    assert "1 fix(es) exited non-zero: accounts_umask_etc_bashrc" in job["output"]
    assert [r.rpartition("_rule_")[2] for r in job["result"]["fixed"]] == ["sudo_custom_logfile"]
    assert [r.rpartition("_rule_")[2] for r in job["result"]["still_failing"]] == ["accounts_umask_etc_bashrc"]


def test_bad_requests_are_refused_before_anything_runs(ready, hosts, tmp_path):
    scan = scanned(ready, "plain")
    passing = next(r for r, v in results(ready, scan["id"]).items() if v == "pass")
    etc = etc_digest(hosts.hosts["plain"])
    for args, message in (
        (("--rule", passing), f"rule xccdf_org.ssgproject.content_rule_{passing} did not fail in scan"),
        (("--rule", "no_such_rule"), "is not in scan"),
        (("--rule", "accounts_umask_etc_bashrc"), "nothing was changed: read the script with --dry-run"),
    ):
        refused = ready("fix", scan["id"][:8], *args)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
    assert etc_digest(hosts.hosts["plain"]) == etc
    first = ready.ok("fix", scan["id"][:8], "--rule", "sudo_custom_logfile", "--yes", "--enqueue", "--json").json()
    twice = ready("harden", "plain", "--profile", L1, "--yes", "--enqueue")
    assert twice.returncode == 1 and f"plain has a hardening job already ({first['id'][:8]})" in twice.stderr
    assert ready("harden", "pam", "--profile", L1, "--yes").stderr.count("no completed cis-level1-server scan") == 1


def test_fixes_with_a_sudo_password_and_without_it(ready, hosts):
    from tests.fleet.hosts import PASSWORD_USER, SUDO_PASSWORD

    add_fleet_host(ready, hosts, "plain", "pw", user=PASSWORD_USER, extra=("--sudo-password-env", "PW"))
    (scan,) = ready.ok("scan", "pw", "--profile", L1, "--json", env={"PW": SUDO_PASSWORD}).json()
    missing = ready("fix", scan["id"][:8], "--rule", "sudo_custom_logfile", "--yes", "--json")
    assert missing.returncode == 1
    assert missing.json()["error"] == "pw: environment variable PW (the sudo password) is not set"
    done = ready("fix", scan["id"][:8], "--rule", "sudo_custom_logfile", "--yes", "--json", env={"PW": SUDO_PASSWORD})
    assert done.returncode == 0 and done.json()["status"] == "completed", done.stdout
    assert SUDO_PASSWORD not in done.stdout


def test_an_ansible_playbook_of_the_fixes_passes_syntax_check(ready, hosts, tmp_path):
    ansible = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    if not Path(ansible).exists():
        pytest.skip("ansible-core is not installed (make test installs it)")
    scan = scanned(ready, "plain")
    everything = tmp_path / "all.yml"
    failed = [arg for r, v in results(ready, scan["id"]).items() if v == "fail" for arg in ("--rule", r)]
    ready.ok("fix", scan["id"][:8], *failed, "--format", "ansible", "-o", str(everything))
    assert "# needs: ansible-galaxy collection install ansible.posix" in everything.read_text()
    playbook = tmp_path / "fix.yml"  # the checked one: tasks that ansible-core runs without collections
    rules = [arg for r in TURN_TO_PASS + ["accounts_passwords_pam_tally2"] for arg in ("--rule", r)]
    written = ready.ok("fix", scan["id"][:8], *rules, "--format", "ansible", "-o", str(playbook))
    assert str(playbook) in written.stdout and oct(playbook.stat().st_mode & 0o777) == "0o600"
    text = playbook.read_text()
    assert "- name: compliance-tui Quick Fix" in text and "become: true" in text
    checked = subprocess.run([ansible, "--syntax-check", "-i", "localhost,", str(playbook)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
