"""The signing key, the signed record and its checks (core/signing), on real files."""

from __future__ import annotations

import gzip
import hashlib
import json
import stat
import threading

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import RuleResult, Scan, ScanStatus, Seal
from core.results.verification import (
    FAILED,
    VERIFIED,
    TrustedKeys,
    check_signature,
    export_of,
    field_differences,
    rule_differences,
    verify_export,
)
from core.signing import digests, keys
from core.signing.record import canonical, pairs, parse_record, record_of, results_digest, seal


def a_scan(**changes) -> Scan:
    fields = dict(id="5ca2e000-0000-4000-8000-000000000001", host_id=1, host_name="web1", profile="cis",
                  profile_id="xccdf_p", status=ScanStatus.COMPLETED, content_id="c" * 64,
                  counts={"pass": 2, "fail": 1}, score=66.7, created_at="2026-01-01T00:00:00.000000Z",
                  started_at="2026-01-01T00:00:01.000000Z", finished_at="2026-01-01T00:02:00.000000Z")
    return Scan(**(fields | changes))


RESULTS = [("r_b", "fail"), ("r_a", "pass"), ("r_c", "pass")]


def test_the_results_digest_is_order_free_and_leaves_out_notselected():
    assert results_digest(RESULTS) == results_digest(sorted(RESULTS)) == results_digest(RESULTS + [("r_z", "notselected")])
    assert results_digest(RESULTS) != results_digest([("r_b", "pass"), ("r_a", "pass"), ("r_c", "pass")])
    assert pairs([RuleResult("a", "pass"), RuleResult("b", "notselected")]) == [("a", "pass")]


def test_the_record_is_canonical_and_holds_what_an_auditor_needs(tmp_path):
    key = keys.create_key(keys.place_of(tmp_path, None))
    record = record_of(a_scan(), RESULTS, "e" * 64, "root@jump", key.fingerprint)
    text = canonical(record)
    assert " " not in text and text == canonical(json.loads(text)) and parse_record(text) == record
    assert list(json.loads(text)) == sorted(record)
    assert {"scan", "host", "profile", "content", "results", "evidence", "started", "finished", "by", "key"} <= set(record)
    assert record["counts"]["fail"] == 1 and record["counts"]["error"] == 0 and record["rules"] == 3
    sealed = seal(key, record)
    assert sealed.key == key.fingerprint and sealed.record == text
    found, problems = check_signature(sealed, TrustedKeys([key.public]))
    assert found == record and problems == []
    forged = Seal(text.replace("root@jump", "evil@jump"), sealed.signature, sealed.key)
    assert check_signature(forged, TrustedKeys([key.public]))[1] == [
        "signature: does not match the signed record (the record or the signature was changed)"]
    other = keys.create_key(keys.place_of(tmp_path / "other", None))
    found, problems = check_signature(sealed, TrustedKeys([other.public]))
    assert found is None and "none of the keys given" in problems[0] and other.fingerprint in problems[0]
    with pytest.raises(InvalidInput, match="version"):
        parse_record('{"v": 99}')


def test_differences_are_named_field_by_field_and_rule_by_rule():
    signed = record_of(a_scan(), RESULTS, None, "me@h", "SHA256:k")
    found = record_of(a_scan(score=90.0, counts={"pass": 3}), RESULTS, None, "me@h", "SHA256:k")
    assert field_differences(signed, found) == [
        "count of fail: stored 0, signed 1", "count of pass: stored 3, signed 2", "score: stored 90.0, signed 66.7"]
    assert rule_differences({"a": "pass", "b": "pass", "c": "fail"}, {"a": "pass", "b": "fail", "d": "pass"}) == [
        "rule b: stored pass, the evidence says fail", "rule c: stored fail, not in the evidence",
        "rule d: missing from the stored results, the evidence says pass"]


