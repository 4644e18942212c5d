"""The profile catalog: every OS row of the product spec, resolved against the SSG content
installed here (Debian bookworm, SSG 0.1.65) and, when `make content` has fetched them, SSG
0.1.76 and 0.1.82 side by side; profile names and the messages for what is missing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from core.content import catalog as content
from core.content.catalog import (
    SHORT_NAMES,
    ContentError,
    OsNotDetected,
    available_profiles,
    catalog_entry,
    discover,
    is_valid_profile_name,
    load_catalog,
    resolve_profile,
)
from core.domain.models import OsInfo
from tests.unit.test_content import L1, SSG, P, make_ds, needs_ssg, ubuntu


@pytest.fixture(scope="module")
def installed(content_index):
    """SSG 0.1.65 as Debian bookworm installs it, read through the session's content index."""
    return discover([SSG], content_index)


# --- the catalog: every row of the product spec's table ------------------------------------

DERIVED_8 = ("rhel8", 242, 309, "RHEL 8")
DERIVED_8_UEFI = ("rhel8", 235, 302, "RHEL 8")  # without RHEL's 7 UEFI rules (their own EFI directory)
DERIVED_9 = ("rhel9", 234, 301, "RHEL 9")
SPEC_ROWS = {
    # label: (OsInfo as detected, expected outcome with SSG 0.1.65 installed): (product, L1 rules, L2 rules),
    # the same plus the label of the content it is derived from, or what the error message says
    "Ubuntu 20.04": (OsInfo("ubuntu", "20.04", "Ubuntu 20.04.6 LTS", "debian"), ("ubuntu2004", 191, 275)),
    "Ubuntu 22.04": (OsInfo("ubuntu", "22.04", "Ubuntu 22.04.4 LTS", "debian"), ("ubuntu2204", 189, 273)),
    "Ubuntu 24.04": (OsInfo("ubuntu", "24.04", "Ubuntu 24.04.1 LTS", "debian"),
                     ["ssg-ubuntu2404-ds.xml", "SSG 0.1.76 or newer", "ssg-debderived from trixie or newer",
                      "content import PATH"]),
    "Debian 11": (OsInfo("debian", "11", "Debian GNU/Linux 11 (bullseye)", "debian"),
                  ["derived from Debian 12 content", "ssg-debian12-ds.xml", "SSG 0.1.82 or newer",
                   "ssg-debian from sid", "content import PATH"]),
    "Debian 12": (OsInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)", "debian"),
                  ["ssg-debian12-ds.xml", "SSG 0.1.82 or newer", "ssg-debian from sid", "content import PATH"]),
    "RHEL 8": (OsInfo("rhel", "8.9", "Red Hat Enterprise Linux 8.9 (Ootpa)", "rhel"), ("rhel8", 242, 309)),
    "RHEL 9": (OsInfo("rhel", "9.3", "Red Hat Enterprise Linux 9.3 (Plow)", "rhel"), ("rhel9", 234, 301)),
    "AlmaLinux 8": (OsInfo("almalinux", "8.9", "AlmaLinux 8.9 (Midnight Oncilla)", "rhel"), DERIVED_8_UEFI),
    "AlmaLinux 9": (OsInfo("almalinux", "9.3", "AlmaLinux 9.3 (Shamrock Pampas Cat)", "rhel"),
                    ["ssg-almalinux9-ds.xml", "SSG 0.1.76 or newer", "ssg-nondebian from trixie or newer"]),
    "Rocky Linux 8": (OsInfo("rocky", "8.9", "Rocky Linux 8.9 (Green Obsidian)", "rhel"), DERIVED_8_UEFI),
    "Rocky Linux 9": (OsInfo("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)", "rhel"), ("rhel9", 229, 296, "RHEL 9")),
    "Oracle Linux 8": (OsInfo("ol", "8.9", "Oracle Linux Server 8.9", "rhel"), DERIVED_8),
    "Oracle Linux 9": (OsInfo("ol", "9.3", "Oracle Linux Server 9.3", "rhel"), DERIVED_9),
    "Amazon Linux 2": (OsInfo("amzn", "2", "Amazon Linux 2", "rhel"), ("rhel7", 230, 293, "RHEL 7")),
}

