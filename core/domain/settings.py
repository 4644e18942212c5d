"""Settings: defaults, then the config file (TOML in the platform's config dir), then the
environment. Nothing secret is ever read from or written to the file.

    [jobs]
    max_concurrent = 4      # jobs a process runs at once
    scan_timeout = 3600     # seconds one oscap run may take
    lease_seconds = 60      # a job whose process stops renewing this is recovered
    worker_grace = 30       # seconds a stopping worker lets running jobs finish

    [keys]                  # the TUI's keys, by binding id (README: "Keys")
    "hosts.add" = "A"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import platformdirs

from core.domain.errors import InvalidInput

ENV_CONFIG = "COMPLIANCE_TUI_CONFIG"
ENV_LEASE = "COMPLIANCE_TUI_LEASE_SECONDS"


@dataclass(frozen=True)
class Settings:
    max_concurrent: int = 4
    scan_timeout: int = 3600  # a CIS L2 scan of a big host takes minutes, never an hour
    lease_seconds: float = 60.0
    worker_grace: float = 30.0
    keys: tuple[tuple[str, str], ...] = ()  # (binding id, keys): the TUI checks the ids

    def renew_every(self) -> float:
        """Leases are renewed (and cancel requests seen) this often: one small write."""
        return max(0.2, min(2.0, self.lease_seconds / 4))


def config_path() -> Path:
    chosen = os.environ.get(ENV_CONFIG)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_config_dir("compliance-tui")) / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    settings = Settings()
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
        settings = _apply(settings, data.get("jobs", {}), str(path))
        keys = data.get("keys", {})
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            raise InvalidInput(f'{path}: [keys] maps binding ids to keys, e.g. "hosts.add" = "A"')
        settings = replace(settings, keys=tuple(sorted(keys.items())))
    if os.environ.get(ENV_LEASE):
        settings = _apply(settings, {"lease_seconds": os.environ[ENV_LEASE]}, ENV_LEASE)
    return settings


def _apply(settings: Settings, values: dict, where: str) -> Settings:
    known = {f.name: f.type for f in fields(Settings) if f.name != "keys"}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise InvalidInput(f"{where}: unknown setting jobs.{key}; known: {', '.join(known)}")
        kind = int if known[key] == "int" else float
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: jobs.{key} must be a number, not {value!r}") from None
        if number <= 0:
            raise InvalidInput(f"{where}: jobs.{key} must be above 0")
        changes[key] = number
    return replace(settings, **changes)
