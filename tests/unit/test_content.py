"""core.content against the SSG content really installed here (Debian bookworm, SSG 0.1.65)
and against small hand-written datastreams for what the installed content cannot show."""

from __future__ import annotations

import bz2
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core import content
from core.content import (
    SHORT_NAMES, ContentError, OsNotDetected, available_profiles, catalog_entry, discover,
    is_valid_profile_name, load_catalog, read_datastream, resolve_profile,
)
from core.models import OsInfo

SSG = Path("/usr/share/xml/scap/ssg/content")
P = "xccdf_org.ssgproject.content_profile_"
L1, L2 = P + "cis_level1_server", P + "cis_level2_server"

needs_ssg = pytest.mark.skipif(not (SSG / "ssg-ubuntu2204-ds.xml").exists(), reason="SSG 0.1.65 content not installed")


class CountingReader:
    """The discover() seam: records which files were really parsed, then parses them."""

    def __init__(self):
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> content.Datastream:
        self.paths.append(path)
        return read_datastream(path)


@pytest.fixture(scope="module")
def ssg(tmp_path_factory):
    """A cold discover of the installed content, with its index and its parse count."""
    index = tmp_path_factory.mktemp("index") / "content-index.json"
    reader = CountingReader()
    found = discover([SSG], index, reader=reader)
    return found, index, reader


def by_product(found, product):
    [ds] = [d for d in found if d.product == product]
    return ds


# --- hand-written datastreams -------------------------------------------------------------