# The rows beyond the spec's table, after its rows: (OsInfo, outcome with SSG 0.1.65 installed) as above
BEYOND = {
    "RHEL 7": (OsInfo("rhel", "7.9", "Red Hat Enterprise Linux Server 7.9 (Maipo)", "rhel"), ("rhel7", 237, 300)),
    "Debian 13": (OsInfo("debian", "13", "Debian GNU/Linux 13 (trixie)", "debian"),
                  ["ssg-debian13-ds.xml", "SSG 0.1.82 or newer", "ssg-debian from sid"]),
    "RHEL 10": (OsInfo("rhel", "10.0", "Red Hat Enterprise Linux 10.0 (Coughlan)", "rhel"),
                ["ssg-rhel10-ds.xml", "SSG 0.1.76 or newer", "ssg-nondebian from trixie or newer"]),
    "AlmaLinux 10": (OsInfo("almalinux", "10.0", "AlmaLinux 10.0 (Purple Lion)", "rhel"),
                     ["derived from RHEL 10 content", "ssg-rhel10-ds.xml", "SSG 0.1.76 or newer"]),
    "Rocky Linux 10": (OsInfo("rocky", "10.0", "Rocky Linux 10.0 (Red Quartz)", "rhel"),
                       ["derived from RHEL 10 content", "ssg-rhel10-ds.xml"]),
    "Oracle Linux 10": (OsInfo("ol", "10.0", "Oracle Linux Server 10.0", "rhel"),
                        ["derived from RHEL 10 content", "ssg-rhel10-ds.xml"]),
    "Amazon Linux 2023": (OsInfo("amzn", "2023", "Amazon Linux 2023.6.20250218", "rhel"),
                          ["ssg-al2023-ds.xml", "SSG 0.1.76 or newer", "ssg-nondebian from trixie or newer"]),
}
ROWS = SPEC_ROWS | BEYOND

# With SSG 0.1.65, 0.1.76 and 0.1.82 side by side (`make content`): (product, SSG release, L1, L2, derived from)
NEWEST = {
    "Ubuntu 20.04": ("ubuntu2004", "0.1.76", 260, 345, None),
    "Ubuntu 22.04": ("ubuntu2204", "0.1.82", 398, 500, None),
    "Ubuntu 24.04": ("ubuntu2404", "0.1.82", 408, 510, None),
    "Debian 11": ("debian12", "0.1.82", 403, 507, "Debian 12"),  # nothing to switch off
    "Debian 12": ("debian12", "0.1.82", 403, 507, None),
    "RHEL 8": ("rhel8", "0.1.82", 340, 443, None),
    "RHEL 9": ("rhel9", "0.1.82", 295, 401, None),
    # the rebuilds: less ensure_redhat_gpgkey_installed (1), and for 8 also RHEL's 7 UEFI rules
    "AlmaLinux 8": ("rhel8", "0.1.82", 332, 435, "RHEL 8"),
    "AlmaLinux 9": ("almalinux9", "0.1.82", 288, 385, None),
    "Rocky Linux 8": ("rhel8", "0.1.82", 332, 435, "RHEL 8"),
    "Rocky Linux 9": ("rhel9", "0.1.82", 294, 400, "RHEL 9"),
    "Oracle Linux 8": ("rhel8", "0.1.82", 339, 442, "RHEL 8"),
    "Oracle Linux 9": ("rhel9", "0.1.82", 294, 400, "RHEL 9"),
    "Amazon Linux 2": ("rhel7", "0.1.65", 230, 293, "RHEL 7"),
    "RHEL 7": ("rhel7", "0.1.65", 237, 300, None),
    "Debian 13": ("debian13", "0.1.82", 403, 519, None),
    "RHEL 10": ("rhel10", "0.1.82", 324, 439, None),
    "AlmaLinux 10": ("rhel10", "0.1.82", 323, 438, "RHEL 10"),
    "Rocky Linux 10": ("rhel10", "0.1.82", 323, 438, "RHEL 10"),
    "Oracle Linux 10": ("rhel10", "0.1.82", 323, 438, "RHEL 10"),
    "Amazon Linux 2023": ("al2023", "0.1.82", 259, 356, None),
}


