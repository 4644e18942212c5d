"""Signed scans on every backend: the seal is kept with the scan as signed (byte for byte),
the record rebuilt from what the store gives back is the one signed, and a stored value
changed afterwards is named by verification (core/signing)."""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.domain.models import Host, RuleResult, ScanStatus
from core.results.verification import FAILED, UNSIGNED, VERIFIED, TrustedKeys, verify_stored
from core.signing.keys import KeyPlace, SigningKey
from core.signing.record import pairs, record_of, seal
from core.store.base import NewScanJob
from tests.store.test_more_contract import CONTENT, imported

ME, FAR = "test:1:me", "2999-01-01T00:00:00.000000Z"
KEY = SigningKey(Ed25519PrivateKey.generate(), KeyPlace(None))
TRUSTED = TrustedKeys([KEY.public])
RESULTS = [RuleResult("r_low", "pass", "low", seconds=0.25), RuleResult("r_high", "fail", "high", seconds=3.5),
           RuleResult("r_skip", "notselected")]


async def stored_pairs(store, scan_id):
    return [(r.rule_id, r.result) for r in await store.rule_results(scan_id)]


async def test_a_completed_scan_keeps_its_seal_and_verifies_as_stored(store):
    web = await store.add_host(Host(name="web1", address="10.0.0.1"))
    (job,) = await store.create_scan_jobs([NewScanJob(web, "cis", {}, 5)], ME, FAR)
    await store.claim_job(ME, FAR, False)
    await store.save_content(CONTENT, "ssg-x-ds.xml", "bench", "0.1.70")
    await store.assign_content(job.scan_id, "xccdf_p", CONTENT, 3)
    running = await store.get_scan(job.scan_id)
    counts = {"pass": 1, "fail": 1, "notselected": 1}
    finished = "2026-03-01T10:00:00.123456Z"
    about = replace(running, status=ScanStatus.COMPLETED, counts=counts, score=50.0, arf_path=None,
                    started_at=running.started_at or finished, finished_at=finished)
    sealed = seal(KEY, record_of(about, pairs(RESULTS), None, "me@here", KEY.fingerprint))
    await store.complete_scan(job.scan_id, RESULTS, counts, 50.0, None, None, about.started_at, finished,
                              job_id=job.id, seal=sealed)
    done = await store.get_scan(job.scan_id)
    assert done.seal == sealed  # the exact text, signature and fingerprint
    assert [s.seal for s in await store.find_scans()] == [sealed]
    verdict = verify_stored(done, await stored_pairs(store, done.id), TRUSTED)
    assert verdict.status == VERIFIED, verdict.problems
    assert verdict.key == KEY.fingerprint and verdict.notes == ["no evidence was signed"]

    # a value changed in the store after signing is named: the score, and one result
    tampered = replace(done, score=99.0)
    changed = [("r_low", "pass"), ("r_high", "pass")]
    verdict = verify_stored(tampered, changed, TRUSTED)
    assert verdict.status == FAILED
    assert "score: stored 99.0, signed 50.0" in verdict.problems
    assert any(p.startswith("rule results: the stored results differ") for p in verdict.problems)


async def test_imported_scans_keep_their_seals_and_a_scan_without_one_is_unsigned(store):
    await store.save_content(CONTENT, "ssg-x-ds.xml", "bench", "0.1.70")
    new = Host(name="air1", address="10.0.0.9")
    first, second = imported(Host(name="air1", address="x", id=0), 1, "k1"), imported(new, 2, "k2")
    first[0].seal = seal(KEY, record_of(first[0], pairs(first[1]), "f" * 64, "me@here", KEY.fingerprint))
    made = await store.add_imported_scans([first, second], new)
    signed, unsigned = await store.find_imported(made.id, "k1"), await store.find_imported(made.id, "k2")
    assert signed.seal == first[0].seal and unsigned.seal is None
    record = record_of(signed, await stored_pairs(store, signed.id), "f" * 64, "me@here", KEY.fingerprint)
    assert record == record_of(first[0], pairs(first[1]), "f" * 64, "me@here", KEY.fingerprint)
    assert verify_stored(unsigned, [], TRUSTED).status == UNSIGNED
    verdict = verify_stored(signed, await stored_pairs(store, signed.id), TrustedKeys())
    assert verdict.status == FAILED and "none of the keys given" in verdict.problems[0]
