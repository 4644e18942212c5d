"""Notification targets: a name the config file and schedules use, and an Apprise URL
(mailto://, json://, slack://, ntfy://, ...) that holds the secret (a token, a password).

The URL is never in the store, the config file, a command line or a log: it comes from
$COMPLIANCE_TUI_NOTIFY_<NAME> (a worker's systemd EnvironmentFile, say), else the OS keyring,
as the LLM API key does (core/ai/secrets.py). What is shown of it is masked(): its scheme and
host, never its user, password, path or query.

keyring calls may block (D-Bus): call these from a thread.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import urlsplit

from core.domain.errors import InvalidInput
from core.domain.notify_settings import TARGET_NAME, check_target_name
from core.os_keyring import SERVICE, usable_keyring

ENV_PREFIX = "COMPLIANCE_TUI_NOTIFY_"
MAX_URL = 2000


def no_keyring(name: str) -> str:
    return ("no OS keyring is usable here (no Secret Service or KWallet session): set "
            f"{env_name(name)} in the environment instead (a worker's EnvironmentFile, mode 0600)")


def load_apprise() -> ModuleType:
    """Apprise, its logger kept quiet: it may name a URL at some levels, and what it says of a
    try reaches us through its results instead (core/notify/send.py). Its plugins load in about
    70 ms: only where a URL is checked or used."""
    import apprise

    logger = logging.getLogger("apprise")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return apprise


def env_name(name: str) -> str:
    return ENV_PREFIX + check_target_name(name).upper()


def _username(name: str) -> str:
    return f"notify:{check_target_name(name)}"


@dataclass(frozen=True)
class Target:
    """A named target and where its URL came from; repr shows the masked URL only."""

    name: str
    url: str | None  # None: not configured here
    source: str  # the environment variable, "keyring" or "none"

    def masked(self) -> str:
        return masked(self.url) if self.url else "not set"

    def __repr__(self) -> str:
        return f"Target({self.name}, {self.masked()}, from {self.source})"

    __str__ = __repr__


def masked(url: str) -> str:
    """scheme://host[:port]/••••: enough to tell targets apart, nothing secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "••••"
    scheme = parts.scheme if parts.scheme.isalnum() else "?"
    return f"{scheme}://{host}{port}/••••" if host.isprintable() else f"{scheme}://••••"


def check_url(url: str) -> str:
    """One line, a scheme Apprise knows; the URL's text is never repeated in the error."""
    url = url.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidInput(f"a notification URL is one line of at most {MAX_URL} printable characters")
    if load_apprise().Apprise.instantiate(url) is None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        shown = f"this {scheme}:// URL" if scheme.isalnum() and len(scheme) <= 20 else "this URL"
        raise InvalidInput(f"Apprise cannot use {shown}: an unknown service, or parts missing; see the URL forms "
                           "of Apprise's services (e.g. mailto://HOST:PORT?from=ADDRESS&to=ADDRESS, "
                           "json://HOST/PATH, ntfy://TOPIC)")
    return url


def find(name: str) -> Target:
    value = os.environ.get(env_name(name), "").strip()
    if value:
        return Target(name, value, env_name(name))
    backend = usable_keyring()
    if backend is None:
        return Target(name, None, "none")
    kept: str | None
    try:
        kept = backend.get_password(SERVICE, _username(name))
    except Exception:  # a locked or broken keyring: this target is not usable now
        kept = None
    return Target(name, kept, "keyring") if kept else Target(name, None, "none")


def store(name: str, url: str) -> str:
    """Keep the URL in the OS keyring; returns the backend's name."""
    backend = usable_keyring()
    if backend is None:
        raise InvalidInput(no_keyring(name))
    url = check_url(url)
    try:
        backend.set_password(SERVICE, _username(name), url)
    except Exception as exc:
        raise InvalidInput(f"the keyring refused the URL: {type(exc).__name__}") from None
    return type(backend).__name__


def delete(name: str) -> bool:
    """Forget the stored URL; False when there was none."""
    backend = usable_keyring()
    if backend is None:
        raise InvalidInput(no_keyring(name))
    try:
        backend.delete_password(SERVICE, _username(name))
    except Exception:  # PasswordDeleteError: nothing stored
        return False
    return True


def names_in_environment() -> list[str]:
    """Targets the environment configures (their names as the variables spell them)."""
    return sorted(k[len(ENV_PREFIX):].lower() for k, v in os.environ.items()
                  if k.startswith(ENV_PREFIX) and v.strip() and TARGET_NAME.fullmatch(k[len(ENV_PREFIX):].lower()))
