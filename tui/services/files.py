"""Reports and exports for the screens: core writes the file, this says where it went.

Each returns (message for a notice, the file): screens keep the last file on a line of its
own (LastFile), since a notice disappears. The core modules are imported on first use, off
the startup path."""

from __future__ import annotations

from pathlib import Path


async def open_report(workspace, scan_id: str, by: str | None = None) -> tuple[str, Path]:
    """Write the scan's HTML report (with a section by the controls of reference system `by`);
    open it when a browser can show it here."""
    from core.results import report
    from core.results.handover import open_in_browser

    path = await report.save_report(workspace, scan_id, by=by)
    if open_in_browser(path):
        return f"report opened in your browser: {path}", path
    return f"report saved to {path}", path


async def export_scans(workspace, fmt: str, host: str, status: str | None) -> tuple[str, Path]:
    from core.results import exports

    path = await exports.export_scans_to_file(workspace, fmt, host=host, status=status)
    which = f"{status} scans" if status else "scans"
    return f"exported {host}'s {which} as {fmt.upper()} to {path}", path


async def export_results(workspace, scan_id: str, fmt: str, result: str | None) -> tuple[str, Path]:
    from core.results import exports

    path = await exports.export_results_to_file(workspace, scan_id, fmt, result=result)
    which = f"{result} results" if result else "all rule results"
    return f"exported {which} of {scan_id[:8]} as {fmt.upper()} to {path}", path


async def export_control_file(workspace, scan_id: str, what: str, system: str) -> tuple[str, Path]:
    """From the control view: the HTML report with this system's section, OSCAL (findings by this
    system), a STIG checklist, or the view as CSV/JSON."""
    from core.results import control_exports

    if what == "report":
        return await open_report(workspace, scan_id, by=system)
    if what == "oscal":
        path = await control_exports.export_oscal(workspace, scan_id, system)
        return f"exported OSCAL assessment results of {scan_id[:8]} by {system} to {path}", path
    if what in control_exports.CHECKLIST_KINDS:
        path = await control_exports.export_checklist(workspace, scan_id, what)
        return f"exported a STIG checklist ({what.upper()}) of {scan_id[:8]} to {path}", path
    path = await control_exports.export_view_to_file(workspace, scan_id, system, what)
    return f"exported {scan_id[:8]} by {system} as {what.upper()} to {path}", path
