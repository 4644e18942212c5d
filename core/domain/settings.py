"""Settings: defaults, then the config file (TOML in the platform's config dir), then the
environment. Nothing secret is ever read from or written to the file.

    [jobs]
    max_concurrent = 64     # jobs a process runs at once (default: 64, fewer with few file descriptors)
    scan_timeout = 3600     # seconds one oscap run may take
    transfer_timeout = 600  # seconds one upload (the datastream) or one results transfer may take
    stall_timeout = 1800    # seconds oscap may print no progress (no rule done) before it counts as
                            # hung: it is stopped and run once more ($COMPLIANCE_TUI_STALL_SECONDS)
    lease_seconds = 60      # a job whose process stops renewing this is recovered
    worker_grace = 30       # seconds a stopping worker lets running jobs finish

    [evidence]              # the worker prunes ARF evidence daily (results and scores stay)
    keep_days = 90          # keep evidence of scans younger than this
    keep_last = 3           # and of the newest N scans of each host and profile (at least 1)
    signing_key = "keyring" # the key signing scans: "keyring", or a key file's path
                            # (default: signing-key.pem in the data dir; core/signing/keys.py)

    [remediation]           # Quick Fix and Harden
    keep_days = 7           # a hardening job's /etc archive stays on the target this long (fix rollback)

    [keys]                  # the TUI's keys, by binding id (docs/tui.md: "Every key")
    "hosts.add" = "A"

    [exceptions]            # documented exceptions to rules
    two_person = true       # a request changes no score until someone else approves it; false:
                            # one operator's installation, where `exceptions add` applies at once

    [store]                 # a shared PostgreSQL store instead of the data dir's SQLite file
    url = "postgresql://compliance@db.example.net/compliance?sslmode=verify-full"
                            # or $COMPLIANCE_TUI_STORE, or --store; never a password here

    [notify]                # drift alerts of schedules (core/domain/notify_settings.py)
    targets = ["ops"]       # target names; their URLs are secrets: `compliance-tui notify add NAME`

    [ai]                    # rule explanations through any OpenAI-compatible endpoint
    base_url = "http://127.0.0.1:11434/v1"   # or $OPENAI_BASE_URL; none: api.openai.com
    model = "llama3.1:8b"   # or $COMPLIANCE_TUI_LLM_MODEL; no model: no AI anywhere
    timeout = 60            # seconds to wait for the server (between streamed chunks)

The API key is never in the file: $OPENAI_API_KEY, or the OS keyring (core/ai/secrets.py).
"""

from __future__ import annotations

import json
import os
import resource
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from core.domain.errors import InvalidInput
from core.domain.notify_settings import NotifySettings, notify_settings
from core.domain.store_url import ENV_STORE, check_url
from core.domain.text import one_line

ENV_CONFIG = "COMPLIANCE_TUI_CONFIG"
ENV_LEASE = "COMPLIANCE_TUI_LEASE_SECONDS"
ENV_STALL = "COMPLIANCE_TUI_STALL_SECONDS"
# The openai package's own variables, and ours for the model (the environment wins over the file).
AI_ENV = {"base_url": "OPENAI_BASE_URL", "model": "COMPLIANCE_TUI_LLM_MODEL"}


@dataclass(frozen=True)
class AiSettings:
    """Where the LLM is; configured once a model is named (an explicit choice to send rule
    texts somewhere). No base URL means api.openai.com."""

    base_url: str | None = None
    model: str | None = None
    timeout: float = 60.0

    @property
    def configured(self) -> bool:
        return bool(self.model)

    @property
    def url(self) -> str:
        return self.base_url or OPENAI_URL


OPENAI_URL = "https://api.openai.com/v1"


