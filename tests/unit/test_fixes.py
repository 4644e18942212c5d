"""core.remediation.fixes on real SSG content: each rule's fix exactly as oscap generates it,
values from the profile and the tailoring, quoting that hostile values cannot escape."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from core.domain.errors import InvalidInput
from core.remediation.fixes import (
    UsedValue,
    _quoted,
    collections_needed,
    playbook,
    read_plan,
    summary_lines,
    whole_script,
)

SSG = Path("/usr/share/xml/scap/ssg/content")
DS = SSG / "ssg-ubuntu2204-ds.xml"
L1 = "xccdf_org.ssgproject.content_profile_cis_level1_server"
L2 = "xccdf_org.ssgproject.content_profile_cis_level2_server"
R = "xccdf_org.ssgproject.content_rule_"
V = "xccdf_org.ssgproject.content_value_"

pytestmark = pytest.mark.skipif(not DS.exists(), reason="ssg-debderived (SSG 0.1.65) is not installed")


def oscap_blocks(profile: str, tailoring: Path | None = None) -> dict[str, str]:
    """oscap's own bash remediation of the whole profile, split per rule."""
    command = ["oscap", "xccdf", "generate", "fix", "--fix-type", "bash", "--profile", profile]
    if tailoring:
        command += ["--tailoring-file", str(tailoring)]
    text = subprocess.run([*command, str(DS)], capture_output=True, text=True, check=True).stdout
    pattern = (r"# BEGIN fix \(\d+ / \d+\) for '([^']+)'\n#+\n\(>&2 echo \"Remediating rule [^\n]*\n"
               r"(.*?)\n# END fix for '\1'")
    return {m.group(1): m.group(2).strip() for m in re.finditer(pattern, text, re.S)}


@pytest.mark.parametrize("profile", [L1, L2])
def test_every_fix_equals_the_block_oscap_generates_for_it(profile):
    blocks = oscap_blocks(profile)
    plan = read_plan(DS, profile, list(blocks))
    assert len(plan.fixes) > 150
    for fix in plan.fixes:
        assert fix.text.strip() == blocks[fix.rule_id], fix.rule_id
    assert all("FIX FOR THIS RULE" in blocks[m.rule_id] and "IS MISSING" in blocks[m.rule_id] for m in plan.missing)


def tailoring(tmp_path: Path, values: dict[str, str]) -> Path:
    sets = "".join(f'<xccdf:set-value idref="{V}{name}">{value}</xccdf:set-value>' for name, value in values.items())
    path = tmp_path / "tailoring.xml"
    path.write_text(
        '<?xml version="1.0"?><xccdf:Tailoring xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2" '
        'id="xccdf_test_tailoring_t"><xccdf:version time="2025-01-01T00:00:00">1</xccdf:version>'
        f'<xccdf:Profile id="xccdf_test_profile_t" extends="{L1}"><xccdf:title>t</xccdf:title>{sets}'
        "</xccdf:Profile></xccdf:Tailoring>")
    return path


def test_tailoring_values_win_and_match_oscap(tmp_path):
    path = tailoring(tmp_path, {"var_accounts_tmout": "123"})
    blocks = oscap_blocks("xccdf_test_profile_t", path)
    plan = read_plan(DS, L1, [R + "accounts_tmout"], tailoring=path, tailored_profile="xccdf_test_profile_t")
    (fix,) = plan.fixes
    assert "var_accounts_tmout='123'" in fix.text
    assert fix.text.strip() == blocks[R + "accounts_tmout"]
    assert plan.values == [UsedValue(V + "var_accounts_tmout", "123", "tailoring tailoring.xml (set-value)")]


