"""Every key of the TUI, in one place: one letter means one thing on every screen.

Each binding has an id (`hosts.add`), so the config file can move it:

    [keys]
    "hosts.add" = "A"
    "jobs.cancel" = "ctrl+x"

The footer shows a screen's bindings in this order: the most used first. Those with show fit
an 80-column footer (tests/tui/test_keymap.py checks it); the others are in help (`?`) and the
palette, or named where they act (the toolbar's chips and buttons carry their keys; the search
fields start with "/"). `?` lists them all.
A few letters differ by layer, as docs/tui.md says: in a yes/no question y and n answer it,
on Exceptions they approve and reject a request (elsewhere n starts a new scan); w switches where scans run only inside the dialogs that
start them; space pages down in read-only views (rule details, job details), where nothing
can be selected.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.keys import _character_to_key, format_key

from tui.common.nav import NAV


@dataclass(frozen=True)
class Key:
    id: str
    keys: str
    action: str
    description: str
    show: bool = True
    tooltip: str = ""
    priority: bool = False


def _scroll(scope: str) -> tuple[Key, ...]:
    return (
        Key(f"{scope}.down", "j,down", "scroll(1)", "Down", show=False),
        Key(f"{scope}.up", "k,up", "scroll(-1)", "Up", show=False),
        Key(f"{scope}.page_down", "pagedown,space", "scroll(10)", "Page down", show=False),
        Key(f"{scope}.page_up", "pageup", "scroll(-10)", "Page up", show=False),
    )


KEYMAP: dict[str, tuple[Key, ...]] = {
    "app": (
        Key("app.help", "question_mark", "help", "Help"),
        Key("app.quit", "q", "quit", "Quit", show=False,
            tooltip="Leave this view; on a top screen, quit (asks while this app runs jobs)"),
        Key("app.interrupt", "ctrl+c", "quit_app", "Quit", show=False, tooltip="Quit (asks while this app runs jobs)",
            priority=True),
        Key("app.search", "slash", "filter", "Search", show=False, priority=True),  # each search field says "/"
        Key("app.exceptions", "ctrl+e", "go('exceptions')", "Exceptions", show=False,
            tooltip="Exceptions: requests to approve or reject, those in force to revoke"),
        Key("app.next_field", "tab", "focus_next", "Next field", show=False, priority=True),
        Key("app.previous_field", "shift+tab", "focus_previous", "Previous field", show=False, priority=True),
    ),
    "screen": (Key("screen.back", "escape", "back", "Back", show=False,
                   tooltip="Clear the search or filter first; then back"),),
    "modal": (Key("modal.close", "escape", "close", "Close"),),
    "table": (
        Key("table.up", "up,k", "cursor(-1)", "Up", show=False),
        Key("table.down", "down,j", "cursor(1)", "Down", show=False),
        Key("table.page_up", "pageup,ctrl+b", "page(-1)", "Page up", show=False),
        Key("table.page_down", "pagedown,ctrl+f", "page(1)", "Page down", show=False),
        Key("table.first", "home,g", "jump(0)", "First", show=False),
        Key("table.last", "end,G", "jump(-1)", "Last", show=False),
    ),
    "dashboard": (
        Key("dashboard.open", "enter", "choose", "Open", tooltip="A host: its scans; a rule: the hosts that fail it"),
        Key("dashboard.refresh", "r", "reload", "Refresh"),
    ),
    "hosts": (
        Key("hosts.scans", "enter", "open_scans", "Scans", tooltip="The host's scans (Compliance)"),
        Key("hosts.new_scan", "n", "new_scan", "New Scan", tooltip="New scan of this host"),
        Key("hosts.select", "space", "select", "Select", tooltip="Select the host for Bulk Scan or Harden"),
        Key("hosts.bulk_scan", "b", "bulk_scan", "Bulk Scan", show=False,  # the toolbar's "Bulk Scan (N) b"
            tooltip="Bulk Scan the selected hosts"),
        Key("hosts.add", "a", "add", "Add"),
        Key("hosts.edit", "e", "edit", "Edit"),
        Key("hosts.delete", "d", "delete", "Delete"),
        Key("hosts.check", "c", "check", "Check", tooltip="Check SSH, sudo and oscap on the host"),
        Key("hosts.detect", "O", "detect", "Detect OS", show=False, tooltip="Detect the host's OS"),
        Key("hosts.trust", "t", "trust", "Trust key", show=False, tooltip="Review and trust the host's SSH key"),
        Key("hosts.harden", "H", "harden", "Harden",
            tooltip="Harden the selected hosts (or this one) against a profile: preview first"),
        Key("hosts.import", "i", "import", "Import", show=False, tooltip="Import hosts from ~/.ssh/config or an Ansible inventory"),
        Key("hosts.refresh", "r", "reload", "Refresh", show=False),
    ),
    "compliance": (
        Key("compliance.results", "enter", "results", "Results", tooltip="Results; a failed scan: its job's output"),
        Key("compliance.new_scan", "n", "new_scan", "New Scan"),
        Key("compliance.host", "h", "choose_host", "Host", tooltip="Choose the host (host selector)"),
        Key("compliance.status", "s", "cycle_status", "Status",
            tooltip="Status filter: all, completed, running, pending, failed"),
        Key("compliance.report", "o", "report", "Report", tooltip="HTML report of the selected completed scan"),
        Key("compliance.csv", "x", "export('csv')", "CSV", show=False, tooltip="Export the visible scans as CSV"),
        Key("compliance.json", "X", "export('json')", "JSON", show=False, tooltip="Export the visible scans as JSON"),
        Key("compliance.import", "i", "import", "Import", show=False, tooltip="Import results files (ARF or XCCDF) as scans"),
        Key("compliance.mark", "space", "mark", "Mark", tooltip="Mark a completed scan to compare (two at most)"),
        Key("compliance.compare", "C", "compare", "Compare",
            tooltip="Compare the two marked scans, or this scan with the previous one of its profile"),
        Key("compliance.verify", "V", "verify", "Verify", show=False,
            tooltip="Verify the selected scan: its signature, stored results and evidence bytes"),
        Key("compliance.refresh", "r", "reload", "Refresh", show=False),
    ),
    "results": (
        Key("results.details", "enter", "expand", "Details", tooltip="Description, rationale and remediation"),
        Key("results.select", "space", "select", "Select", tooltip="Select a failed rule for Quick Fix"),
        Key("results.quick_fix", "F", "quick_fix", "Quick Fix", tooltip="Quick Fix the selected failed rules"),
        Key("results.explain", "E", "explain", "Explain", tooltip="Explain the rule with AI (once an LLM is set up)"),
        Key("results.result", "f", "cycle('result-filter')", "Result", show=False,  # the toolbar shows f, v, S
            tooltip="Result filter: all, pass, fail, error, ..."),
        Key("results.severity", "v", "cycle('severity-filter')", "Severity", show=False,
            tooltip="Severity filter: all, high, medium, low, info, unknown"),
        Key("results.sort", "S", "cycle('sort')", "Sort", show=False, tooltip="Sort by severity, result, rule id, time"),
        Key("results.csv", "x", "export('csv')", "CSV", tooltip="Export all rule results as CSV"),
        Key("results.json", "X", "export('json')", "JSON", tooltip="Export all rule results as JSON"),
        Key("results.request_exception", "a", "request_exception", "Except", show=False,
            tooltip="Request an exception for the failed rule: reason, scope, expiry"),
        Key("results.by_control", "B", "by_control", "By control",
            tooltip="The results by control: NIST 800-53, CIS Controls, PCI DSS, STIG ids..."),
    ),
    "controls": (
        Key("controls.details", "enter", "details", "Rules", tooltip="The control's rules and their results"),
        Key("controls.system", "B", "cycle('control-system')", "System", show=False,  # the toolbar shows B, s
            tooltip="Reference system: NIST 800-53, CIS Controls, PCI DSS, STIG ids, ISO 27001, CCE..."),
        Key("controls.status", "s", "cycle('control-status')", "Status", show=False,
            tooltip="Status filter: all, not met, partly, not checked, met, not applicable"),
        Key("controls.report", "o", "export('report')", "Report",
            tooltip="HTML report of the scan with a section by this reference system's controls"),
        Key("controls.oscal", "M", "export('oscal')", "OSCAL",
            tooltip="Export OSCAL assessment results, findings by this reference system"),
        Key("controls.ckl", "K", "export('ckl')", "CKL", tooltip="Export a STIG checklist (CKL) of a STIG scan"),
        Key("controls.cklb", "J", "export('cklb')", "CKLB",
            tooltip="Export a STIG checklist for STIG Viewer 3 (CKLB) of a STIG scan"),
        Key("controls.csv", "x", "export('csv')", "CSV", tooltip="Export this control view as CSV"),
        Key("controls.json", "X", "export('json')", "JSON", tooltip="Export this control view as JSON"),
    ),
    "jobs": (
        Key("jobs.details", "enter", "details", "Details", tooltip="The job's details and its whole output log"),
        Key("jobs.cancel", "ctrl+k", "cancel", "Cancel job", tooltip="Cancel the selected job (asks first)"),
        Key("jobs.status", "s", "cycle('job-status')", "Status", show=False, tooltip="Status filter: all, pending, queued, ..."),
        Key("jobs.host", "h", "cycle('job-host')", "Host", show=False, tooltip="Host filter: all hosts, then each host"),
        Key("jobs.priority_up", "plus,equals_sign", "priority(1)", "Prio +",
            tooltip="Raise the selected waiting job's priority"),
        Key("jobs.priority_down", "minus", "priority(-1)", "Prio -",
            tooltip="Lower the selected waiting job's priority"),
        Key("jobs.next_page", "right_square_bracket", "page(1)", "Next page", show=False),
        Key("jobs.previous_page", "left_square_bracket", "page(-1)", "Previous page", show=False),
        Key("jobs.work_here", "W", "work_here", "Run here",
            tooltip="Also run pending jobs in this app (as a worker would), or stop doing so"),
        Key("jobs.refresh", "r", "reload", "Refresh"),
        Key("jobs.audit", "L", "audit", "Action log", show=False,
            tooltip="The action log: who added hosts, trusted keys, ran scans and fixes, excepted rules"),
    ),
    "audit": (
        Key("audit.verify", "V", "verify", "Verify", tooltip="Check the chain: no entry edited or deleted"),
        Key("audit.action", "f", "cycle", "Action", tooltip="Action filter: all, host, hostkey, scan, fix, ..."),
        Key("audit.refresh", "r", "reload", "Refresh"),
    ),
    "schedules": (
        Key("schedules.add", "a", "add", "Add", tooltip="A new schedule: hosts, a tag or all; a cadence"),
        Key("schedules.edit", "e,enter", "edit", "Edit"),
        Key("schedules.pause", "p", "pause", "Pause/resume", tooltip="Pause the schedule, or resume it"),
        Key("schedules.delete", "d", "delete", "Delete"),
        Key("schedules.refresh", "r", "reload", "Refresh"),
    ),
    "exceptions": (
        Key("exceptions.approve", "y", "decide('approve')", "Approve",
            tooltip="Approve the pending request (someone other than its requester)"),
        Key("exceptions.reject", "n", "decide('reject')", "Reject",
            tooltip="Reject the pending request (someone other than its requester)"),
        Key("exceptions.revoke", "d", "decide('revoke')", "Revoke",
            tooltip="Revoke the approved exception: its rule counts as failing again"),
        Key("exceptions.status", "s", "cycle_status", "Status",
            tooltip="Status filter: all, pending, in force, expired, rejected, revoked"),
        Key("exceptions.refresh", "r", "reload", "Refresh"),
    ),
    "compare": (
        Key("compare.category", "f", "cycle", "Category",
            tooltip="changed, newly failing, newly passing, still failing, ..."),
    ),
    "settings": (
        Key("settings.refresh", "r", "reload", "Rescan content"),
        Key("settings.ai_edit", "e", "ai_settings", "AI settings", tooltip="LLM base URL, model, timeout, API key"),
        Key("settings.ai_test", "T", "ai_test", "Test AI", tooltip="One small request to the LLM"),
        Key("settings.ai_usage", "u", "ai_usage", "AI usage", tooltip="Requests and tokens per day and model"),
    ),
    "confirm": (
        Key("confirm.yes", "y", "answer(True)", "Yes"),
        Key("confirm.no", "n", "answer(False)", "No"),
        Key("confirm.cancel", "escape", "answer(False)", "Cancel"),
    ),
    "typed_confirm": (
        Key("typed_confirm.cancel", "escape", "answer(False)", "Cancel"),
    ),
    "new_scan": (
        Key("new_scan.close", "escape", "close", "Cancel"),
        Key("new_scan.create", "ctrl+s", "create", "Create Scan"),
        Key("new_scan.detect", "O", "detect", "Detect OS"),
        Key("new_scan.runner", "w", "toggle_runner", "Here / worker",
            tooltip="Run the scan in this app or leave it to a worker"),
    ),
    "bulk_scan": (
        Key("bulk_scan.close", "escape", "close", "Close"),
        Key("bulk_scan.start", "ctrl+s", "start", "Start Scans"),
        Key("bulk_scan.runner", "w", "toggle_runner", "Here / worker",
            tooltip="Run the scans in this app or leave them to a worker"),
        Key("bulk_scan.details", "enter", "details", "Job",
            tooltip="The highlighted host's job: its whole error and output log"),
    ),
    "fix_preview": (
        Key("fix_preview.close", "escape", "close", "Cancel"),
        Key("fix_preview.apply", "y", "apply", "Apply"),
        Key("fix_preview.playbook", "A", "save_playbook", "Save playbook",
            tooltip="Save these fixes as an Ansible playbook"),
        Key("fix_preview.runner", "w", "toggle_runner", "Here / worker"),
        *_scroll("fix_preview"),
    ),
    "rollback": (
        Key("rollback.close", "escape", "close", "Cancel"),
        Key("rollback.apply", "y", "apply", "Roll back"),
        Key("rollback.runner", "w", "toggle_runner", "Here / worker"),
        *_scroll("rollback"),
    ),
    "job_detail": (
        Key("job_detail.close", "escape,q", "close", "Close"),
        Key("job_detail.cancel", "ctrl+k", "cancel", "Cancel job"),
        Key("job_detail.rollback", "R", "rollback", "Roll back",
            tooltip="Put back the files a hardening job changed, from the archive it kept"),
        Key("job_detail.priority_up", "plus,equals_sign", "priority(1)", "Prio +"),
        Key("job_detail.priority_down", "minus", "priority(-1)", "Prio -"),
        *_scroll("job_detail"),
        Key("job_detail.end", "G,end", "scroll_end", "Log end", show=False),
    ),
    "rule_detail": (
        Key("rule_detail.close", "escape,q", "close", "Close"), *_scroll("rule_detail"),
        Key("rule_detail.fix_left", "left", "scroll_code(-8)", "Scroll the fix left", show=False),
        Key("rule_detail.fix_right", "right", "scroll_code(8)", "Scroll the fix right", show=False),
        Key("rule_detail.explain", "E", "explain", "Explain with AI"),
    ),
    "form": (
        Key("form.close", "escape", "close", "Cancel"),
        Key("form.save", "ctrl+s", "save", "Save"),
    ),
    "import_results": (
        Key("import_results.close", "escape", "close", "Cancel"),
        Key("import_results.import", "ctrl+s", "import", "Import"),
    ),
    "import_hosts": (
        Key("import_hosts.close", "escape", "close", "Cancel"),
        Key("import_hosts.select", "space", "select", "Select"),
        Key("import_hosts.add", "ctrl+s", "add", "Add selected"),
    ),
    "explain": (
        Key("explain.close", "escape", "close", "Cancel / close"),
        Key("explain.regenerate", "r", "regenerate", "Regenerate", tooltip="Ask the LLM anew (skips the cache)"),
        *_scroll("explain"),
    ),
    "ai_settings": (
        Key("ai_settings.close", "escape", "close", "Cancel"),
        Key("ai_settings.save", "ctrl+s", "save", "Save"),
        Key("ai_settings.test", "ctrl+t", "test", "Test"),
    ),
    "ai_usage": (Key("ai_usage.close", "escape,enter,q", "close", "Close"),),
    "help": (Key("help.close", "escape,question_mark,q", "close", "Close"),),
    "check": (Key("check.close", "escape,enter", "close", "Close"),),
}


def bindings(scope: str) -> list[BindingType]:
    return [Binding(k.keys, k.action, k.description, show=k.show, tooltip=k.tooltip, priority=k.priority, id=k.id)
            for k in KEYMAP[scope]]


def known_ids() -> set[str]:
    return {key.id for keys in KEYMAP.values() for key in keys}


def check_user_keymap(keys: dict[str, str]) -> dict[str, str]:
    """The config file's [keys], checked: every id must exist."""
    unknown = sorted(set(keys) - known_ids())
    if unknown:
        from core.domain.errors import InvalidInput

        raise InvalidInput(f"config [keys]: unknown key id {unknown[0]!r}; see the key table in docs/tui.md")
    return {k: str(v) for k, v in keys.items()}


KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "esc", "plus": "+", "equals_sign": "=", "minus": "-",
             "right_square_bracket": "]", "left_square_bracket": "[", "pagedown": "pgdn", "pageup": "pgup"}
SCOPE_NAMES = {"app": "everywhere", "screen": "every screen", "modal": "every dialog", "table": "every table"}


def key_name(key: str) -> str:
    """One key as the operator types it: `+`, `]`, `esc`, `ctrl+k` (never `plus`, `right_square_bracket`)."""
    key = key.strip()
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    return format_key(key) if "_" in key and "+" not in key else key


def key_label(keys: str) -> str:
    """'plus,equals_sign' -> '+, ='"""
    return ", ".join(key_name(k) for k in keys.split(","))


def markdown_table() -> str:
    """docs/tui.md's table of every key (a test keeps the two the same)."""
    rows = ["| where | keys | what | id |", "| --- | --- | --- | --- |"]
    for scope, keys in KEYMAP.items():
        for key in keys:
            shown = ", ".join(f"`{key_name(k)}`" for k in key.keys.split(","))
            where = SCOPE_NAMES.get(scope, scope.replace("_", " "))
            rows.append(f"| {where} | {shown} | {key.tooltip or key.description} | `{key.id}` |")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------- keys moved onto other keys

SCREENS = ("dashboard", "hosts", "compliance", "results", "controls", "jobs", "schedules", "exceptions", "compare",
           "settings", "audit")
