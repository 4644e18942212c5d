"""OpenSCAP's own HTML report of a stored scan (`report --oscap`), rendered here by `oscap`
from the scan's ARF and sanitised before it is written."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain import limits
from core.domain.errors import InvalidInput, NotFound, OscapFailed, OscapMissing
from core.results import oscap_html
from core.results.exports import write_atomically
from core.results.report import default_report_path
from core.safexml import open_maybe_compressed

if TYPE_CHECKING:
    from core.workspace import Workspace

OSCAP_TIMEOUT = 600  # seconds; oscap renders a CIS L2 ARF in well under a minute


async def save_oscap_report(workspace: Workspace, scan_id: str, output: Path | None = None) -> Path:
    """OpenSCAP's own HTML report, rendered here by `oscap` from the stored ARF."""
    scan = await workspace.store.get_scan(scan_id)
    arf = Path(scan.arf_path) if scan.arf_path else None
    if arf is None or not arf.is_file():
        why = f" (it {scan.status.value}" + (f": {scan.error_message})" if scan.error_message else ")")
        raise NotFound(f"scan {scan.short_id} has no stored OpenSCAP results{why}: "
                       "only a completed scan has an OpenSCAP report")
    oscap = shutil.which("oscap")
    if oscap is None:
        raise OscapMissing("oscap is not installed on this machine: install openscap-scanner "
                           "(or your distribution's openscap package), or leave out --oscap")
    path = Path(output or default_report_path(workspace.data_dir, scan, "-oscap")).expanduser()
    # oscap writes into our private temp dir (never a name a local user could plant); the
    # report is sanitised (oscap copies the results' XHTML) and written 0600 through a temp file
    with tempfile.TemporaryDirectory(prefix="compliance-tui-report.") as tmp:
        plain = await asyncio.to_thread(_decompress, arf, Path(tmp) / "arf.xml")
        rendered = Path(tmp) / "report.html"
        await _run_oscap(oscap, plain, rendered)
        text = await asyncio.to_thread(lambda: oscap_html.sanitise(rendered.read_text("utf-8", "replace")))
    return await asyncio.to_thread(write_atomically, path, text)


def _decompress(arf: Path, target: Path) -> Path:
    """The stored results as plain XML (or bz2, which oscap reads), at most limits.xml_bytes."""
    most, written = limits.current().xml_bytes, 0
    with open_maybe_compressed(arf) as src, target.open("wb") as dst:
        while block := src.read(1 << 20):
            written += len(block)
            if written > most:
                raise InvalidInput(f"the stored results of this scan expand beyond {most >> 20} MiB; "
                                   "refusing to render them")
            dst.write(block)
    return target


async def _run_oscap(oscap: str, arf: Path, output: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        oscap, "xccdf", "generate", "report", "--output", str(output), str(arf),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(OSCAP_TIMEOUT):
            _, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise OscapFailed(f"oscap did not render the report within {OSCAP_TIMEOUT} s") from None
    if proc.returncode != 0 or not output.is_file():
        lines = err.decode(errors="replace").strip().splitlines()
        raise OscapFailed(f"oscap could not render the report: {lines[-1] if lines else proc.returncode}")