def test_catalog_has_one_entry_per_spec_row():
    entries = load_catalog()
    assert [e.label for e in entries] == list(ROWS)  # the spec's rows first, then the ones beyond it
    assert [e.label for e in entries if not e.beyond_spec] == list(SPEC_ROWS)
    for label, (os_info, _) in ROWS.items():
        assert catalog_entry(os_info).label == label


def test_catalog_entries_are_consistent():
    for entry in load_catalog():
        assert set(entry.profiles) in (set(), set(SHORT_NAMES))
        assert all(is_valid_profile_name(pid) for pid in entry.profiles.values())
        if entry.reason:
            assert "\n" not in entry.reason and len(entry.reason) > 60
            assert not entry.profiles and not entry.derived_from
            continue
        if entry.derived_from:  # the source's profiles, its own CPE
            source = next(e for e in load_catalog() if e.product == entry.derived_from and not e.derived_from)
            assert entry.profiles == source.profiles
            vendor = {"ol": "oracle:linux", "debian": "debian:debian_linux", "amzn": "amazon:amazon_linux"}
            assert entry.cpe == f"cpe:/o:{vendor.get(entry.os_id, f'{entry.os_id}:{entry.os_id}')}:{entry.version}"
            if entry.os_id in ("debian", "amzn"):  # Debian 11 from Debian 12, Amazon Linux 2 from RHEL 7
                assert (entry.label, source.label) in (("Debian 11", "Debian 12"), ("Amazon Linux 2", "RHEL 7"))
            else:  # a rebuild of RHEL N
                assert source.os_id == "rhel" and source.version == entry.version
            assert entry.product in (None, f"ol{entry.version}", "debian11")
            assert all(rule.startswith(content.RULE_PREFIX) and len(why) > 60
                       for rule, why in content.switched_off(entry))
            continue
        assert not entry.switch_off
        assert entry.datastream == f"ssg-{entry.product}-ds.xml"
        rhel_like = entry.os_id in ("rhel", "almalinux", "amzn")
        assert entry.profiles["cis-level1-server"] == P + ("cis_server_l1" if rhel_like else "cis_level1_server")
        assert entry.profiles["cis-level2-server"] == P + ("cis" if rhel_like else "cis_level2_server")
        assert entry.package == ("ssg-nondebian" if rhel_like else "ssg-debderived" if entry.os_id == "ubuntu"
                                 else "ssg-debian")


def test_a_catalog_entry_needs_content_a_source_or_a_reason():
    with pytest.raises(ContentError, match="or derived_from and cpe, or a reason"):
        content._make_entry({"id": "rocky", "version": "9", "label": "Rocky Linux 9", "derived_from": "rhel9"})


@needs_ssg
@pytest.mark.skipif(shutil.which("dpkg") is None, reason="no dpkg")
def test_catalog_packages_match_dpkg():
    """Where the datastream is installed here, dpkg -S agrees with the catalog's package."""
    checked = 0
    for entry in load_catalog():
        if entry.datastream and (SSG / entry.datastream).exists():
            out = subprocess.run(["dpkg", "-S", str(SSG / entry.datastream)], capture_output=True, text=True)
            assert out.stdout.split(":")[0] == entry.package, entry.label
            checked += 1
    assert checked == 8  # ubuntu2004, ubuntu2204, debian11, rhel7, rhel8, rhel9, ol8, ol9