def safe_url(url: str) -> str:
    """The URL without user:password@ (for messages and the screen)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        parts = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    return urlunsplit(parts)


@dataclass(frozen=True)
class EvidenceSettings:
    """What the worker keeps when it prunes evidence daily; neither set: it keeps everything."""

    keep_days: int | None = None
    keep_last: int | None = None
    # where the key that signs scans is: None, the data dir's signing-key.pem; "keyring", the
    # OS keyring; else a file's path (core/signing/keys.py)
    signing_key: str | None = None

    @property
    def prunes(self) -> bool:
        return self.keep_days is not None or self.keep_last is not None


@dataclass(frozen=True)
class ExceptionSettings:
    two_person: bool = True  # approve and reject need another person than the requester


def exception_settings(values: dict[str, Any], where: str) -> ExceptionSettings:
    for key, value in values.items():
        if key != "two_person":
            raise InvalidInput(f"{where}: unknown setting exceptions.{key}; known: two_person")
        if not isinstance(value, bool):
            raise InvalidInput(f"{where}: exceptions.two_person must be true or false, not {_kind(value)}")
    return ExceptionSettings(**values)


@dataclass(frozen=True)
class RemediationSettings:
    keep_days: int = 7  # days a hardening job's /etc archive stays on its target, for `fix rollback`


def remediation_settings(values: dict[str, Any], where: str) -> RemediationSettings:
    if not isinstance(values, dict):
        raise InvalidInput(f"{where}: [remediation] is a table, e.g. keep_days = 7")
    for key, value in values.items():
        if key != "keep_days":
            raise InvalidInput(f"{where}: unknown setting remediation.{key}; known: keep_days")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
            raise InvalidInput(f"{where}: remediation.keep_days must be a whole number of days, 0 to 365")
    return RemediationSettings(**values)


def evidence_settings(values: dict[str, Any], where: str) -> EvidenceSettings:
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key == "signing_key":
            if not isinstance(value, str) or not value.strip() or not value.isprintable():
                raise InvalidInput(f'{where}: evidence.signing_key is "keyring" or the path of a key file')
            changes[key] = value.strip()
            continue
        if key not in ("keep_days", "keep_last"):
            raise InvalidInput(f"{where}: unknown setting evidence.{key}; known: keep_days, keep_last, signing_key")
        if not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "keep_days" else 1):
            raise InvalidInput(f"{where}: evidence.{key} must be a whole number"
                               f"{' of days, 0 or more' if key == 'keep_days' else ', 1 or more'}")
        changes[key] = value
    return EvidenceSettings(**changes)


def default_concurrency() -> int:
    """Jobs at once: the targets do the work, a scan here costs one connection and a few MB
    while it waits, so a fleet scans in about one host's time. Bounded by file descriptors
    (a few per SSH connection and subprocess) and kept modest beside a small jump host."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(4, min(64, soft // 16))


