"""The screens' number keys, mode names and labels (what the NavBar, the app's bindings and
the command palette show), and the actions reachable from anywhere. The screen classes of
these modes are in tui/registry.py."""

from __future__ import annotations

NAV = (
    ("1", "dashboard", "Dashboard"), ("2", "hosts", "Hosts"), ("3", "compliance", "Compliance"),
    ("4", "jobs", "Jobs"), ("5", "schedules", "Schedules"), ("6", "settings", "Settings"),
)

# (title, help, mode, action): palette entries that open their screen and run the action there
GLOBAL_ACTIONS = (
    ("Add host", "Add a host to scan", "hosts", "add"),
    ("Import hosts", "Import hosts from ~/.ssh/config or an Ansible inventory", "hosts", "import"),
    ("New scan", "Scan the selected host", "compliance", "new_scan"),
    ("Import results", "Import ARF or XCCDF results files as scans", "compliance", "import"),
    ("Jobs", "The job queue: pending, running and finished jobs", "jobs", "reload"),
    ("Action log", "Who did what: hosts, host keys, scans, fixes, exceptions, schedules, settings", "jobs", "audit"),
    ("Exceptions", "Documented exceptions: approve, reject or revoke them (key ctrl+e)", "exceptions", "reload"),
)
