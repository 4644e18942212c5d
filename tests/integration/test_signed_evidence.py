"""Signed evidence through the real CLI, on real oscap results imported as scans: the key
(keys init | show | export), evidence verify naming a changed result or evidence byte, and
checking an export on another machine with the public key alone."""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest

from core import paths
from tests.conftest import Cli, made_once
from tests.oscap_results import produce_results


@pytest.fixture(scope="module")
def arf(tmp_path_factory):
    return made_once(tmp_path_factory, "oscap-l1", lambda d: produce_results(d)) / "arf.xml"


def import_scan(cli, arf, host="airgap") -> dict:
    cli.ok("hosts", "add", host, "--address", "10.1.2.3")
    (scan,) = cli.ok("import", str(arf), "--host", host, "--yes", "--json").json()
    return scan


def flip_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_keys_init_show_and_export_never_show_the_private_key(cli, data_dir, tmp_path):
    missing = cli("keys", "show")
    assert missing.returncode == 1 and "no signing key" in missing.stderr and "keys init" in missing.stderr
    made = cli.ok("keys", "init", "--json").json()
    key_file = data_dir / "signing-key.pem"
    private = key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and "PRIVATE KEY" in private
    assert made["created"] and made["fingerprint"].startswith("SHA256:") and "BEGIN PUBLIC KEY" in made["public_key"]
    shown = cli.ok("keys", "show")
    assert made["fingerprint"] in shown.stdout and "BEGIN PUBLIC KEY" in shown.stdout
    again = cli("keys", "init")
    assert again.returncode == 1 and "exists already" in again.stderr
    assert key_file.read_text() == private  # never replaced
    exported = cli.ok("keys", "export")
    written = cli.ok("keys", "export", "--output", str(tmp_path / "pub.pem"))
    assert (tmp_path / "pub.pem").read_text() == exported.stdout == made["public_key"]
    assert stat.S_IMODE((tmp_path / "pub.pem").stat().st_mode) == 0o600
    body = "".join(private.splitlines()[1:-1])
    for out in (made, shown.stdout, shown.stderr, exported.stdout, written.stdout, written.stderr, again.stderr):
        assert "PRIVATE" not in str(out) and body not in str(out)


def test_a_changed_result_or_evidence_byte_fails_verification_and_is_named(cli, arf, data_dir):
    scan = import_scan(cli, arf)  # the first stored scan makes the data dir's key
    assert (data_dir / "signing-key.pem").is_file()
    fingerprint = cli.ok("keys", "show", "--json").json()["fingerprint"]
    listed = cli.ok("scans", "list", "--json").json()
    assert listed[0]["signature"]["key"] == fingerprint
    ok = cli.ok("evidence", "verify", scan["id"][:8])
    assert ok.stdout.startswith(f"{scan['id'][:8]}  airgap  VERIFIED (key {fingerprint})")

    database = paths.database(data_dir)
    with sqlite3.connect(database) as db:  # SQLite keeps results compact, behind the rule_results view
        rule, seq, code = db.execute(
            "SELECT n.rule_id, x.scan_seq, x.rule FROM results x JOIN rule_names n ON n.id = x.rule "
            "WHERE x.result = 1 ORDER BY n.rule_id LIMIT 1").fetchone()  # 1: fail
        db.execute("UPDATE results SET result = 0 WHERE scan_seq = ? AND rule = ?", (seq, code))  # 0: pass
    failed = cli("evidence", "verify", scan["id"], "--json")
    assert failed.returncode == 1
    (verdict,) = failed.json()["scans"]
    assert verdict["status"] == "failed" and failed.json()["failed"] == 1
    assert verdict["problems"] == [f"rule {rule}: stored pass, the evidence says fail"]
    with sqlite3.connect(database) as db:
        db.execute("UPDATE results SET result = 1 WHERE scan_seq = ? AND rule = ?", (seq, code))
    cli.ok("evidence", "verify", "--all")

    (evidence,) = (data_dir / "evidence").glob("import-*")
    flip_a_byte(evidence)
    damaged = cli("evidence", "verify", "--all")
    assert damaged.returncode == 1 and "FAILED" in damaged.stdout
    assert f"evidence {evidence}:" in damaged.stdout and "0 verified, 0 unsigned, 1 failed" not in damaged.stdout
    flip_a_byte(evidence)  # back as it was

    with sqlite3.connect(database) as db:
        db.execute("UPDATE scans SET score = score + 10")
    changed = cli("evidence", "verify", scan["id"])
    assert changed.returncode == 1 and f"score: stored {scan['score'] + 10:.1f}" in changed.stdout
    with sqlite3.connect(database) as db:
        db.execute("UPDATE scans SET score = score - 10, signed_record = replace(signed_record, 'airgap', 'other')")
    forged = cli("evidence", "verify", scan["id"])
    assert forged.returncode == 1 and "signature: does not match the signed record" in forged.stdout