HOSTILE = ["x'; touch {canary}; echo '", "$(touch {canary})", "`touch {canary}`", 'a"; touch {canary}; "', "a b\nc"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_tailoring_value_makes_no_script(tmp_path, hostile):
    value = hostile.format(canary=tmp_path / "canary")
    path = tailoring(tmp_path, {"var_accounts_tmout": value.replace("&", "&amp;").replace("<", "&lt;")})
    with pytest.raises(InvalidInput) as refused:
        read_plan(DS, L1, [R + "accounts_tmout"], tailoring=path, tailored_profile="xccdf_test_profile_t",
                  tailoring_name="site.xml")
    message = str(refused.value)
    assert message.startswith("refused Value var_accounts_tmout = ") and "from tailoring site.xml" in message
    assert "\n" not in message


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("before", ["x=", "x='", 'x="'])
def test_quoting_keeps_any_value_a_value(tmp_path, hostile, before):
    """Behind the value check, quoting still holds: whatever the value, bash sees one value."""
    canary = tmp_path / "canary"
    value = hostile.format(canary=canary)
    closing = before[-1] if before[-1] in "'\"" else ""
    assignment = before + _quoted(value, before, "sh") + closing
    shown = subprocess.run(["bash", "-c", f'{assignment}\nprintf %s "$x"'], capture_output=True, text=True)
    assert shown.stdout == value and not canary.exists()


def test_risks_missing_fixes_and_the_whole_script():
    rules = [R + r for r in ("accounts_passwords_pam_tally2", "sudo_custom_logfile", "package_aide_installed",
                             "partition_for_tmp", "grub2_password")]
    plan = read_plan(DS, L1, rules)
    by_id = {f.short_id: f for f in plan.fixes}
    assert by_id["accounts_passwords_pam_tally2"].risks == ("PAM",) and by_id["accounts_passwords_pam_tally2"].locks_out
    assert "sudoers" in by_id["sudo_custom_logfile"].risks
    assert "packages" in by_id["package_aide_installed"].risks and not by_id["package_aide_installed"].locks_out
    assert {m.rule_id for m in plan.missing} == {R + "partition_for_tmp", R + "grub2_password"}
    assert "Ensure" in next(m.title for m in plan.missing if m.rule_id.endswith("partition_for_tmp"))
    assert plan.warning_classes() == [
        ("changes PAM", ["accounts_passwords_pam_tally2"]), ("changes sudoers", ["sudo_custom_logfile"]),
        ("installs or removes packages", ["package_aide_installed"]),
        ("no automated fix", ["partition_for_tmp", "grub2_password"])]
    assert plan.warnings()[0] == "changes PAM: accounts_passwords_pam_tally2"
    script = whole_script(plan, "web1")
    assert script.startswith("#!/usr/bin/env bash\n# compliance-tui Quick Fix of web1: 3 rule(s)")
    assert "# no automated fix: xccdf_org.ssgproject.content_rule_partition_for_tmp" in script
    assert script.index("1/3 " + R + "accounts_passwords_pam_tally2") < script.index("2/3 " + R + "sudo_custom_logfile")
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_fixes_that_need_a_reboot_or_disrupt_ask_twice():
    plan = read_plan(DS, L1, [R + "kernel_module_cramfs_disabled", R + "accounts_umask_etc_bashrc"])
    reboot = [f for f in plan.fixes if f.reboot]
    assert reboot and plan.needs_second_confirmation
    assert any(line.startswith("needs a reboot: ") for line in plan.warnings())
    assert not read_plan(DS, L1, [R + "accounts_umask_etc_bashrc"]).needs_second_confirmation


def test_an_ansible_playbook_and_template_values_refused(tmp_path):
    plan = read_plan(DS, L1, [R + "sudo_custom_logfile", R + "sysctl_fs_suid_dumpable"], system="ansible")
    text = playbook(plan, "web1")
    assert "hosts: web1" in text and "become: true" in text and "var_sudo_logfile: !!str '/var/log/sudo.log'" in text
    assert collections_needed(plan) == ["ansible.posix"]
    path = tailoring(tmp_path, {"var_sudo_logfile": "{{ lookup('pipe', 'id') }}"})
    with pytest.raises(InvalidInput, match="refused Value var_sudo_logfile"):
        read_plan(DS, L1, [R + "sudo_custom_logfile"], system="ansible", tailoring=path,
                  tailored_profile="xccdf_test_profile_t")
    with pytest.raises(InvalidInput, match="looks like an Ansible template"):  # behind the check, still
        _quoted("{{ lookup('pipe', 'id') }}", "", "ansible")


def test_a_summary_line_per_warning_class_that_fits_its_width():
    rules = [f"rule_number_{n}" for n in range(30)]
    lines = summary_lines([("changes PAM", rules), ("needs a reboot", ["one"])], 60)
    assert lines[0].startswith("changes PAM (30): rule_number_0, rule_number_1") and lines[0].endswith(" more")
    assert all(len(line) <= 60 for line in lines) and lines[1] == "needs a reboot (1): one"


def test_a_bash_fix_without_attributes_takes_them_from_the_rules_other_fixes():
    """SSG states disruption and complexity on aide_build_database's Ansible fix, not on its
    bash fix: the preview says what the playbook says (low_disruption), not '?'."""
    plan = read_plan(DS, L1, [R + "aide_build_database", R + "disable_prelink"])
    found = {fix.rule_id: fix for fix in plan.fixes}
    aide = found[R + "aide_build_database"]
    assert (aide.disruption, aide.complexity, aide.strategy, aide.reboot) == ("low", "low", "restrict", False)
    prelink = found[R + "disable_prelink"]  # no fix of this rule states them: left empty
    assert (prelink.disruption, prelink.complexity) == ("", "")
