"""Frameworks beyond CIS: each profile's framework, by the real datastreams installed here (SSG
0.1.65 packaged, and 0.1.76 and 0.1.82 when `make content` fetched them), and every profile of
each OS offered by framework, CIS Level 1 and Level 2 Server first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.content import catalog as content
from core.content.catalog import SHORT_NAMES, by_framework, discover, every_profile, load_catalog
from core.content.frameworks import FRAMEWORKS, OTHER, framework_of, profile_name
from core.domain.models import OsInfo, Scan, ScanStatus
from core.views.compare import Comparison, differences
from core.views.summaries import profile_label, score_series
from tests.unit.test_catalog import ROWS
from tests.unit.test_content import SSG, P


@pytest.fixture(scope="module")
def installed(content_index):
    return discover([SSG], content_index)


@pytest.fixture(scope="module")
def every_release(content_index, tmp_path_factory):
    found = discover(content.default_content_dirs(tmp_path_factory.mktemp("none")), content_index)
    if not {"0.1.65", "0.1.82"} <= {d.version for d in found if d.product == "rhel9"}:
        pytest.skip("SSG 0.1.82 is not in $COMPLIANCE_TUI_CONTENT_DIRS (make content)")
    return found


@pytest.mark.parametrize("name, key", [
    ("cis-level1-server", "cis"), (P + "cis", "cis"), (P + "cis_server_l1", "cis"),
    (P + "cis_level2_workstation", "cis"), (P + "stig", "stig"), (P + "stig_gui", "stig"),
    (P + "rhvh-stig", "stig"), (P + "pci-dss", "pci-dss"), (P + "pci-dss-4", "pci-dss"),
    (P + "hipaa", "hipaa"), (P + "anssi_bp28_high", "anssi-bp28"), (P + "anssi_nt28_minimal", "anssi-bp28"),
    (P + "anssi_np_nt28_restrictive", "anssi-nt28"), (P + "ospp", "ospp"), (P + "cui", "cui"),
    (P + "e8", "e8"), (P + "ism_o_top_secret", "ism"), (P + "cjis", "cjis"), (P + "standard", "standard"),
    (P + "C2S", "c2s"), (P + "moderate", "nist-800-53"),
])
def test_the_profile_name_says_the_framework(name, key):
    assert framework_of(name).key == key


def test_a_profile_named_otherwise_is_placed_by_its_title():
    custom = "xccdf_com.example.policy_profile_web-tier"
    assert framework_of(custom, "Web tier: Security Technical Implementation Guide subset").key == "stig"
    assert framework_of(custom, "Our PCI DSS baseline").key == "pci-dss"
    assert framework_of(custom, "Web tier hardening") == OTHER
    assert framework_of(custom, "Analysis of basics") == OTHER  # words, not letters: no "cis" in it
    assert profile_name(custom) == "web-tier" and profile_name("cis-level1-server") == "cis-level1-server"


def test_every_profile_of_every_installed_datastream_has_its_framework(content_index, tmp_path):
    """The table covers all of SSG's naming: no profile of any release here lands in Other."""
    found = discover(content.default_content_dirs(tmp_path), content_index)
    assert found
    unplaced = {pid for ds in found for pid, info in ds.profiles.items() if framework_of(pid, info.title) == OTHER}
    assert unplaced == set()
    assert [f.rank for f in FRAMEWORKS] == sorted(f.rank for f in FRAMEWORKS) and FRAMEWORKS[0].label == "CIS"


def keys(choices) -> list[str]:
    return [f.key for f in by_framework(choices)]


@pytest.mark.parametrize("label", [label for label, (_os, outcome) in ROWS.items() if isinstance(outcome, tuple)])
def test_every_profile_puts_the_cis_server_levels_first(label, installed):
    """Where CIS Server content is installed, its two levels lead the list, as the default."""
    os_info = ROWS[label][0]
    choices = every_profile(os_info, installed)
    assert [c.short_name for c in choices[:2]] == list(SHORT_NAMES)
    assert choices[:2] == content.available_profiles(os_info, installed)
    assert keys(choices)[0] == "cis"
    assert sorted(c.framework for c in choices) == [c.framework for c in choices]  # grouped, in table order
    assert len({c.profile_id for c in choices}) == len(choices)


def test_the_issues_frameworks_per_os(installed):
    """The packaged SSG 0.1.65 alone: RHEL 8 and 9 carry the frameworks issue 26 names."""
    rhel8 = keys(every_profile(ROWS["RHEL 8"][0], installed))
    assert {"stig", "pci-dss", "hipaa", "anssi-bp28", "ospp", "cui", "e8", "ism", "cjis"} <= set(rhel8)
    rhel9 = every_profile(ROWS["RHEL 9"][0], installed)
    anssi = [c for c in rhel9 if c.framework.key == "anssi-bp28"]
    assert len(anssi) == 4 and all(c.rule_count > 0 for c in anssi)