def test_an_export_verifies_on_another_machine_with_the_public_key_alone(cli, arf, data_dir, tmp_path):
    scan = import_scan(cli, arf)
    report = cli.ok("report", scan["id"], "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0 and "Signature</th><td>verified: Ed25519 key SHA256:" in (
        tmp_path / "r.html").read_text()
    cli.ok("keys", "export", "--output", str(tmp_path / "pub.pem"))
    cli.ok("evidence", "export", scan["id"], "--output", str(tmp_path / "scan.json"), "--arf", str(tmp_path / "arf.xml"))
    assert (tmp_path / "arf.xml").read_bytes() == arf.read_bytes()  # the ARF as oscap wrote it

    elsewhere = Cli(tmp_path / "other-data", tmp_path / "other-home")  # no store, no key of its own
    (tmp_path / "other-home").mkdir()
    checked = elsewhere("evidence", "verify", "--export", str(tmp_path / "scan.json"), "--key",
                        str(tmp_path / "pub.pem"), "--evidence", str(tmp_path / "arf.xml"), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.json()["scans"][0]["status"] == "verified" and not (tmp_path / "other-data").exists()
    unknown = elsewhere("evidence", "verify", "--export", str(tmp_path / "scan.json"))
    assert unknown.returncode == 1 and "none of the keys given" in unknown.stdout

    bundle = json.loads((tmp_path / "scan.json").read_text())
    changed = next(r for r in bundle["results"] if r["result"] == "fail")
    changed["result"] = "pass"
    (tmp_path / "changed.json").write_text(json.dumps(bundle))
    tampered = elsewhere("evidence", "verify", "--export", str(tmp_path / "changed.json"), "--key",
                         str(tmp_path / "pub.pem"), "--evidence", str(tmp_path / "arf.xml"))
    assert tampered.returncode == 1
    assert f"rule {changed['rule_id']}: exported pass, the evidence says fail" in tampered.stdout
    flip_a_byte(tmp_path / "arf.xml")
    bad_arf = elsewhere("evidence", "verify", "--export", str(tmp_path / "scan.json"), "--key",
                        str(tmp_path / "pub.pem"), "--evidence", str(tmp_path / "arf.xml"))
    assert bad_arf.returncode == 1 and f"evidence {tmp_path / 'arf.xml'}: sha256" in bad_arf.stdout


def test_unsigned_scans_are_reported_and_fail_only_when_strict(cli, arf, data_dir, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[evidence]\nsigning_key = "{tmp_path / "keys" / "signing.pem"}"\n')
    env = {"COMPLIANCE_TUI_CONFIG": str(config)}
    cli.ok("hosts", "add", "airgap", "--address", "10.1.2.3")
    done = cli.ok("import", str(arf), "--host", "airgap", "--yes", "--json", env=env)
    assert "warning: scans are stored unsigned: no signing key in" in done.stderr
    assert not (data_dir / "signing-key.pem").exists()  # a key configured elsewhere is not made behind one's back
    (scan,) = done.json()
    assert scan["signature"] is None
    shown = cli.ok("evidence", "verify", "--all", env=env)
    assert f"{scan['id'][:8]}  airgap  UNSIGNED" in shown.stdout
    strict = cli("evidence", "verify", "--all", "--strict", env=env)
    assert strict.returncode == 1
    made = cli.ok("keys", "init", "--json", env=env).json()
    assert made["where"] == str(tmp_path / "keys" / "signing.pem")
    assert stat.S_IMODE((tmp_path / "keys" / "signing.pem").stat().st_mode) == 0o600


async def test_the_tui_verifies_the_selected_scan_and_names_a_changed_result(cli, arf, data_dir):
    from tests.tui.helpers import make_app, settle, wait_for
    from tui.modals.message import MessageModal
    from tui.widgets.keyed_table import KeyedTable

    scan = import_scan(cli, arf)
    fingerprint = cli.ok("keys", "show", "--json").json()["fingerprint"]

    async def verified_text() -> str:
        app = make_app(data_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_compliance("airgap")
            await settle(pilot)
            app.screen.query_one("#scans", KeyedTable).move_to(scan["id"])
            await pilot.press("V")
            await wait_for(pilot, lambda: isinstance(app.screen, MessageModal), what="the verdict")
            return app.screen.text

    assert await verified_text() == f"verified: Ed25519 key {fingerprint}"
    with sqlite3.connect(paths.database(data_dir)) as db:
        rule, seq, code = db.execute(
            "SELECT n.rule_id, x.scan_seq, x.rule FROM results x JOIN rule_names n ON n.id = x.rule "
            "WHERE x.result = 1 ORDER BY n.rule_id LIMIT 1").fetchone()
        db.execute("UPDATE results SET result = 0 WHERE scan_seq = ? AND rule = ?", (seq, code))
    text = await verified_text()
    assert text.startswith(f"NOT VERIFIED (key {fingerprint}): rule {rule}: stored pass, the evidence says fail")
