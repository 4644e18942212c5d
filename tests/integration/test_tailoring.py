"""A tailoring file switches rules off and changes values; scans say they were tailored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import add_fleet_host

TAILORING = Path(__file__).parent.parent / "fixtures" / "cis-l1-tailoring.xml"
SWITCHED_OFF = "xccdf_org.ssgproject.content_rule_partition_for_tmp"
VALUE_DEPENDENT = "xccdf_org.ssgproject.content_rule_accounts_umask_etc_profile"
BASE = "xccdf_org.ssgproject.content_profile_cis_level1_server"


def scan(cli, *extra):
    (found,) = cli.ok("scan", "u2204", "--profile", "cis-level1-server", "--json", *extra).json()
    assert found["status"] == "completed", found["error_message"]
    results = {r["rule_id"]: r["result"] for r in cli.ok("results", found["id"], "--json").json()}
    return found, results


@pytest.fixture
def site_umask(fleet):
    """The site sets umask 022 in /etc/profile: CIS wants 027, the site's tailoring says 022."""
    profile = fleet.hosts["u2204"].root / "etc" / "profile"
    original = profile.read_text()
    profile.write_text(original + "umask 022\n")
    yield
    profile.write_text(original)


def test_host_tailoring_turns_a_rule_off_and_a_value_changes_a_result(cli, fleet, known_hosts, site_umask):
    add_fleet_host(cli, fleet, "u2204")
    plain, plain_results = scan(cli)
    assert plain["tailoring"] is None
    assert plain_results[SWITCHED_OFF] == "fail" and plain_results[VALUE_DEPENDENT] == "fail"

    said = cli.ok("hosts", "tailor", "u2204", str(TAILORING)).stdout
    assert "cis-l1-tailoring.xml" in said
    assert cli.ok("hosts", "list", "--json").json()[-1]["tailoring"] == "cis-l1-tailoring.xml"
    tailored, tailored_results = scan(cli)
    assert SWITCHED_OFF not in tailored_results
    assert tailored_results[VALUE_DEPENDENT] == "pass"
    assert tailored["total"] == plain["total"] - 1
    assert tailored["score"] > plain["score"]
    assert tailored["profile"]["xccdf_id"] == "xccdf_org.ssgproject.content_profile_cis_level1_server_site"
    assert tailored["tailoring"]["file"] == "cis-l1-tailoring.xml"
    assert tailored["tailoring"]["base_profile_id"] == BASE

    cli.ok("hosts", "tailor", "u2204", "--clear")
    again, _ = scan(cli)
    assert again["tailoring"] is None and again["score"] == plain["score"]


def test_a_per_scan_tailoring_and_bad_tailoring_files(cli, fleet, known_hosts, tmp_path):
    add_fleet_host(cli, fleet, "u2204")
    tailored, results = scan(cli, "--tailoring", str(TAILORING))
    assert tailored["tailoring"]["file"] == "cis-l1-tailoring.xml" and SWITCHED_OFF not in results

    not_tailoring = tmp_path / "x.xml"
    not_tailoring.write_text("<Benchmark/>")
    refused = cli("hosts", "tailor", "u2204", str(not_tailoring))
    assert refused.returncode == 1 and "not an XCCDF 1.2 tailoring file" in refused.stderr
    other_profile = tmp_path / "other.xml"
    other_profile.write_text(TAILORING.read_text().replace(
        'extends="xccdf_org.ssgproject.content_profile_cis_level1_server"',
        'extends="xccdf_org.ssgproject.content_profile_cis_level2_server"'))
    (failed,) = cli("scan", "u2204", "--profile", "cis-level1-server", "--tailoring",
                    str(other_profile), "--json").json()
    assert failed["status"] == "failed" and "no profile extending" in failed["error_message"]
