"""Reports and exports for the screens: core writes the file, this says where it went.

The core modules are imported on first use, off the startup path."""

from __future__ import annotations


async def open_report(workspace, scan_id: str) -> str:
    """Write the scan's HTML report; open it when a browser can show it here."""
    from core.results import report

    path = await report.save_report(workspace, scan_id)
    if report.open_in_browser(path):
        return f"report opened in your browser: {path}"
    return f"report saved to {path}; no browser here, copy it with: {report.copy_hint(path)}"


async def export_scans(workspace, fmt: str, host: str, status: str | None) -> str:
    from core.results import exports

    path = await exports.export_scans_to_file(workspace, fmt, host=host, status=status)
    which = f"{status} scans" if status else "scans"
    return f"exported {host}'s {which} as {fmt.upper()} to {path}"


async def export_results(workspace, scan_id: str, fmt: str, result: str | None) -> str:
    from core.results import exports

    path = await exports.export_results_to_file(workspace, scan_id, fmt, result=result)
    which = f"{result} results" if result else "all rule results"
    return f"exported {which} of {scan_id[:8]} as {fmt.upper()} to {path}"