WITH_TABLE = ("ai_usage", "import_hosts")  # dialogs that hold a table
NAV_KEYS = {f"app.go_{mode}": key for key, mode, _label in NAV}  # the number keys: never moved


@dataclass(frozen=True)
class Clash:
    moved: str  # the binding the config moved
    other: str  # the binding that has that key already
    key: str
    scope: str

    def __str__(self) -> str:
        where = SCOPE_NAMES.get(self.scope, self.scope.replace("_", " "))
        return (f'config [keys]: "{self.moved}" and "{self.other}" are both on {key_name(self.key)} ({where}); '
                f'"{self.moved}" stays on {key_label(default_keys(self.moved))}')


def _normal(keys: str) -> set[str]:
    """Key names as Textual matches them ('?' -> 'question_mark')."""
    return {_character_to_key(k) if len(k) == 1 else k for k in (part.strip() for part in keys.split(",")) if k}


def default_keys(binding_id: str) -> str:
    return next(k.keys for keys in KEYMAP.values() for k in keys if k.id == binding_id)


def _layers() -> dict[str, tuple[str, ...]]:
    """Each scope and the scopes whose keys work beside it (a screen's table, the app's keys)."""
    def around(scope: str) -> tuple[str, ...]:
        if scope in SCREENS:
            return (scope, "screen", "table", "app", "nav")
        return (scope, "modal", "app") + (("table",) if scope in WITH_TABLE else ())
    return {scope: around(scope) for scope in KEYMAP if scope not in ("app", "screen", "modal", "table")}