@dataclass(frozen=True)
class Settings:
    max_concurrent: int = field(default_factory=default_concurrency)
    scan_timeout: int = 3600  # a CIS L2 scan of a big host takes minutes, never an hour
    transfer_timeout: int = 600  # 30 MB over a slow link; a stalled one is given up after this
    # oscap silent this long is hung (a deadlocked probe: oscap 1.3 has them); the slowest rule of
    # a real CIS Level 1 scan here took 89 s, a world-writable-files search on a big host takes minutes
    stall_timeout: int = 1800
    lease_seconds: float = 60.0
    worker_grace: float = 30.0
    keys: tuple[tuple[str, str], ...] = ()  # (binding id, keys): the TUI checks the ids
    store_url: str | None = None  # postgresql://...; None: the data dir's SQLite database
    ai: AiSettings = field(default_factory=AiSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    remediation: RemediationSettings = field(default_factory=RemediationSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    exceptions: ExceptionSettings = field(default_factory=ExceptionSettings)

    def renew_every(self) -> float:
        """Leases are renewed (and cancel requests seen) this often: one small write."""
        return max(0.2, min(2.0, self.lease_seconds / 4))


def config_path() -> Path:
    chosen = os.environ.get(ENV_CONFIG)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_config_dir("compliance-tui")) / "config.toml"


def load_settings(path: Path | None = None, environment: bool = True) -> Settings:
    """environment=False: the file alone (what Settings edits)."""
    path = path or config_path()
    settings = Settings()
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: not valid TOML: {exc}") from None
        _tables(data, path)
        settings = _apply(settings, data.get("jobs", {}), str(path), strict=True)
        keys = data.get("keys", {})
        wrong = next((k for k, v in keys.items() if not isinstance(v, str)), None)
        if wrong is not None:
            raise InvalidInput(f'{path}: keys."{one_line(wrong, 60)}" must be text: [keys] maps binding ids to keys, '
                               'e.g. "hosts.add" = "A"')
        settings = replace(settings, keys=tuple(sorted(keys.items())))
        settings = replace(settings, ai=ai_settings(data.get("ai", {}), str(path)),
                           evidence=evidence_settings(data.get("evidence", {}), str(path)),
                           remediation=remediation_settings(data.get("remediation", {}), str(path)),
                           notify=notify_settings(data.get("notify", {}), str(path)),
                           exceptions=exception_settings(data.get("exceptions", {}), str(path)))
        settings = replace(settings, store_url=_store_url(data.get("store", {}), str(path)))
    if not environment:
        return settings
    if os.environ.get(ENV_STORE, "").strip():  # the environment may hold a password: it is private
        settings = replace(settings, store_url=check_url(os.environ[ENV_STORE], ENV_STORE, password_allowed=True))
    for key, name in (("lease_seconds", ENV_LEASE), ("stall_timeout", ENV_STALL)):
        if os.environ.get(name):
            settings = _apply(settings, {key: os.environ[name]}, name, strict=False)
    from_env = {key: os.environ[name] for key, name in AI_ENV.items() if os.environ.get(name, "").strip()}
    if from_env:
        settings = replace(settings, ai=ai_settings(from_env, "the environment", settings.ai))
    return settings


def _store_url(values: object, where: str) -> str | None:
    if not isinstance(values, dict) or set(values) - {"url"}:
        raise InvalidInput(f'{where}: [store] takes one key, url = "postgresql://USER@HOST/DATABASE"')
    url = values.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidInput(f'{where}: store.url must be text, e.g. url = "postgresql://USER@HOST/DATABASE", '
                           f"not {_kind(url)}")
    if url is None or not str(url).strip():
        return None
    return check_url(str(url), f"{where}: store.url", password_allowed=False)


def ai_settings(values: dict[str, Any], where: str, base: AiSettings | None = None) -> AiSettings:
    """[ai] values checked: an http(s) base URL, a model name on one line, a timeout in seconds."""
    changes: dict[str, Any] = {}  # the fields of AiSettings: text or None, and a float
    for key, value in values.items():
        if key in ("base_url", "model"):
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{where}: ai.{key} must be text (in quotes), not {_kind(value)}")
            text = str(value).strip() if value is not None else ""
            if any(ord(c) < 32 or ord(c) == 127 for c in text) or len(text) > 300:
                raise InvalidInput(f"{where}: ai.{key} must be one short line of text")
            if key == "base_url" and text and not text.lower().startswith(("http://", "https://")):
                raise InvalidInput(f"{where}: ai.base_url must start with http:// or https://, not {text!r}")
            changes[key] = text.rstrip("/") if key == "base_url" and text else (text or None)
        elif key == "timeout":
            if isinstance(value, bool):
                raise InvalidInput(f"{where}: ai.timeout must be a number of seconds, not {_kind(value)}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"{where}: ai.timeout must be a number of seconds, not {value!r}") from None
            if not 0 < number <= 3600:
                raise InvalidInput(f"{where}: ai.timeout must be between 0 and 3600 seconds")
            changes["timeout"] = number
        elif key in ("api_key", "key"):  # said plainly, and the value is never repeated
            raise InvalidInput(f"{where}: the API key is never read from a file: set OPENAI_API_KEY "
                               "or store it in the OS keyring (`compliance-tui ai set-key`)")
        else:
            raise InvalidInput(f"{where}: unknown setting ai.{key}; known: base_url, model, timeout")
    return replace(base or AiSettings(), **changes)


def ai_overrides() -> dict[str, str]:
    """The [ai] settings the environment sets now (it wins over the file): field -> variable."""
    return {key: name for key, name in AI_ENV.items() if os.environ.get(name, "").strip()}


def save_ai_settings(ai: AiSettings, path: Path | None = None) -> Path:
    """Write the [ai] table into the config file, keeping every other line as it was."""
    path = path or config_path()
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    kept, inside = [], False
    for line in old.splitlines():
        header = line.strip()
        if header.startswith("["):
            inside = header.split("#")[0].strip() == "[ai]"
        if not inside:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    table = ["[ai]"]
    for key in ("base_url", "model"):
        if getattr(ai, key):
            table.append(f"{key} = {json.dumps(getattr(ai, key))}")  # a JSON string is a TOML string
    table.append(f"timeout = {ai.timeout:g}")
    text = "\n".join(kept + ([""] if kept else []) + table) + "\n"
    try:
        ai_settings(tomllib.loads(text).get("ai", {}), str(path))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: cannot add the [ai] table to it: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


TABLES = ("jobs", "evidence", "remediation", "keys", "store", "ai", "notify", "exceptions")


def _kind(value: object) -> str:
    """What a TOML value is, in the operator's words (its text is not repeated: it may be long)."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    names = {int: "a whole number", float: "a number", str: "text", list: "a list", dict: "a table"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "a date or time")


def _tables(data: dict[str, Any], path: Path) -> None:
    """Each known section is a table: `jobs = 5` is one line, not a crash."""
    for name in TABLES:
        if name in data and not isinstance(data[name], dict):
            raise InvalidInput(f"{path}: [{name}] must be a table (a [{name}] header and key = value lines), "
                               f"not {_kind(data[name])}")


def _apply(settings: Settings, values: dict[str, Any], where: str, strict: bool = False) -> Settings:
    """[jobs] numbers; strict (the file): a TOML number of the right kind, not text or true."""
    known = {f.name: f.type for f in fields(Settings) if f.type in ("int", "float")}
    changes: dict[str, Any] = {}  # int and float fields of Settings
    for key, value in values.items():
        if key not in known:
            raise InvalidInput(f"{where}: unknown setting jobs.{key}; known: {', '.join(known)}")
        kind = int if known[key] == "int" else float
        if strict and (isinstance(value, bool) or not isinstance(value, (int, float))
                       or (kind is int and isinstance(value, float))):
            raise InvalidInput(f"{where}: jobs.{key} must be {'a whole number' if kind is int else 'a number'}, "
                               f"not {_kind(value)}")
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: jobs.{key} must be a number, not {value!r}") from None
        if number <= 0:
            raise InvalidInput(f"{where}: jobs.{key} must be above 0")
        changes[key] = number
    return replace(settings, **changes)