@needs_ssg
@pytest.mark.parametrize("label", list(ROWS))
def test_each_spec_row_resolves_or_says_why(label, installed):
    found = installed
    os_info, expected = ROWS[label]
    if isinstance(expected, tuple):
        product, l1_count, l2_count, *derived = expected
        for short, count in zip(SHORT_NAMES, (l1_count, l2_count)):
            choice = resolve_profile(os_info, short, found)
            assert choice.short_name == short
            assert choice.profile_id == catalog_entry(os_info).profiles[short]
            assert choice.datastream.product == product
            assert choice.datastream.path == SSG / f"ssg-{product}-ds.xml"
            assert choice.datastream.version == "0.1.65"
            assert choice.rule_count == count
            assert "CIS" in choice.title
            assert_derivation(choice, os_info, derived[0] if derived else None)
        assert [c.short_name for c in available_profiles(os_info, found)] == list(SHORT_NAMES)
    else:
        for short in SHORT_NAMES:
            with pytest.raises(ContentError) as err:
                resolve_profile(os_info, short, found)
            message = str(err.value)
            assert message.startswith(f"{label}: ")
            assert "\n" not in message
            for part in expected:
                assert part in message
        assert available_profiles(os_info, found) == []


def assert_derivation(choice, os_info: OsInfo, source: str | None) -> None:
    """A rebuild gets RHEL's datastream, still to be derived, and a label; any other OS its own."""
    if source is None:
        assert (choice.derivative, choice.derived_from, choice.derived_label) == (None, None, None)
        assert not choice.needs_derivation
        return
    assert choice.needs_derivation and choice.datastream.derived_from is None
    assert choice.derived_from == source and choice.derived_label == f"derived from {source} content"
    d, entry = choice.derivative, catalog_entry(os_info)
    assert (d.os_id, d.major, d.source, d.source_product) == (os_info.id, os_info.major, source,
                                                               choice.datastream.product)
    assert (d.label, d.key, d.cpe) == (entry.label, f"{os_info.id}{os_info.major}", entry.cpe)


@pytest.fixture(scope="module")
def every_release(content_index, tmp_path_factory):
    """The installed content plus SSG 0.1.76 and 0.1.82 from $COMPLIANCE_TUI_CONTENT_DIRS."""
    found = discover(content.default_content_dirs(tmp_path_factory.mktemp("none")), content_index)
    if not {"0.1.65", "0.1.76", "0.1.82"} <= {d.version for d in found if d.product == "rhel9"}:
        pytest.skip("SSG 0.1.76 and 0.1.82 are not in $COMPLIANCE_TUI_CONTENT_DIRS (make content)")
    return found


@pytest.mark.parametrize("label", list(NEWEST))
def test_each_spec_row_with_every_release(label, every_release):
    """Every row gets both CIS Server levels from the newest release that has them, or says why."""
    os_info = ROWS[label][0]
    if NEWEST[label] is None:
        for short in SHORT_NAMES:
            with pytest.raises(ContentError, match=f"^{label}: "):
                resolve_profile(os_info, short, every_release)
        assert available_profiles(os_info, every_release) == []
        return
    product, version, l1_count, l2_count, source = NEWEST[label]
    choices = available_profiles(os_info, every_release)
    assert [c.short_name for c in choices] == list(SHORT_NAMES)
    for choice, short, count in zip(choices, SHORT_NAMES, (l1_count, l2_count)):
        assert resolve_profile(os_info, short, every_release) == choice
        assert (choice.datastream.product, choice.datastream.version, choice.rule_count) == (product, version, count)
        assert_derivation(choice, os_info, source)


