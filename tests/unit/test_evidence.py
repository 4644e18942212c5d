"""Content-addressed evidence: a real ARF split by the real shell script (run here through
LocalTransport with this machine's coreutils, grep, sed, xz and gzip), kept, and joined back
byte for byte; what a wrong, cut or lying transfer does."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from core import evidence
from core.domain.errors import OscapFailed
from core.jobs.scan import _keep_evidence
from core.results import xccdf
from core.safexml import open_maybe_compressed
from core.targets import remote
from core.targets.transport import LocalTransport, Sudo
from tests.conftest import made_once
from tests.oscap_results import oscap_available, produce_results

LIMIT = 200 << 20
SHELL_TOOLS = ("sh", "stat", "sha256sum", "grep", "cut", "sed", "head", "tail", "wc", "cat", "gzip")


@pytest.fixture(scope="module")
def arf(tmp_path_factory) -> Path:
    if not oscap_available("ubuntu2204"):
        pytest.skip("oscap or the SSG Ubuntu 22.04 datastream is not installed")
    return made_once(tmp_path_factory, "oscap-l1", lambda d: produce_results(d)) / "arf.xml"


def joined(path: Path) -> bytes:
    with open_maybe_compressed(path) as stream:
        return stream.read()


async def fetch(arf: Path, known: list[str]) -> remote.Fetched:
    async with LocalTransport("here") as transport:
        return await remote.fetch_evidence(transport, Sudo(needed=False), str(arf), str(arf.parent),
                                           known, LIMIT, timeout=120)


async def test_a_repeat_scan_moves_only_the_results_and_joins_back_exactly(arf, tmp_path):
    first = await fetch(arf, [])
    assert first.shape == "split" and first.block_data
    assert first.sha256 == hashlib.sha256(arf.read_bytes()).hexdigest() and first.size == arf.stat().st_size
    path = _keep_evidence(tmp_path, "scan-1", first)
    assert path.name == "scan-1.arf.split" and joined(path) == arf.read_bytes()
    assert evidence.known_blocks(tmp_path) == [first.block]

    again = await fetch(arf, evidence.known_blocks(tmp_path))
    assert again.block == first.block and again.block_data is None  # known: not sent again
    assert len(again.data) < 0.25 * arf.stat().st_size / 10  # the rest, compressed: a few % of the ARF
    second = _keep_evidence(tmp_path, "scan-2", again)
    assert joined(second) == arf.read_bytes()
    assert second.stat().st_size + path.stat().st_size < arf.stat().st_size / 20
    assert oct(second.stat().st_mode & 0o777) == "0o600"
    assert oct(evidence.block_path(tmp_path, first.block).stat().st_mode & 0o777) == "0o600"


async def test_a_target_without_xz_sends_gzip_and_the_block_is_kept_as_xz(arf, tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in SHELL_TOOLS:
        (tools / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(tools))
    fetched = await fetch(arf, [])
    assert fetched.data[:2] == b"\x1f\x8b" and fetched.block_data[:2] == b"\x1f\x8b"
    path = _keep_evidence(tmp_path / "evidence", "scan", fetched)
    assert evidence.block_path(tmp_path / "evidence", fetched.block).read_bytes()[:5] == b"\xfd7zXZ"
    assert joined(path) == arf.read_bytes()


async def test_an_arf_of_another_shape_comes_whole(arf, tmp_path):
    other = tmp_path / "other.xml"
    other.write_bytes(arf.read_bytes().replace(b"<arf:report-requests>\n", b"<arf:report-requests> \n<!-- -->\n", 1)
                      .replace(b"  </arf:report-requests>", b"  </arf:report-requests><!-- -->", 1))
    fetched = await fetch(other, [])
    assert fetched.shape == "whole"
    path = _keep_evidence(tmp_path / "evidence", "scan", fetched)
    assert path.name == "scan.arf.xml.gz" and gzip.decompress(path.read_bytes()) == other.read_bytes()


async def test_a_target_claiming_a_known_block_for_other_results_stores_nothing(arf, tmp_path):
    kept = _keep_evidence(tmp_path, "honest", await fetch(arf, []))
    lying = tmp_path / "lying.xml"  # its block differs (one rule text changed), its results too
    lying.write_bytes(arf.read_bytes().replace(b"<xccdf-1.2:title>", b"<xccdf-1.2:title>X", 1)
                      .replace(b"<result>pass</result>", b"<result>fail</result>", 1))
    honest_block = evidence.read_header(kept).block
    claimed = dataclasses.replace(await fetch(lying, []), block=honest_block, block_data=None)
    with pytest.raises(evidence.EvidenceError, match="sha256 mismatch"):
        _keep_evidence(tmp_path, "lied", claimed)
    assert not (tmp_path / "lied.arf.split").exists()


async def test_a_block_that_is_not_its_sha256_is_refused(arf, tmp_path):
    fetched = await fetch(arf, [])
    wrong = dataclasses.replace(fetched, block="0" * 64)
    with pytest.raises(evidence.EvidenceError, match="does not match its sha256"):
        _keep_evidence(tmp_path, "scan", wrong)
    assert evidence.known_blocks(tmp_path) == [] and not list(tmp_path.glob("*.arf.*"))


async def test_a_cut_transfer_stores_nothing(arf, tmp_path):
    fetched = await fetch(arf, [])
    cut = dataclasses.replace(fetched, data=fetched.data[: len(fetched.data) // 2])
    with pytest.raises(evidence.EvidenceError):
        _keep_evidence(tmp_path, "scan", cut)
    assert not (tmp_path / "scan.arf.split").exists()
    with pytest.raises(OscapFailed, match="incomplete"):  # stdout shorter than the rest it announced
        remote._fetched("h", f"shape=split sha256={'a' * 64} size=9 block={'b' * 64} head=1 rest=99 sent=0", b"x")


async def test_a_missing_block_is_said_and_old_evidence_still_reads(arf, tmp_path):
    path = _keep_evidence(tmp_path, "scan", await fetch(arf, []))
    os.remove(evidence.block_path(tmp_path, evidence.read_header(path).block))
    with pytest.raises(evidence.EvidenceError, match="is missing"):
        joined(path)
    legacy = tmp_path / "old.arf.xml.gz"  # what scans stored before
    legacy.write_bytes(gzip.compress(arf.read_bytes()))
    assert joined(legacy) == arf.read_bytes()


async def test_results_read_without_the_block_equal_those_of_the_whole_arf(arf, tmp_path):
    path = _keep_evidence(tmp_path, "scan", await fetch(arf, []))
    with evidence.open_results(path) as stream:
        assert xccdf.read_test_results(stream)[0].results == xccdf.read_test_results(arf)[0].results
