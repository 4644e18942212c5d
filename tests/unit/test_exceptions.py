"""Documented exceptions: scope (host, tag, all), expiry, and their effect on the score, the
results and the report; the exported tailoring is valid XCCDF 1.2."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from core.content.tailoring import read_tailoring
from core.domain.errors import InvalidInput
from core.domain.models import Host, RuleResult
from core.domain.policy import Book, RuleException, full_rule_id, parse_tags
from core.policy.exceptions import Base, tailoring_xml
from core.results.report import render_report
from core.store.base import NewScanJob
from core.store.sqlite import SqliteStore
from core.views.exceptions import apply_to_scans, load_book, results_with_exceptions

ME, FAR = "t:1:me", "2999-01-01T00:00:00.000000Z"
R = "xccdf_org.ssgproject.content_rule_"
XCCDF_XSD = Path("/usr/share/openscap/schemas/xccdf/1.2/xccdf_1.2.xsd")


@pytest.fixture
async def store(tmp_path):
    store = await SqliteStore.open(tmp_path / "c.db")
    yield store
    await store.close()


async def completed(store, host: Host, results: dict[str, str]):
    (job,) = await store.create_scan_jobs([NewScanJob(host, "cis-level1-server", {}, 5)], ME, FAR)
    await store.claim_job(ME, FAR, False)
    counts: dict[str, int] = {}
    for value in results.values():
        counts[value] = counts.get(value, 0) + 1
    good = counts.get("pass", 0)
    bad = sum(counts.get(r, 0) for r in ("fail", "error", "unknown"))
    await store.complete_scan(job.scan_id, [RuleResult(R + r, v, "medium", r) for r, v in results.items()], counts,
                              round(100 * good / (good + bad), 1), None, None, job_id=job.id)
    return await store.get_scan(job.scan_id)


def exc(scope: str, rule: str, expires: str = "2030-01-01", **where) -> RuleException:
    return RuleException(scope, R + rule, "business reason", "alice", expires, status="approved", **where)


def test_input_is_checked():
    assert parse_tags("Web, prod web") == ("prod", "web")
    with pytest.raises(InvalidInput, match="invalid tag"):
        parse_tags("bad tag!")
    assert full_rule_id("sshd_x") == R + "sshd_x" and full_rule_id("xccdf_other_rule_y") == "xccdf_other_rule_y"
    with pytest.raises(InvalidInput):
        full_rule_id("rm -rf /")


def test_scope_precedence_and_expiry():
    book = Book.of([exc("all", "a"), exc("tag", "a", tag="web"), exc("host", "a", host="web1"),
                    exc("tag", "b", "2025-01-31", tag="web")], date(2025, 2, 1))
    assert book.for_host("web1", ("web",))[R + "a"].scope == "host"
    assert book.for_host("web2", ("web",))[R + "a"].scope == "tag"
    assert book.for_host("db1", ("db",))[R + "a"].scope == "all"
    assert R + "b" not in book.for_host("web2", ("web",))  # expired: counts again
    assert list(book.expired_for_host("web2", ("web",))) == [R + "b"]
    assert Book.of([exc("tag", "b", "2025-01-31", tag="web")], date(2025, 1, 31)).active  # through that day


async def test_the_score_leaves_accepted_failures_out_and_expired_ones_count(store):
    web = await store.add_host(Host(name="web1", address="10.0.0.1", tags=("web",)))
    db = await store.add_host(Host(name="db1", address="10.0.0.2", tags=("db",)))
    results = {"a": "fail", "b": "fail", "c": "pass", "d": "error", "e": "pass"}
    web_scan, db_scan = await completed(store, web, results), await completed(store, db, results)
    assert web_scan.score == 40.0
    await store.add_exception(exc("tag", "a", tag="web"))
    await store.add_exception(exc("host", "d", host="web1"))
    await store.add_exception(exc("all", "b", "2000-01-01"))  # expired long ago
    await store.add_exception(exc("all", "c"))  # a pass is never "accepted": untouched
    scans = await apply_to_scans(store, [await store.get_scan(web_scan.id), await store.get_scan(db_scan.id)])
    shown = {s.host_name: s for s in scans}
    assert (shown["web1"].score, shown["web1"].excepted, shown["web1"].score_before_exceptions) == (66.7, 2, 40.0)
    assert (shown["db1"].score, shown["db1"].excepted) == (40.0, 0)  # the tag and host ones are not db1's
    marked = {r.rule_id: r.exception for r in await results_with_exceptions(store, shown["web1"])}
    assert marked[R + "a"].scope == "tag" and marked[R + "d"].scope == "host"
    assert marked[R + "b"] is None and marked[R + "c"] is None
    book = await load_book(store, date(2031, 1, 1))  # every exception has expired by then
    again = await apply_to_scans(store, [await store.get_scan(web_scan.id)], book)
    assert (again[0].score, again[0].excepted) == (40.0, 0)

    report = await render_report(store, web_scan.id)
    assert "66.7%" in report and "2 failed rules are excepted" in report and "would be 40.0%" in report
    assert "Exceptions (2 excepted, 1 expired)" in report and "expired: counts again" in report
    assert report.count("Failed (excepted)") >= 1 and "Error (excepted)" in report


def test_the_exported_tailoring_switches_the_rules_off(tmp_path):
    chosen = [RuleException("host", R + "a", "vendor <needs> it & more", "alice", "2030-01-01", host="web1",
                            id="e0000000-0000-4000-8000-000000000001")]
    base = Base("xccdf_org.ssgproject.content_profile_cis_level1_server", "ssg-ubuntu2204-ds.xml")
    path = tmp_path / "t.xml"
    path.write_bytes(tailoring_xml(chosen, base))
    tailoring = read_tailoring(path)
    assert list(tailoring.profiles.values()) == [base.profile_id]
    tree = etree.parse(str(path))
    select = tree.find(".//{http://checklists.nist.gov/xccdf/1.2}select")
    assert (select.get("idref"), select.get("selected")) == (R + "a", "false")
    assert "vendor <needs> it & more" in select[0].text  # escaped by lxml, read back whole
    if XCCDF_XSD.is_file():
        etree.XMLSchema(etree.parse(str(XCCDF_XSD))).assertValid(tree)


def test_the_two_person_rule_compares_login_names():
    from core.policy.exceptions import person

    assert person("alice@jump01") == person("alice@jump02") == person("alice") == "alice"
    assert person("bob@jump01") != person("alice@jump01")
    assert person("we@ird@host") == "we@ird"  # the host is what follows the last @