def test_every_rule_switched_off_is_in_its_sources_cis_profiles(every_release):
    """Each switch_off rule is selected by some release's CIS profile of a source that switches it off."""
    selected: dict[str, set[str]] = {}  # rule -> rows whose source content selects it
    for entry in load_catalog():
        sources = [ds for ds in every_release if ds.product == entry.derived_from]
        chosen = {rule for ds in sources for pid in entry.profiles.values() if pid in ds.profiles
                  for rule in ds.profiles[pid].watched}
        for rule, _ in content.switched_off(entry):
            if rule in chosen:
                selected.setdefault(rule, set()).add(entry.label)
    assert set(selected) == content.watched_rules()  # no rule name in the catalog is a typo
    assert selected[content.RULE_PREFIX + "grub2_uefi_password"] == {
        "AlmaLinux 8", "Rocky Linux 8", "Rocky Linux 9", "Amazon Linux 2"}


def test_a_rebuild_without_rhel_content_says_where_to_get_it():
    rocky9 = OsInfo("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)", "rhel")
    with pytest.raises(ContentError) as err:
        resolve_profile(rocky9, "cis-level2-server", [])
    assert str(err.value) == (
        "Rocky Linux 9: its CIS content is derived from RHEL 9 content, and no datastream with CIS Level 2 "
        "Server found (ssg-rhel9-ds.xml, SSG 0.1.65 or newer); install Debian package ssg-nondebian from "
        "bookworm or newer, or `compliance-tui content import PATH`")
    assert available_profiles(rocky9, []) == []


@needs_ssg
def test_missing_profile_message_is_the_documented_one(installed):
    with pytest.raises(ContentError) as err:
        resolve_profile(ubuntu("24.04"), "cis-level1-server", installed)
    assert str(err.value) == (
        "Ubuntu 24.04: no datastream with CIS Level 1 Server found (ssg-ubuntu2404-ds.xml, SSG 0.1.76 or "
        "newer); install Debian package ssg-debderived from trixie or newer, or "
        "`compliance-tui content import PATH`")


def test_message_names_an_older_release_that_lacks_the_profile(tmp_path):
    make_ds(tmp_path / "ssg-debian12-ds.xml", "0.1.76", {"standard": ["a"]})
    found = discover([tmp_path])
    debian12 = OsInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)", "debian")
    with pytest.raises(ContentError, match=r"found SSG 0\.1\.76 without it\); install Debian package ssg-debian "
                                           r"from sid, or"):
        resolve_profile(debian12, "cis-level2-server", found)


def test_ubuntu2004_was_dropped_after_trixie():
    with pytest.raises(ContentError, match="ssg-debderived from bookworm or trixie, or"):
        resolve_profile(ubuntu("20.04"), "cis-level1-server", [])


# --- resolve_profile: OS states, full ids, names -----------------------------------------------

def test_os_not_detected():
    with pytest.raises(OsNotDetected) as err:
        resolve_profile(None, "cis-level1-server", [])
    assert str(err.value) == "OS of this host is not detected yet: run `compliance-tui hosts detect NAME`"
    assert isinstance(err.value, ContentError)
    named = OsNotDetected("web-1")
    assert str(named) == "OS of host web-1 is not detected yet: run `compliance-tui hosts detect web-1`"
    assert available_profiles(None, []) == []


@pytest.mark.parametrize("os_info", [
    OsInfo("ubuntu", "18.04", "Ubuntu 18.04.6 LTS", "debian"),
    OsInfo("fedora", "39", "Fedora Linux 39 (Server Edition)", "rhel"),
    OsInfo("sles", "15.5", "SUSE Linux Enterprise Server 15 SP5", "suse"),
    OsInfo("amzn", "2018.03", "Amazon Linux AMI 2018.03", "rhel"),  # neither 2 nor 2023
])
def test_os_outside_the_catalog(os_info):
    with pytest.raises(ContentError) as err:
        resolve_profile(os_info, "cis-level1-server", [])
    message = str(err.value)
    assert message.startswith(f"{os_info.pretty_name} (ID={os_info.id}, VERSION_ID={os_info.version}) is not in")
    for label in ROWS:
        assert label in message
    assert available_profiles(os_info, []) == []


