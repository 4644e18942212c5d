"""The config file's [notify] table: who hears about every schedule's runs, and what is worth
telling them. Target URLs hold secrets, so the file names targets; their URLs live in the
environment or the OS keyring (core/notify/targets.py).

    [notify]
    targets = ["ops"]       # told of every schedule's runs, besides a schedule's own targets
    score_drop = 5.0        # a host whose score fell by this many points or more is worth telling
    score_floor = 80.0      # ... and one whose score is below this (none: no floor)
    heartbeat = false       # a message for every run, even when nothing changed
    attempts = 4            # tries per target before giving up on this run
    backoff = 30            # seconds before the second try; doubled for each one after
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from core.domain.errors import InvalidInput

TARGET_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")  # its variable: COMPLIANCE_TUI_NOTIFY_ + upper case


@dataclass(frozen=True)
class NotifySettings:
    targets: tuple[str, ...] = ()
    score_drop: float = 5.0
    score_floor: float | None = None
    heartbeat: bool = False
    attempts: int = 4
    backoff: float = 30.0


def check_target_name(name: str, where: str = "notification target") -> str:
    if not isinstance(name, str) or not TARGET_NAME.fullmatch(name):
        shown = name[:40] if isinstance(name, str) else type(name).__name__
        raise InvalidInput(f"{where}: {shown!r} is not a target name: a lower-case letter, then up to 31 "
                           "letters, digits or '_' (the URL itself goes to `compliance-tui notify add NAME`)")
    return name


def _number(where: str, key: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidInput(f"{where}: notify.{key} must be a number from {low:g} to {high:g}")
    return float(value)


def notify_settings(values: dict[str, Any], where: str) -> NotifySettings:
    settings = NotifySettings()
    for key, value in values.items():
        if key == "targets":
            if not isinstance(value, list):
                raise InvalidInput(f'{where}: notify.targets is a list of target names, e.g. ["ops"]')
            names = tuple(dict.fromkeys(check_target_name(v, f"{where}: notify.targets") for v in value))
            settings = replace(settings, targets=names)
        elif key == "urls":  # said plainly: the URL is a secret, and its text is never repeated
            raise InvalidInput(f"{where}: notification URLs hold secrets and are never read from a file: "
                               "name a target in notify.targets and give its URL to "
                               "`compliance-tui notify add NAME` (or $COMPLIANCE_TUI_NOTIFY_NAME)")
        elif key == "score_drop":
            settings = replace(settings, score_drop=_number(where, key, value, 0, 100))
        elif key == "score_floor":
            settings = replace(settings, score_floor=_number(where, key, value, 0, 100))
        elif key == "heartbeat":
            if not isinstance(value, bool):
                raise InvalidInput(f"{where}: notify.heartbeat must be true or false")
            settings = replace(settings, heartbeat=value)
        elif key == "attempts":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
                raise InvalidInput(f"{where}: notify.attempts must be a whole number from 1 to 10")
            settings = replace(settings, attempts=value)
        elif key == "backoff":
            settings = replace(settings, backoff=_number(where, key, value, 0, 3600))
        else:
            raise InvalidInput(f"{where}: unknown setting notify.{key}; known: targets, score_drop, score_floor, "
                               "heartbeat, attempts, backoff")
    return settings