def test_the_key_file_is_private_made_once_and_never_replaced(tmp_path):
    place = keys.place_of(tmp_path / "data", None)
    assert keys.load_key(place) is None
    made = keys.key_for_signing(tmp_path / "data", None)  # the data dir's: made on first need
    path = tmp_path / "data" / keys.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in path.read_bytes() and "PRIVATE" not in repr(made) and made.fingerprint in str(made)
    assert keys.key_for_signing(tmp_path / "data", None).fingerprint == made.fingerprint
    with pytest.raises(InvalidInput, match="exists already"):
        keys.create_key(place)
    assert keys.installation_key(tmp_path / "data", None).fingerprint == made.fingerprint
    assert [p.name for p in path.parent.iterdir()] == [keys.KEY_FILE]  # no temporary file left


def test_processes_making_the_key_at_once_agree_on_one(tmp_path):
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(keys.key_for_signing(tmp_path, None).fingerprint))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and len(set(found)) == 1


def test_a_configured_key_is_never_made_behind_the_operators_back(tmp_path):
    elsewhere = str(tmp_path / "keys" / "signing.pem")
    with pytest.raises(InvalidInput, match="keys init"):
        keys.key_for_signing(tmp_path, elsewhere)
    with pytest.raises(NotFound, match="keys init"):
        keys.installation_key(tmp_path, elsewhere)
    made = keys.create_key(keys.place_of(tmp_path, elsewhere))
    assert keys.key_for_signing(tmp_path, elsewhere).fingerprint == made.fingerprint
    assert not (tmp_path / keys.KEY_FILE).exists()


def test_bad_key_files_are_refused_in_one_line(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(InvalidInput, match="not an unencrypted PEM private key"):
        keys.load_key(keys.place_of(tmp_path, str(bad)))
    with pytest.raises(InvalidInput, match="not a PEM public key"):
        keys.read_public(bad)
    with pytest.raises(InvalidInput, match="cannot read the public key"):
        keys.read_public(tmp_path / "missing.pem")
    key = keys.create_key(keys.place_of(tmp_path / "d", None))
    public = tmp_path / "pub.pem"
    public.write_bytes(keys.public_pem(key.public))
    assert keys.fingerprint(keys.read_public(public)) == key.fingerprint


def test_evidence_digests_match_the_kept_bytes_or_what_they_hold(tmp_path):
    arf = b"<arf>results</arf>\n" * 100
    plain, packed = tmp_path / "a.xml", tmp_path / "a.xml.gz"
    plain.write_bytes(arf)
    packed.write_bytes(gzip.compress(arf))
    want = hashlib.sha256(arf).hexdigest()
    assert want in digests.digests(plain) and want in digests.digests(packed)
    assert hashlib.sha256(packed.read_bytes()).hexdigest() in digests.digests(packed)
    damaged = bytearray(packed.read_bytes())
    damaged[len(damaged) // 2] ^= 1
    packed.write_bytes(bytes(damaged))
    found = digests.digests(packed)
    assert want not in found and found.error
    missing = digests.digests(tmp_path / "gone")
    assert missing.raw is None and "No such file" in (missing.error or "")


def test_an_export_verifies_with_the_public_key_alone(tmp_path):
    key = keys.create_key(keys.place_of(tmp_path, None))
    arf = tmp_path / "arf.xml"
    arf.write_bytes(b"<x/>")
    scan = a_scan()
    scan.seal = seal(key, record_of(scan, RESULTS, hashlib.sha256(b"<x/>").hexdigest(), "me@h", key.fingerprint))
    bundle = json.loads(json.dumps(export_of(scan, RESULTS)))
    public = tmp_path / "pub.pem"
    public.write_bytes(keys.public_pem(key.public))
    trusted = TrustedKeys([keys.read_public(public)])
    verdict = verify_export(bundle, trusted, arf)
    assert verdict.status == VERIFIED, verdict.problems
    bundle["results"][0]["result"] = "fail" if bundle["results"][0]["result"] == "pass" else "pass"
    bundle["scan"]["host"] = "web2"
    verdict = verify_export(bundle, trusted, None)
    assert verdict.status == FAILED and "host: exported web2, signed web1" in verdict.problems
    assert any("exported results differ from the signed digest" in p for p in verdict.problems)
    arf.write_bytes(b"<y/>")
    assert any(p.startswith(f"evidence {arf}: sha256") for p in verify_export(bundle, trusted, arf).problems)
    with pytest.raises(InvalidInput, match="not a signed scan export"):
        verify_export([], trusted)