def test_newer_releases_add_stig_to_ubuntu_and_anssi_to_debian(every_release):
    ubuntu = every_profile(ROWS["Ubuntu 22.04"][0], every_release)
    (stig,) = [c for c in ubuntu if c.framework.key == "stig"]
    assert stig.profile_id == P + "stig" and stig.derived_from is None and stig.rule_count > 100
    assert content.resolve_profile(ROWS["Ubuntu 22.04"][0], stig.profile_id, every_release) == stig
    assert "stig" in keys(every_profile(ROWS["Ubuntu 24.04"][0], every_release))
    debian = keys(every_profile(ROWS["Debian 12"][0], every_release))
    assert debian[:1] == ["cis"] and {"anssi-bp28", "anssi-nt28", "standard"} <= set(debian)


def test_derived_content_serves_the_sources_other_frameworks_labelled(every_release):
    rocky = every_profile(ROWS["Rocky Linux 9"][0], every_release)
    rhel = {c.profile_id: c for c in every_profile(OsInfo("rhel", "9.3", "RHEL 9.3", "rhel"), every_release)}
    assert {c.profile_id for c in rocky} == set(rhel)
    assert all(c.derived_label == "derived from RHEL 9 content" for c in rocky)
    (stig,) = [c for c in rocky if c.profile_id == P + "stig"]
    assert stig.datastream.product == "rhel9" and stig.needs_derivation
    assert stig.rule_count <= rhel[P + "stig"].rule_count  # less the rules switched off for Rocky
    # Oracle Linux has STIG content of its own: that wins over RHEL's, which is not derived for it
    oracle = {c.profile_id: c for c in every_profile(ROWS["Oracle Linux 9"][0], every_release)}
    assert oracle[P + "stig"].datastream.product == "ol9" and oracle[P + "stig"].derived_from is None
    assert oracle[P + "cis"].derived_from == "RHEL 9"
    # Debian 11: its own ANSSI NT28 profiles, and Debian 12's CIS and ANSSI BP-028, derived
    debian11 = every_profile(ROWS["Debian 11"][0], every_release)
    by_key = by_framework(debian11)
    assert all(c.derived_from == "Debian 12" for c in by_key[framework_of(P + "cis")])
    assert all(c.derived_from is None for c in by_key[framework_of(P + "anssi_np_nt28_high")])


def test_no_profile_for_an_os_without_content(installed):
    assert every_profile(None, installed) == []
    assert every_profile(OsInfo("plan9", "4", "Plan 9", ""), installed) == []
    for entry in load_catalog():
        if entry.reason:
            assert every_profile(OsInfo(entry.os_id, entry.version, entry.label, ""), installed) == []


# --- trends, comparisons and the Dashboard stay per framework ---------------------------------

def scan_of(host: str, profile: str, at: str, score: float, content: str = "sha-a") -> Scan:
    profile_id = None if profile.startswith("cis-level") else profile
    return Scan(f"{host}-{at}", 1, host, profile, profile_id, ScanStatus.COMPLETED, content_id=content,
                score=score, created_at=at, finished_at=at)


def test_a_trend_never_draws_two_frameworks_on_one_line():
    scans = [scan_of("web01", "cis-level1-server", "2026-01-01T00:00:00Z", 60.0),
             scan_of("web01", P + "stig", "2026-01-02T00:00:00Z", 40.0),
             scan_of("web01", "cis-level1-server", "2026-01-03T00:00:00Z", 65.0),
             scan_of("db01", "cis-level1-server", "2026-01-03T00:00:00Z", 70.0)]
    assert score_series(scans, "profile") == {
        "CIS Level 1 Server": [("2026-01-01T00:00:00Z", 60.0), ("2026-01-03T00:00:00Z", 65.0),
                               ("2026-01-03T00:00:00Z", 70.0)],
        "DISA STIG (stig)": [("2026-01-02T00:00:00Z", 40.0)]}
    # by host: a host whose scans span frameworks gets a line per framework; the others one line
    assert set(score_series(scans, "host")) == {"web01 · CIS", "web01 · DISA STIG", "db01"}
    assert profile_label(P + "pci-dss") == "PCI-DSS" and profile_label(P + "anssi_bp28_high") == \
        "ANSSI BP-028 (anssi_bp28_high)"


def test_a_comparison_across_frameworks_says_so():
    cis = scan_of("web01", "cis-level1-server", "2026-01-01T00:00:00Z", 60.0)
    cis = replace(cis, profile_id=P + "cis_level1_server")
    stig = scan_of("web01", P + "stig", "2026-01-02T00:00:00Z", 40.0)
    (said,) = differences(Comparison(cis, stig))
    assert said.startswith("frameworks differ: CIS -> DISA STIG (CIS Level 1 Server -> DISA STIG (stig))")
    assert "scores do not compare" in said
    level2 = replace(cis, profile="cis-level2-server", profile_id=P + "cis_level2_server")
    (said,) = differences(Comparison(cis, level2))
    assert said.startswith("profiles differ: CIS Level 1 Server -> CIS Level 2 Server")
    assert differences(Comparison(cis, replace(cis, id="again"))) == []