def clashes(moved: dict[str, str]) -> list[Clash]:
    """Moves in the config's [keys] that land on a key another binding of the same view has,
    which Textual resolves by hiding both from the footer. Keys that two bindings share by
    default (a dialog's esc over every dialog's esc) are layers, not clashes."""
    ids = {k.id: (scope, k.keys) for scope, keys in KEYMAP.items() for k in keys}
    ids.update({i: ("nav", key) for i, key in NAV_KEYS.items()})
    found: dict[tuple[str, str, str], Clash] = {}
    for scope, together in _layers().items():
        on: dict[str, list[str]] = {}
        for binding_id, (where, keys) in ids.items():
            if where in together:
                for key in _normal(moved.get(binding_id, keys)):
                    on.setdefault(key, []).append(binding_id)
        for key, sharing in on.items():
            for one in (i for i in sharing if i in moved):
                for other in sharing:
                    layered = key in _normal(ids[one][1]) and key in _normal(ids[other][1])
                    first, second = sorted((one, other))
                    if other != one and not layered and (first, second, key) not in found:
                        found[(first, second, key)] = Clash(one, other, key, scope)
    return list(found.values())


def without_clashes(moved: dict[str, str]) -> tuple[dict[str, str], list[Clash]]:
    """The moves to apply, and the clashes left out: a clashing move keeps its default key (again
    and again, as leaving one out can uncover another)."""
    kept, said = dict(moved), []
    while found := clashes(kept):
        said += found
        for clash in found:
            kept.pop(clash.moved, None)
    return kept, said
