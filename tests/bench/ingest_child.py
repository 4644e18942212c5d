"""One measured ingest in a fresh process; prints JSON {seconds, peak_mb}.

  python -m tests.bench.ingest_child lxml FILE
  python -m tests.bench.ingest_child read FILE
  python -m tests.bench.ingest_child store FILE DATA_DIR HOST

peak_mb is the process's peak RSS (VmHWM) minus its RSS just before the timed work, so the
interpreter and the imported modules are not charged to the file.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path


def _status(field: str) -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1)) / 1024


def _reset_peak() -> None:
    """Linux 4.0+: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def bare(path: Path) -> None:
    from lxml import etree

    _reset_peak()
    base = _status("VmRSS")
    begin = time.perf_counter()
    etree.parse(str(path), etree.XMLParser(huge_tree=True))
    seconds = time.perf_counter() - begin
    print(json.dumps({"seconds": seconds, "peak_mb": _status("VmHWM") - base}))


def read(path: Path) -> None:
    """Only the results reader the importer uses: how much of the import is parsing."""
    from core.results import xccdf

    _reset_peak()
    base = _status("VmRSS")
    begin = time.perf_counter()
    xccdf.read_test_results(path)
    seconds = time.perf_counter() - begin
    print(json.dumps({"seconds": seconds, "peak_mb": _status("VmHWM") - base}))


async def store(path: Path, data_dir: Path, host: str) -> None:
    from core.results.importer import import_files
    from core.workspace import Workspace

    async with await Workspace.open(data_dir) as workspace:
        await workspace.datastreams()  # the content index, read before the clock starts
        _reset_peak()
        base = _status("VmRSS")
        begin = time.perf_counter()
        scans = await import_files(workspace, [path], host, accept_other_target=True)
        seconds = time.perf_counter() - begin
    print(json.dumps({"seconds": seconds, "peak_mb": _status("VmHWM") - base,
                      "scan": scans[0].id, "rules": scans[0].total}))


if __name__ == "__main__":
    mode, file = sys.argv[1], Path(sys.argv[2])
    if mode == "lxml":
        bare(file)
    elif mode == "read":
        read(file)
    else:
        asyncio.run(store(file, Path(sys.argv[3]), sys.argv[4]))
