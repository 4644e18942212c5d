"""core/content/values.py: a Value reaches a fix script only when it is one of its own choices
or passes its type, pattern, bounds and the string character set; checked on every Value of
real SSG content, in a tailoring when it is read, and when a fix script is assembled."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.content.tailoring import read_tailoring
from core.content.values import ValueDef, check, definition_of
from core.domain.errors import InvalidInput
from core.remediation.fixes import read_plan
from core.results.xccdf import stream, text_of, xccdf_name
from tests.unit.test_fixes import DS, L1, R, V, tailoring

pytestmark = pytest.mark.skipif(not DS.exists(), reason="ssg-debderived (SSG 0.1.65) is not installed")
INJECTIONS = ["{v}; touch /tmp/pwned", "{v}$(id -un)", "{v}`id`", "{v}\nid", "{v} && id", "{v}|id", "{v} id",
              "{v}${{IFS}}id", "{v}'", '{v}"', "{v}>/etc/passwd", "{v}#"]
ISSUE_UMASK = "027; touch /tmp/x/pwned-$(id -un)"


@pytest.fixture(scope="module")
def definitions() -> list[ValueDef]:
    found = []
    for event, name, element in stream(DS, frozenset({"Value"})):
        if event == "end" and name == "Value":
            found.append(definition_of(element, xccdf_name, text_of))
    assert len(found) > 200
    return found


def test_every_listed_choice_of_real_content_is_accepted(definitions):
    for definition in definitions:
        for choice in definition.choices:
            assert check(definition, definition.id, choice, "test") == choice


def test_an_injection_through_any_string_or_number_value_is_refused(definitions):
    """Every string and number Value of the datastream, each shell trick appended to its default."""
    tried = 0
    for definition in (d for d in definitions if d.type in ("string", "number")):
        default = definition.choices[0] if definition.choices else "1"
        for injection in INJECTIONS:
            value = injection.format(v=default)
            if value in definition.choices:
                continue
            with pytest.raises(InvalidInput, match=rf"^refused Value {definition.short_id} = "):
                check(definition, definition.id, value, "tailoring t.xml")
            tried += 1
    assert tried > 1500


def test_types_patterns_and_bounds():
    number = ValueDef(V + "n", "number", ("900",), lower=60, upper=3600)
    assert check(number, number.id, "120", "t") == "120"
    for bad in ("900; reboot", "1e3", "12a", "30", "4000", ""):
        with pytest.raises(InvalidInput):
            check(number, number.id, bad, "t")
    boolean = ValueDef(V + "b", "boolean", ("true",))
    assert check(boolean, boolean.id, "false", "t") == "false"
    with pytest.raises(InvalidInput, match="boolean Value is true, false, 1 or 0"):
        check(boolean, boolean.id, "yes", "t")
    pattern = ValueDef(V + "p", "string", (), match=r"[0-7]{3}")
    assert check(pattern, pattern.id, "027", "t") == "027"
    with pytest.raises(InvalidInput, match="does not match the Value's pattern"):
        check(pattern, pattern.id, "0277", "t")
    closed = ValueDef(V + "c", "string", ("a", "b"), must_match=True)
    with pytest.raises(InvalidInput, match="one of the Value's own choices"):
        check(closed, closed.id, "c", "t")


def test_the_floor_holds_even_for_a_listed_choice():
    """A datastream whose own choice runs a command is hostile content: refused all the same."""
    hostile = ValueDef(V + "h", "string", ("$(reboot)", "x\ny", "`id`"))
    for choice in hostile.choices:
        with pytest.raises(InvalidInput, match="never allowed"):
            check(hostile, hostile.id, choice, "content x.xml")


def test_a_tailoring_setting_a_hostile_value_is_refused_when_read(tmp_path):
    path = tailoring(tmp_path, {"var_accounts_user_umask": ISSUE_UMASK})
    with pytest.raises(InvalidInput) as refused:
        read_tailoring(path, "site-tailoring.xml")
    assert str(refused.value) == (
        'refused Value var_accounts_user_umask = "027; touch /tmp/x/pwned-$(id -un)" from tailoring '
        "site-tailoring.xml: control characters, backticks, $( and ${ are never allowed")
    path = tailoring(tmp_path, {"var_accounts_user_umask": "027; touch /tmp/x/pwned"})
    with pytest.raises(InvalidInput, match="may hold only letters, digits and _ . , : / @ [+] = % -, unless it is one "
                                           "of the Value's own choices$"):
        read_tailoring(path, "site-tailoring.xml")


@pytest.mark.parametrize(("value_name", "rule", "hostile"), [
    ("var_accounts_user_umask", "accounts_umask_etc_profile", ISSUE_UMASK),
    ("var_accounts_tmout", "accounts_tmout", "900; touch /tmp/pwned"),
    ("var_sudo_logfile", "sudo_custom_logfile", "/var/log/sudo.log\nDefaults !authenticate"),
    ("var_audispd_remote_server", "auditd_audispd_configure_remote_server", "logcollector;id"),
    ("var_auditd_space_left_action", "auditd_data_retention_space_left_action", "email|id"),
    ("var_sshd_priv_separation", "sshd_use_priv_separation", "sandbox `id`"),
])
def test_the_fix_script_is_not_assembled_with_a_hostile_value(tmp_path, value_name, rule, hostile):
    """Behind the check when a tailoring is read, the same check where the script is made."""
    assert any(v.short_id == value_name for v in read_plan(DS, L1, [R + rule]).values)  # the fix uses it
    path = tailoring(tmp_path, {value_name: hostile.replace("&", "&amp;").replace("<", "&lt;")})
    with pytest.raises(InvalidInput, match=rf"^refused Value {value_name} = .* from tailoring site.xml \(set-value\)"):
        read_plan(DS, L1, [R + rule], tailoring=path, tailored_profile="xccdf_test_profile_t",
                  tailoring_name="site.xml")


def test_the_plan_lists_every_value_it_uses_and_where_it_came_from(tmp_path: Path):
    path = tailoring(tmp_path, {"var_accounts_tmout": "600"})
    plan = read_plan(DS, L1, [R + "accounts_tmout", R + "accounts_maximum_age_login_defs", R + "sudo_custom_logfile"],
                     tailoring=path, tailored_profile="xccdf_test_profile_t", tailoring_name="site.xml")
    used = {v.short_id: (v.value, v.source) for v in plan.values}
    assert used["var_accounts_tmout"] == ("600", "tailoring site.xml (set-value)")
    assert used["var_accounts_maximum_age_login_defs"] == ("365", "profile cis_level1_server (selector 365)")
    assert used["var_sudo_logfile"] == ("/var/log/sudo.log", "ssg-ubuntu2204-ds.xml (default)")