@needs_ssg
def test_full_profile_id_is_accepted_when_the_datastream_has_it(installed):
    found = installed
    choice = resolve_profile(ubuntu("22.04"), P + "cis_level1_workstation", found)
    assert (choice.short_name, choice.rule_count) == (None, 188)
    assert choice.datastream.product == "ubuntu2204"
    same = resolve_profile(ubuntu("22.04"), L1, found)  # a full id that is a short name's id
    assert same.short_name == "cis-level1-server" and same.rule_count == 189
    # Oracle Linux 8 has no CIS content, but its own datastream's other profiles can be asked for
    ol8_os = OsInfo("ol", "8.9", "Oracle Linux Server 8.9", "rhel")
    ol8 = resolve_profile(ol8_os, P + "stig", found)
    assert ol8.datastream.product == "ol8" and ol8.rule_count > 0 and ol8.derivative is None
    # ... while CIS, by full id too, comes from RHEL 8 content, derived
    cis = resolve_profile(ol8_os, P + "cis", found)
    assert (cis.short_name, cis.datastream.product, cis.derived_from) == ("cis-level2-server", "rhel8", "RHEL 8")
    # a rebuild without a product of its own takes any RHEL profile by full id, derived
    stig = resolve_profile(OsInfo("rocky", "9.3", "Rocky Linux 9.3", "rhel"), P + "stig", found)
    assert (stig.short_name, stig.datastream.product, stig.derived_from) == (None, "rhel9", "RHEL 9")


@needs_ssg
def test_full_profile_id_missing_from_the_datastream(installed):
    with pytest.raises(ContentError) as err:
        resolve_profile(ubuntu("22.04"), P + "stig", installed)
    message = str(err.value)
    assert message.startswith("Ubuntu 22.04: profile xccdf_org.ssgproject.content_profile_stig is not in "
                              "ssg-ubuntu2204-ds.xml (SSG 0.1.65)")
    assert "cis_level1_server" in message and "standard" in message
    # a rebuild: the RHEL content its content is derived from is named
    with pytest.raises(ContentError) as err:
        resolve_profile(OsInfo("rocky", "9.3", "Rocky Linux 9.3", "rhel"), P + "nosuch", installed)
    assert str(err.value).startswith(
        "Rocky Linux 9: its CIS content is derived from RHEL 9 content, and profile "
        "xccdf_org.ssgproject.content_profile_nosuch is not in ssg-rhel9-ds.xml (SSG 0.1.65); its profiles: ")
    # Debian 11's CIS is derived, yet its own content's other profiles can still be asked for by full id
    debian11 = resolve_profile(OsInfo("debian", "11", "Debian GNU/Linux 11", "debian"), P + "standard", installed)
    assert debian11.datastream.product == "debian11" and debian11.derivative is None


@pytest.mark.parametrize("name", [
    "cis-level1-server", "cis-level2-server", L1, P + "cis", "xccdf_com.example.policy_profile_web-tier.v2",
])
def test_valid_profile_names(name):
    assert is_valid_profile_name(name)


@pytest.mark.parametrize("name", [
    "", "cis", "CIS-LEVEL1-SERVER", "cis-level1-workstation", "cis_level1_server",
    "xccdf_org_profile_x",  # no reverse-dns dot
    "xccdf_org.ssgproject.content_rule_sshd_enable_pam",  # a rule, not a profile
    "xccdf_org.ssgproject.content_profile_",  # no name
    "xccdf_org.ssgproject.content_profile_cis; rm -rf /", "xccdf_org.ssgproject.content_profile_cis\n",
    " cis-level1-server", "--profile=x", "xccdf_org.ssgproject.content_profile_" + "x" * 300,
])
def test_invalid_profile_names(name):
    assert not is_valid_profile_name(name)
    with pytest.raises(ContentError, match="invalid profile"):
        resolve_profile(None, name, [])  # rejected before the OS is even looked at
