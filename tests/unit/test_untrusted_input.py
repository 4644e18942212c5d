"""The small parts that keep hostile input harmless, each on its own (the fleet suite in
tests/security proves them end to end)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat

import pytest

from core import files
from core.domain import limits
from core.domain.errors import InvalidInput
from core.domain.text import NeutralFormatter, json_safe, neutralise
from core.domain.validate import check_sudo_password_env
from core.results import oscap_html, xccdf
from core.safexml import XmlError
from core.targets.transport import read_lines, read_tail
from tests.security import documents

PAYLOAD = "a\x1b]52;c;eA==\x07b\x9b2Jc\u202ed\te\nf"


def test_neutralise_shows_every_control_visibly_and_json_stays_exact():
    shown = neutralise(PAYLOAD)
    assert shown == "a\\x1b]52;c;eA==\\x07b\\x9b2Jc\\u202ed\te\nf"
    text = json_safe(json.dumps({"v": PAYLOAD}, ensure_ascii=False))
    assert "\x9b" not in text and "\u202e" not in text and json.loads(text) == {"v": PAYLOAD}


def test_log_records_and_tracebacks_are_neutralised():
    formatter = NeutralFormatter("%(message)s")
    try:
        raise ValueError(PAYLOAD)
    except ValueError as exc:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "target said %s", (PAYLOAD,),
                                   (type(exc), exc, exc.__traceback__))
    out = formatter.format(record)
    assert "\x1b" not in out and "\x9b" not in out and out.count("\\x1b") == 2


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=1 << 30)
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_stderr_keeps_only_its_tail():
    tail = await read_tail(_reader(b"x" * (3 << 20) + b"the reason\n"), 1024)
    assert tail.endswith(b"the reason\n") and len(tail) < 1100 and b"bytes left out" in tail


async def test_lines_are_bounded_and_an_over_long_one_is_dropped():
    seen = []
    data = b"one\r\n" + b"y" * 100_000 + b"\ntwo\n" + b"z" * 50 + b"\nlast"
    await read_lines(_reader(data), seen.append, 1000)
    assert seen == ["one", "two", "z" * 50, "last"]


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv(limits.ENV_LIMITS, "children=5, rule_results=7")
    assert limits.current().children == 5 and limits.current().rule_results == 7
    for bad in ("nope=1", "children=x", "children=0"):
        monkeypatch.setenv(limits.ENV_LIMITS, bad)
        with pytest.raises(InvalidInput):
            limits.current()
    monkeypatch.delenv(limits.ENV_LIMITS)
    assert limits.current().arf_bytes(190, 11 << 20) == (11 << 20) + (64 << 20) + 190 * (1 << 20)


def test_kept_elements_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.ENV_LIMITS, "children=50,element_bytes=2000")
    crowded = tmp_path / "crowded.xml"
    crowded.write_text(documents.results().replace("<result>fail</result>", "<result>fail</result>" + "<x/>" * 51))
    with pytest.raises(XmlError, match="more than 50 elements"):
        xccdf.read_test_results(crowded)
    wordy = tmp_path / "wordy.xml"
    wordy.write_text(documents.results(rules={f"{documents.RULE}one": ("t" * 3000, "")}))
    with pytest.raises(XmlError, match="or 2.0 KiB of text"):
        xccdf.read_rules(wordy)


def test_private_writes_replace_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "out.html"
    target.symlink_to(victim)
    files.write_private(target, "report")
    assert victim.read_text() == "precious" and target.read_text() == "report" and not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    log = tmp_path / "crash.log"
    log.symlink_to(victim)
    with pytest.raises(OSError):
        files.append_private(log, "traceback")
    assert victim.read_text() == "precious"


def test_an_open_tree_is_made_private(tmp_path):
    base = tmp_path / "data"
    (base / "evidence").mkdir(parents=True)
    (base / "evidence" / "a.gz").write_bytes(b"x")
    (base / "compliance.db").write_bytes(b"x")
    for path in (base, base / "evidence"):
        path.chmod(0o755)
    (base / "evidence" / "a.gz").chmod(0o644)
    (base / "compliance.db").chmod(0o644)
    assert len(files.secure_tree(base)) == 3  # the quick check: base, its files, its dirs
    assert len(files.secure_tree(base, deep=True)) == 1  # the deep one finds the rest
    assert files.secure_tree(base, deep=True) == []
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in (base, base / "evidence")} == {0o700}


def test_oscap_html_is_rebuilt_inert():
    document = ("<!DOCTYPE html><html><head><title>T &lt;x&gt;</title><style>body{color:red}</style>"
                "<script>evil()</script></head><body><h1 onclick='evil()'>Report</h1>"
                "<a href='javascript:evil()'>j</a><a href='#rule'>in page</a><a href='https://ok.example/'>ok</a>"
                "<iframe src='http://x/'></iframe><div style='width:10%;background:url(http://x/)'>d</div>"
                "<script>evil()</script></body></html>")
    clean = oscap_html.sanitise(document)
    head, body = clean.split("</head>")
    assert "body{color:red}" in head and "Content-Security-Policy" in head and "T &lt;x&gt;" in head
    assert "evil" not in clean and "<iframe" not in body and "url(" not in body
    assert 'href="#rule"' in body and 'href="https://ok.example/"' in body and "width:10%" in body


def test_a_sudo_password_is_never_taken_for_a_variable_name():
    for value in ("hunter2 pw", "Hunter2!", "MyPassw0rd", "p@ss"):
        with pytest.raises(InvalidInput) as refused:
            check_sudo_password_env(value, {})
        assert value not in str(refused.value)
    with pytest.raises(InvalidInput):
        check_sudo_password_env("SUDO_PW", {"SOMETHING": "SUDO_PW"})  # the value of a variable
    assert check_sudo_password_env("SUDO_PW", {"SUDO_PW": "x"}) is None
    assert "not set" in check_sudo_password_env("SUDO_PW", {})
    assert check_sudo_password_env("lower_name", {"lower_name": "x"}) is None
