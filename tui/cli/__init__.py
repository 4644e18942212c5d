"""The `compliance-tui` command: the TUI without arguments, the headless CLI with them.

Thin on purpose: one module per command group, each with register(commands) and COMMANDS;
every command opens a Workspace and calls a core service. Exit codes: 0 success, 1 an
operator error (one line on stderr), 2 bad usage, 3 a CI gate failed (--fail-under, --fail-on-new).

Building the parser imports almost nothing (`--help` answers at once): each command imports
what it uses when it runs, and the store, settings and event loop load only once parsed
(tests/unit/test_cli_imports.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from core import paths
from core.domain.errors import OperatorError
from core.domain.store_url import ENV_STORE, check_url
from core.domain.text import NeutralFormatter, neutralise, one_line, redact
from tui.cli import (
    ai,
    audit,
    content,
    evidence,
    exceptions,
    fix,
    hosts,
    imports,
    jobs,
    keys,
    notify,
    reports,
    scans,
    schedules,
    store,
)

if TYPE_CHECKING:
    from core.domain.settings import Settings

OpenApp = Callable[[Path, "Settings"], int]  # runs the TUI on this data dir; its exit code

GROUPS = (hosts, scans, fix, jobs, schedules, notify, exceptions, imports, reports, evidence, keys, content, ai,
          audit, store)
STORELESS = set(store.COMMANDS.values()) | notify.STORELESS | keys.STORELESS | evidence.STORELESS
EXIT_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compliance-tui",
        description="CIS compliance scans of Linux servers with OpenSCAP over SSH.",
    )
    parser.add_argument("--version", action="store_true",
                        help="the version, and the OpenSCAP, content releases and store it finds here")
    parser.add_argument("--data-dir", help=f"where the store lives (default: platform data dir, or ${paths.ENV_HOME})")
    parser.add_argument("--store", metavar="URL",
                        help=f"a PostgreSQL store, postgresql://USER@HOST:PORT/DATABASE (or ${ENV_STORE}, or "
                             "[store] url in the config file); the password from $PGPASSWORD or ~/.pgpass")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None, open_app: OpenApp | None = None) -> int:
    os.umask(0o077)  # whatever this process creates (files, dirs, sqlite's -wal) is private
    _log_to_stderr()
    args = build_parser().parse_args(argv)  # --help and usage errors end here, having loaded little
    return run(args, open_app)


def run(args: argparse.Namespace, open_app: OpenApp | None = None) -> int:
    """The parsed command: the settings, then the TUI (open_app, given by tui/entry.py: the CLI
    never imports the app), or a headless command in an event loop."""
    import asyncio
    from dataclasses import replace

    from core.content.catalog import ContentError
    from core.domain.settings import load_settings
    from core.store.base import StoreTooNew

    data_dir = paths.data_dir(args.data_dir)
    try:
        settings = load_settings()
        if args.store:  # on the command line: seen by every user of this machine, so no password
            settings = replace(settings, store_url=check_url(args.store, "--store", password_allowed=False))
    except OperatorError as exc:
        print(f"error: {one_line(str(exc), 1000)}", file=sys.stderr)
        return EXIT_ERROR
    if args.version:
        from tui.cli.about import report

        print(report(data_dir, settings))
        return 0
    if args.command is None:
        if open_app is None:
            print("error: name a command (compliance-tui --help)", file=sys.stderr)
            return 2
        return open_app(data_dir, settings)
    try:
        return asyncio.run(_dispatch(args, data_dir, settings))
    except (OperatorError, ContentError, StoreTooNew) as exc:
        print(f"error: {one_line(str(exc), 1000)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `... | head` closed the pipe: not an error of ours
        # Python would fail again flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: one line here, the traceback in a private file
        from core.store.faults import storage_fault

        fault = storage_fault(exc, None if settings.store_url else paths.database(data_dir), data_dir)
        if fault is not None:  # a damaged database, a full disk: the operator's words, the way out
            print(f"error: {one_line(str(fault), 1000)}", file=sys.stderr)
            return EXIT_ERROR
        try:
            where = f"details in {crash_log(data_dir, exc)}"
        except OSError as log_error:  # e.g. crash.log is a symlink someone planted: never followed
            where = f"no crash log written ({log_error.strerror or log_error})"
        print(f"error: internal error ({type(exc).__name__}); {where}", file=sys.stderr)
        return EXIT_ERROR


class OneLineFormatter(NeutralFormatter):
    """`warning: ...` on one line, as the CLI's own warnings read (a traceback goes to crash.log)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {one_line(redact(record.getMessage()), 1000)}"


def _log_to_stderr() -> None:
    """Warnings on stderr, neutralised: a logged error may quote what a target sent."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter())
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def crash_log(data_dir: Path, exc: BaseException) -> Path:
    """Append the traceback to DATA_DIR/crash.log (0600, never through a symlink), its text
    neutralised; secrets never reach exceptions, and only the command's name is recorded."""
    import traceback

    from core.domain.timeutil import now_iso
    from core.files import append_private

    path = data_dir / "crash.log"
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = "".join(traceback.format_exception(exc))
    # a server's or a store's words may quote a secret of the environment
    text = redact(text, os.environ.get("OPENAI_API_KEY"),
                  *(v for k, v in os.environ.items() if k.startswith("COMPLIANCE_TUI_NOTIFY_")))
    return append_private(path, f"--- {now_iso()} compliance-tui {' '.join(sys.argv[1:2])}\n{neutralise(text)}")


async def _dispatch(args: argparse.Namespace, data_dir: Path, settings: Settings) -> int:
    from core.workspace import Workspace

    handlers = {key: handler for group in GROUPS for key, handler in group.COMMANDS.items()}
    handler = handlers[(args.command, getattr(args, "action", None))]
    if handler in STORELESS:  # e.g. `store migrate`: it opens the stores it names itself
        return await handler(data_dir, settings, args)
    async with await Workspace.open(data_dir, settings=settings) as workspace:
        for notice in workspace.notices:
            print(f"notice: {one_line(notice, 1000)}", file=sys.stderr)
        return await handler(workspace, args)
