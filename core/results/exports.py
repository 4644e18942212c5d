"""The scan list and a scan's rule results as CSV or JSON, to a stream or a file.

JSON uses the stable shapes of core.serialize, so CLI output and exports agree.
CSV cells that a spreadsheet would run as a formula are neutralised with a leading
single quote: host names, titles and error messages come from hosts and datastreams. CSV text
also shows control characters visibly (a CSV is often `cat` to a terminal); JSON keeps the
data exact, with C1 controls escaped as \\uNNNN.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO, TypeVar

from core.domain.errors import InvalidInput
from core.domain.models import RESULT_VALUES, RuleResult, Scan, ScanStatus
from core.domain.text import json_safe, neutralise
from core.files import write_private
from core.results.formats import check_format
from core.views.exceptions import apply_to_scans, results_with_exceptions
from core.views.serialize import result_to_dict, scan_to_dict

if TYPE_CHECKING:
    from core.workspace import Workspace

T = TypeVar("T")

SCAN_COLUMNS = (
    "id", "host", "profile", "profile_id", "status", "score", "passed", "failed", "error",
    "unknown", "notapplicable", "notchecked", "total", "duration_s", "created", "started",
    "finished", "content_file", "content_sha256", "error_message", "excepted", "signing_key", "signature",
)
RESULT_COLUMNS = ("rule_id", "title", "severity", "result", "seconds", "exception_reason", "exception_expires")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A CSV cell: numbers as numbers, None empty, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + neutralise(value)
    return neutralise(value) if isinstance(value, str) else value


def scan_row(scan: Scan) -> dict[str, Any]:
    """One CSV row of the scan list, derived from the JSON shape so both agree."""
    d = scan_to_dict(scan)
    flat = {
        "profile": d["profile"]["name"] or scan.profile,
        "profile_id": d["profile"]["xccdf_id"],
        "content_file": d["content"]["file"],
        "content_sha256": d["content"]["sha256"],
        "signing_key": scan.seal.key if scan.seal else None,
        "signature": scan.seal.signature if scan.seal else None,
    }
    return {column: flat[column] if column in flat else d[column] for column in SCAN_COLUMNS}


def write_scans(scans: list[Scan], fmt: str, out: TextIO) -> None:
    if check_format(fmt) == "json":
        _write_json([scan_to_dict(s) for s in scans], out)
    else:
        _write_csv(SCAN_COLUMNS, [scan_row(s) for s in scans], out)


def write_results(results: list[RuleResult], fmt: str, out: TextIO) -> None:
    rows = [result_to_dict(r) for r in results]
    if check_format(fmt) == "json":
        _write_json(rows, out)
    else:
        for row in rows:  # an accepted failure says so, with why and until when
            exc = row["exception"] or {}
            row["exception_reason"], row["exception_expires"] = exc.get("reason"), exc.get("expires")
        _write_csv(RESULT_COLUMNS, rows, out)


def _write_json(rows: list[dict[str, Any]], out: TextIO) -> None:
    out.write(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")


def _write_csv(columns: tuple[str, ...], rows: list[dict[str, Any]], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([safe_cell(row[c]) for c in columns] for row in rows)


def stamp(when: datetime | None = None) -> str:
    """YYYYmmdd-HHMMSS in UTC, the form every generated file name carries."""
    return (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")


def export_path(data_dir: Path, name: str, fmt: str) -> Path:
    return data_dir / "exports" / f"{name}-{stamp()}.{check_format(fmt)}"


def write_atomically(path: Path, text: str) -> Path:
    """Write UTF-8 text so that readers see the old file or the whole new one, never a part.

    The file is private (0600): reports and exports list a host's weaknesses.
    """
    return write_private(path, text)


def _render(write: Callable[[list[T], str, TextIO], None], items: list[T], fmt: str) -> str:
    buffer = io.StringIO(newline="")
    write(items, fmt, buffer)
    return buffer.getvalue()


async def export_scans_to_file(
    workspace: Workspace, fmt: str, host: str | None = None, status: str | None = None,
    path: Path | None = None,
) -> Path:
    """The scans a list shows with these filters, written to path or the exports dir."""
    scans = await visible_scans(workspace, host, status)
    text = _render(write_scans, scans, check_format(fmt))
    return write_atomically(path or export_path(workspace.data_dir, "scans", fmt), text)


async def export_results_to_file(
    workspace: Workspace, scan_id: str, fmt: str, result: str | None = None, path: Path | None = None,
) -> Path:
    scan, rows = await scan_results(workspace, scan_id, result)
    text = _render(write_results, rows, check_format(fmt))
    name = f"{file_safe(scan.host_name)}-{scan.short_id}-results"
    return write_atomically(path or export_path(workspace.data_dir, name, fmt), text)


async def visible_scans(workspace: Workspace, host: str | None, status: str | None) -> list[Scan]:
    if status is not None and status not in {s.value for s in ScanStatus}:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(s.value for s in ScanStatus)}")
    if host is not None:
        await workspace.store.require_host(host)  # a typo gets a clear error, not an empty file
    return await apply_to_scans(workspace.store, await workspace.store.find_scans(host=host, status=status))


async def scan_results(workspace: Workspace, scan_id: str, result: str | None) -> tuple[Scan, list[RuleResult]]:
    if result is not None and result not in RESULT_VALUES:
        raise InvalidInput(f"unknown result {result!r}: use one of {', '.join(RESULT_VALUES)}")
    scan = await workspace.store.get_scan(scan_id)
    return scan, await results_with_exceptions(workspace.store, scan, result, order="severity")  # as the report


def file_safe(name: str) -> str:
    """A host name as a file name part (validated names pass unchanged)."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".")
    return cleaned[:63] or "host"