def make_ds(path: Path, version: str, profiles: dict[str, list[str]], rules=("a", "b", "c", "d"),
            tail: str = "", more_profiles: str = "") -> Path:
    """A small but structurally real SCAP 1.3 datastream: a CPE component, the XCCDF
    benchmark (profiles, values, groups, rules), then an OVAL component."""
    rule_xml = "".join(
        f'<xccdf:Rule id="xccdf_org.ssgproject.content_rule_{r}" selected="false" severity="medium">'
        f"<xccdf:title>Rule {r}</xccdf:title><xccdf:description>Do <html:code>{r}</html:code>"
        f"</xccdf:description></xccdf:Rule>" for r in rules)
    profile_xml = ""
    for name, selected in profiles.items():
        selects = "".join(f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_{r}" selected="true"/>'
                          for r in selected)
        profile_xml += (f'<xccdf:Profile id="{P}{name}"><xccdf:title xml:lang="en-US">Title of {name}'
                        f"</xccdf:title><xccdf:description>About <html:b>it</html:b></xccdf:description>"
                        f"{selects}"
                        # never counted: a group, an unknown id, a rule selected then deselected
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_group_g" selected="true"/>'
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_nosuch" selected="true"/>'
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_d" selected="true"/>'
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_d" selected="false"/>'
                        f"</xccdf:Profile>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""<?xml version="1.0"?>
<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"
  xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2" xmlns:html="http://www.w3.org/1999/xhtml"
  xmlns:cpe-dict="http://cpe.mitre.org/dictionary/2.0"
  xmlns:oval-def="http://oval.mitre.org/XMLSchema/oval-definitions-5" id="scap_test_collection">
  <ds:component id="scap_test_comp_cpe"><cpe-dict:cpe-list><cpe-dict:cpe-item name="cpe:/o:test">
    <cpe-dict:title>Test</cpe-dict:title></cpe-dict:cpe-item></cpe-dict:cpe-list></ds:component>
  <ds:component id="scap_test_comp_xccdf">
    <xccdf:Benchmark id="xccdf_org.ssgproject.content_benchmark_TEST" resolved="true">
      <xccdf:title>Test benchmark</xccdf:title>
      <xccdf:version>{version}</xccdf:version>
      {profile_xml}{more_profiles}
      <xccdf:Value id="xccdf_org.ssgproject.content_value_v" type="number"><xccdf:value>1</xccdf:value></xccdf:Value>
      <xccdf:Group id="xccdf_org.ssgproject.content_group_g"><xccdf:title>G</xccdf:title>{rule_xml}</xccdf:Group>
    </xccdf:Benchmark>
  </ds:component>
  <ds:component id="scap_test_comp_oval"><oval-def:oval_definitions><oval-def:definitions>
    <oval-def:definition id="oval:test:def:1" class="compliance" version="1"/>
  </oval-def:definitions></oval-def:oval_definitions></ds:component>
{tail}</ds:data-stream-collection>
""")
    return path


def ubuntu(version: str) -> OsInfo:
    return OsInfo("ubuntu", version, f"Ubuntu {version} LTS", "debian")


# --- the catalog: every row of the product spec's table ------------------------------------

DERIVED_8 = ("rhel8", 242, 309, "RHEL 8")
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
                  ["no SSG release has a CIS profile for Debian 11", "Debian 12", "content import PATH"]),
    "Debian 12": (OsInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)", "debian"),
                  ["ssg-debian12-ds.xml", "SSG 0.1.82 or newer", "ssg-debian from sid", "content import PATH"]),
    "RHEL 8": (OsInfo("rhel", "8.9", "Red Hat Enterprise Linux 8.9 (Ootpa)", "rhel"), ("rhel8", 242, 309)),
    "RHEL 9": (OsInfo("rhel", "9.3", "Red Hat Enterprise Linux 9.3 (Plow)", "rhel"), ("rhel9", 234, 301)),
    "AlmaLinux 8": (OsInfo("almalinux", "8.9", "AlmaLinux 8.9 (Midnight Oncilla)", "rhel"), DERIVED_8),
    "AlmaLinux 9": (OsInfo("almalinux", "9.3", "AlmaLinux 9.3 (Shamrock Pampas Cat)", "rhel"),
                    ["ssg-almalinux9-ds.xml", "SSG 0.1.76 or newer", "ssg-nondebian from trixie or newer"]),
    "Rocky Linux 8": (OsInfo("rocky", "8.9", "Rocky Linux 8.9 (Green Obsidian)", "rhel"), DERIVED_8),
    "Rocky Linux 9": (OsInfo("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)", "rhel"), DERIVED_9),
    "Oracle Linux 8": (OsInfo("ol", "8.9", "Oracle Linux Server 8.9", "rhel"), DERIVED_8),
    "Oracle Linux 9": (OsInfo("ol", "9.3", "Oracle Linux Server 9.3", "rhel"), DERIVED_9),
    "Amazon Linux 2": (OsInfo("amzn", "2", "Amazon Linux 2", "rhel"),
                       ["no content for Amazon Linux 2", "Alibaba Cloud Linux 2", "content import PATH"]),
}

# With SSG 0.1.65, 0.1.76 and 0.1.82 side by side (`make content`): (product, SSG release, L1, L2, derived from)
NEWEST = {
    "Ubuntu 20.04": ("ubuntu2004", "0.1.76", 260, 345, None),
    "Ubuntu 22.04": ("ubuntu2204", "0.1.82", 398, 500, None),
    "Ubuntu 24.04": ("ubuntu2404", "0.1.82", 408, 510, None),
    "Debian 11": None,
    "Debian 12": ("debian12", "0.1.82", 403, 507, None),
    "RHEL 8": ("rhel8", "0.1.82", 340, 443, None),
    "RHEL 9": ("rhel9", "0.1.82", 295, 401, None),
    "AlmaLinux 8": ("rhel8", "0.1.82", 340, 443, "RHEL 8"),
    "AlmaLinux 9": ("almalinux9", "0.1.82", 288, 385, None),
    "Rocky Linux 8": ("rhel8", "0.1.82", 340, 443, "RHEL 8"),
    "Rocky Linux 9": ("rhel9", "0.1.82", 295, 401, "RHEL 9"),
    "Oracle Linux 8": ("rhel8", "0.1.82", 340, 443, "RHEL 8"),
    "Oracle Linux 9": ("rhel9", "0.1.82", 295, 401, "RHEL 9"),
    "Amazon Linux 2": None,
}


def test_catalog_has_one_entry_per_spec_row():
    entries = load_catalog()
    assert [e.label for e in entries] == list(SPEC_ROWS)
    for label, (os_info, _) in SPEC_ROWS.items():
        assert catalog_entry(os_info).label == label


def test_catalog_entries_are_consistent():
    for entry in load_catalog():
        assert set(entry.profiles) in (set(), set(SHORT_NAMES))
        assert all(is_valid_profile_name(pid) for pid in entry.profiles.values())
        if entry.reason:
            assert "\n" not in entry.reason and len(entry.reason) > 60
            assert not entry.profiles and not entry.derived_from
            continue
        if entry.derived_from:  # a rebuild of RHEL: RHEL's profiles, its own CPE
            source = next(e for e in load_catalog() if e.product == entry.derived_from)
            assert entry.profiles == source.profiles
            assert entry.cpe.startswith(f"cpe:/o:{'oracle' if entry.os_id == 'ol' else entry.os_id}:")
            assert source.os_id == "rhel" and source.version == entry.version
            assert entry.product in (None, f"ol{entry.version}")
            continue
        assert entry.datastream == f"ssg-{entry.product}-ds.xml"
        rhel_like = entry.os_id in ("rhel", "almalinux")
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
    assert checked == 7  # ubuntu2004, ubuntu2204, debian11, rhel8, rhel9, ol8, ol9


@needs_ssg
@pytest.mark.parametrize("label", list(SPEC_ROWS))
def test_each_spec_row_resolves_or_says_why(label, ssg):
    found, _, _ = ssg
    os_info, expected = SPEC_ROWS[label]
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
def every_release(tmp_path_factory):
    """The installed content plus SSG 0.1.76 and 0.1.82 from $COMPLIANCE_TUI_CONTENT_DIRS."""
    extra = [Path(p) for p in os.environ.get(content.CONTENT_DIRS_ENV, "").split(":") if p]
    found = discover([*extra, SSG], tmp_path_factory.mktemp("all") / "index.json")
    if not {"0.1.65", "0.1.76", "0.1.82"} <= {d.version for d in found if d.product == "rhel9"}:
        pytest.skip("SSG 0.1.76 and 0.1.82 are not in $COMPLIANCE_TUI_CONTENT_DIRS (make content)")
    return found


@pytest.mark.parametrize("label", list(NEWEST))
def test_each_spec_row_with_every_release(label, every_release):
    """Every row gets both CIS Server levels from the newest release that has them, or says why."""
    os_info = SPEC_ROWS[label][0]
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
def test_missing_profile_message_is_the_documented_one(ssg):
    with pytest.raises(ContentError) as err:
        resolve_profile(ubuntu("24.04"), "cis-level1-server", ssg[0])
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
    OsInfo("amzn", "2023", "Amazon Linux 2023.3.20240219", "rhel"),
])
def test_os_outside_the_catalog(os_info):
    with pytest.raises(ContentError) as err:
        resolve_profile(os_info, "cis-level1-server", [])
    message = str(err.value)
    assert message.startswith(f"{os_info.pretty_name} (ID={os_info.id}, VERSION_ID={os_info.version}) is not in")
    for label in SPEC_ROWS:
        assert label in message
    assert available_profiles(os_info, []) == []


@needs_ssg
def test_full_profile_id_is_accepted_when_the_datastream_has_it(ssg):
    found = ssg[0]
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
def test_full_profile_id_missing_from_the_datastream(ssg):
    with pytest.raises(ContentError) as err:
        resolve_profile(ubuntu("22.04"), P + "stig", ssg[0])
    message = str(err.value)
    assert message.startswith("Ubuntu 22.04: profile xccdf_org.ssgproject.content_profile_stig is not in "
                              "ssg-ubuntu2204-ds.xml (SSG 0.1.65)")
    assert "cis_level1_server" in message and "standard" in message
    # a rebuild: the RHEL content its content is derived from is named
    with pytest.raises(ContentError) as err:
        resolve_profile(OsInfo("rocky", "9.3", "Rocky Linux 9.3", "rhel"), P + "nosuch", ssg[0])
    assert str(err.value).startswith(
        "Rocky Linux 9: its CIS content is derived from RHEL 9 content, and profile "
        "xccdf_org.ssgproject.content_profile_nosuch is not in ssg-rhel9-ds.xml (SSG 0.1.65); its profiles: ")
    # Debian 11 has a reason, yet its own content's other profiles can still be asked for by full id
    debian11 = resolve_profile(OsInfo("debian", "11", "Debian GNU/Linux 11", "debian"), P + "standard", ssg[0])
    assert debian11.datastream.product == "debian11"


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


# --- discover on the installed content ---------------------------------------------------------

@needs_ssg
def test_discover_reads_the_installed_content(ssg):
    found, _, reader = ssg
    ds_files = sorted(SSG.glob("ssg-*-ds.xml"))
    assert sorted(d.path for d in found) == ds_files
    assert not any(d.path.name.endswith("-ds-1.2.xml") for d in found)  # the twins are skipped
    assert sorted(reader.paths) == ds_files  # and never parsed
    assert found.warnings == []
    u2204 = by_product(found, "ubuntu2204")
    assert u2204.benchmark_id == "xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04"
    assert u2204.version == "0.1.65"
    assert u2204.profiles[L1].rule_count == 189
    assert u2204.profiles[L2].rule_count == 273
    assert u2204.profiles[L1].title == "CIS Ubuntu 22.04 Level 1 Server Benchmark"
    assert u2204.sha256 == hashlib.sha256(u2204.path.read_bytes()).hexdigest()
    rhel9 = by_product(found, "rhel9")
    assert rhel9.profiles[P + "cis_server_l1"].rule_count == 234
    assert rhel9.profiles[P + "cis"].rule_count == 301
    assert not any("cis" in pid for pid in by_product(found, "debian11").profiles)


@needs_ssg
def test_second_discover_reuses_the_index(ssg):
    found, index, _ = ssg
    data = json.loads(index.read_text())
    assert set(data["files"]) == {str(d.path) for d in found}
    again = CountingReader()
    second = discover([SSG], index, reader=again)
    assert again.paths == []  # nothing parsed
    assert second == found
    assert second.warnings == []


@needs_ssg
def test_index_answers_instead_of_the_file(ssg, tmp_path):
    """Proof the index is what answers: a title changed in a copy of it comes back."""
    _, index, _ = ssg
    copy = tmp_path / "index.json"
    data = json.loads(index.read_text())
    data["files"][str(SSG / "ssg-ubuntu2204-ds.xml")]["profiles"][L1][0] = "Title from the index"
    copy.write_text(json.dumps(data))
    found = discover([SSG], copy, reader=CountingReader())
    assert by_product(found, "ubuntu2204").profiles[L1].title == "Title from the index"


# --- discover: index, staleness, bad files, formats ---------------------------------------------

def test_stale_index_entry_is_read_again(tmp_path):
    content_dir, index = tmp_path / "content", tmp_path / "index.json"
    first = make_ds(content_dir / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a", "b"]})
    other = make_ds(content_dir / "ssg-rhel9-ds.xml", "0.1.65", {"cis_server_l1": ["a"]})
    reader = CountingReader()
    found = discover([content_dir], index, reader=reader)
    assert len(reader.paths) == 2 and by_product(found, "ubuntu2204").profiles[L1].rule_count == 2

    stat = first.stat()
    make_ds(first, "0.1.65", {"cis_level1_server": ["b", "a"]})  # same size, other bytes
    assert first.stat().st_size == stat.st_size
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    reader = CountingReader()
    found = discover([content_dir], index, reader=reader)
    assert reader.paths == [first]  # only the changed file, found by its mtime
    assert other not in reader.paths

    make_ds(first, "0.1.66", {"cis_level1_server": ["a", "b", "c"]})
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # same mtime, other size
    reader = CountingReader()
    found = discover([content_dir], index, reader=reader)
    assert reader.paths == [first]
    ds = by_product(found, "ubuntu2204")
    assert (ds.version, ds.profiles[L1].rule_count) == ("0.1.66", 3)
    assert ds.sha256 == hashlib.sha256(first.read_bytes()).hexdigest()


def test_corrupt_files_are_skipped_with_a_warning(tmp_path, caplog):
    good = make_ds(tmp_path / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a"]})
    text = good.read_text()
    broken = tmp_path / "ssg-broken-ds.xml"
    broken.write_text(text[: len(text) // 2])  # cut inside the benchmark
    tail_cut = tmp_path / "ssg-tailcut-ds.xml"
    tail_cut.write_text(text[: text.index("<oval-def:definitions>") + 30])  # benchmark whole, file cut later
    no_bench = tmp_path / "ssg-nobench-ds.xml"
    no_bench.write_text('<?xml version="1.0"?><ds:data-stream-collection '
                        'xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"/>')
    odd_root = tmp_path / "ssg-oddroot-ds.xml"
    odd_root.write_text('<version xmlns="http://checklists.nist.gov/xccdf/1.2">1</version>')
    bad_bz2 = tmp_path / "ssg-badbz-ds.xml.bz2"
    bad_bz2.write_bytes(bz2.compress(text.encode())[:200])
    hostile = tmp_path / "ssg-entity-ds.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                       + text.split("?>", 1)[1].replace("Title of cis_level1_server", "Title &e;"))
    index = tmp_path / "index.json"
    reader = CountingReader()
    found = discover([tmp_path], index, reader=reader)
    assert [d.path for d in found] == [hostile, good]
    names = " ".join(found.warnings)
    for bad in (broken, tail_cut, no_bench, odd_root, bad_bz2):
        assert f"skipped {bad}" in names
    assert "no XCCDF Benchmark" in names
    assert any("skipped" in r.getMessage() for r in caplog.records)
    # an external entity is never fetched nor expanded
    assert by_product(found, "entity").profiles[L1].title == "Title &e;"
    assert "root:" not in index.read_text()
    # a failure is remembered too: unchanged bad files are not parsed again, still reported
    again = CountingReader()
    second = discover([tmp_path], index, reader=again)
    assert again.paths == []
    assert second.warnings == found.warnings


def test_bz2_datastream_and_twin_rules(tmp_path):
    plain = make_ds(tmp_path / "a" / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a", "b"]})
    shutil.copy(plain, tmp_path / "a" / "ssg-ubuntu2204-ds-1.2.xml")  # twin beside -ds.xml: skipped
    packed = tmp_path / "b" / "ssg-rhel9-ds.xml.bz2"
    packed.parent.mkdir()
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    shutil.copy(packed, tmp_path / "b" / "ssg-rhel9-ds-1.2.xml.bz2")  # twin beside -ds.xml.bz2: skipped
    alone = make_ds(tmp_path / "c" / "ssg-sle15-ds-1.2.xml", "0.1.65", {"cis": ["a"]})  # twin alone: kept
    make_ds(tmp_path / "c" / "ssg-sle15-xccdf.xml", "0.1.65", {"cis": ["a"]})  # not a datastream name
    found = discover([tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "missing"])
    assert [d.path for d in found] == [plain, packed, alone]
    rhel9 = by_product(found, "rhel9")
    assert rhel9.profiles[L1].rule_count == 2
    assert rhel9.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()  # of the file as stored
    assert by_product(found, "sle15").product == "sle15"


def test_dpkg_x_tree_and_duplicate_dirs(tmp_path):
    """Packages unpacked with dpkg -x keep their usr/share/... tree; a file is listed once."""
    unpacked = make_ds(tmp_path / "usr/share/xml/scap/ssg/content/ssg-ubuntu2404-ds.xml", "0.1.76",
                       {"cis_level1_server": ["a"], "cis_level2_server": ["a", "b"]})
    found = discover([tmp_path, tmp_path / "usr/share/xml/scap/ssg/content", tmp_path])
    assert [d.path for d in found] == [unpacked]
    choices = available_profiles(ubuntu("24.04"), found)
    assert [(c.short_name, c.rule_count) for c in choices] == [("cis-level1-server", 1), ("cis-level2-server", 2)]


def test_unreadable_or_foreign_index_is_replaced(tmp_path):
    make_ds(tmp_path / "content" / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a"]})
    index = tmp_path / "deep" / "er" / "index.json"
    assert len(discover([tmp_path / "content"], index)) == 1  # parent dirs are made
    for junk in ("{not json", '{"format": 99, "files": {}}', "[]", '{"format": 1, "files": {"x": 1}}'):
        index.write_text(junk)
        reader = CountingReader()
        assert len(discover([tmp_path / "content"], index, reader=reader)) == 1
        assert len(reader.paths) == 1
        assert json.loads(index.read_text())["format"] == content.INDEX_FORMAT


def test_default_content_dirs(tmp_path, monkeypatch):
    monkeypatch.delenv("COMPLIANCE_TUI_CONTENT_DIRS", raising=False)
    system = [Path("/usr/share/xml/scap/ssg/content"), Path("/usr/share/scap-security-guide")]
    assert content.default_content_dirs(tmp_path) == [tmp_path / "content", *system]
    monkeypatch.setenv("COMPLIANCE_TUI_CONTENT_DIRS", "/a:/b")
    assert content.default_content_dirs(tmp_path) == [tmp_path / "content", Path("/a"), Path("/b"), *system]


def test_profile_that_extends_another(tmp_path):
    """Resolved SSG content has no `extends`, but hand-made or tailored content may."""
    child = (f'<xccdf:Profile id="{P}child" extends="{L1}"><xccdf:title>Child</xccdf:title>'
             '<xccdf:select idref="xccdf_org.ssgproject.content_rule_c" selected="true"/>'
             '<xccdf:select idref="xccdf_org.ssgproject.content_rule_a" selected="false"/></xccdf:Profile>'
             f'<xccdf:Profile id="{P}loop" extends="{P}loop"><xccdf:title>Loop</xccdf:title>'
             '<xccdf:select idref="xccdf_org.ssgproject.content_rule_b" selected="true"/></xccdf:Profile>')
    ds = read_datastream(make_ds(tmp_path / "ssg-ubuntu2204-ds.xml", "0.1.65",
                                 {"cis_level1_server": ["a", "b"]}, more_profiles=child))
    assert ds.profiles[L1].rule_count == 2
    assert ds.profiles[P + "child"].rule_count == 2  # b from the parent, c its own, a dropped
    assert ds.profiles[P + "loop"].rule_count == 1
    assert ds.profiles[P + "child"].title == "Child"


def test_read_datastream_rejects_other_file_names(tmp_path):
    path = make_ds(tmp_path / "benchmark.xml", "0.1.65", {"cis_level1_server": ["a"]})
    with pytest.raises(ContentError, match="not a datastream file name"):
        read_datastream(path)


# --- several releases of one product -------------------------------------------------------------

def test_newest_release_that_has_the_profile_wins(tmp_path):
    old = make_ds(tmp_path / "a" / "ssg-ubuntu2204-ds.xml", "0.1.9",
                  {"cis_level1_server": ["a"], "cis_level2_server": ["a", "b"]})
    new = make_ds(tmp_path / "b" / "ssg-ubuntu2204-ds.xml", "0.1.10",  # 10 > 9 numerically, not as text
                  {"cis_level1_server": ["a", "b"], "cis_level2_server": ["a", "b", "c"]})
    newer = make_ds(tmp_path / "c" / "ssg-ubuntu2204-ds.xml", "0.1.11", {"cis_level1_server": ["a", "b", "c"]})
    found = discover([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    assert len(found) == 3
    l1 = resolve_profile(ubuntu("22.04"), "cis-level1-server", found)
    l2 = resolve_profile(ubuntu("22.04"), "cis-level2-server", found)
    assert (l1.datastream.path, l1.datastream.version, l1.rule_count) == (newer, "0.1.11", 3)
    assert (l2.datastream.path, l2.datastream.version, l2.rule_count) == (new, "0.1.10", 3)  # 0.1.11 lacks it
    assert [c.datastream.path for c in available_profiles(ubuntu("22.04"), found)] == [newer, new]
    assert old not in [c.datastream.path for c in available_profiles(ubuntu("22.04"), found)]
    # the same release twice: the first directory (the operator's own content dir) wins
    twin = make_ds(tmp_path / "d" / "ssg-ubuntu2204-ds.xml", "0.1.11", {"cis_level1_server": ["a"]})
    found = discover([tmp_path / "d", tmp_path / "c"])
    assert resolve_profile(ubuntu("22.04"), "cis-level1-server", found).datastream.path == twin


@needs_ssg
def test_a_newer_release_in_the_data_dir_beats_the_system_one(ssg, tmp_path, monkeypatch):
    monkeypatch.delenv(content.CONTENT_DIRS_ENV, raising=False)  # only the data dir and the system's
    data_dir = tmp_path / "data"
    mine = make_ds(data_dir / "content" / "ssg-ubuntu2204-ds.xml", "0.1.100", {"cis_level1_server": ["a", "b"]})
    index = shutil.copy(ssg[1], tmp_path / "index.json")  # the system files are indexed already
    reader = CountingReader()
    found = discover(content.default_content_dirs(data_dir), index, reader=reader)
    assert reader.paths == [mine]
    l1 = resolve_profile(ubuntu("22.04"), "cis-level1-server", found)
    assert (l1.datastream.path, l1.rule_count) == (mine, 2)
    l2 = resolve_profile(ubuntu("22.04"), "cis-level2-server", found)  # only the system one has it
    assert (l2.datastream.path, l2.datastream.version, l2.rule_count) == (SSG / "ssg-ubuntu2204-ds.xml", "0.1.65", 273)


def test_core_content_imports_no_ui_toolkit():
    code = ("import sys, core.content; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
            "sys.exit(1 if bad else 0)")
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
