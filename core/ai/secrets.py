"""The LLM API key: from $OPENAI_API_KEY, else the OS keyring (the `keyring` package), never
from or to a file, the store, a log or a command line.

keyring calls may block (D-Bus): call these from a thread (find_key_async does).
"""

from __future__ import annotations

import asyncio
import os

from core.domain.errors import InvalidInput
from core.os_keyring import SERVICE, usable_keyring

ENV_KEY = "OPENAI_API_KEY"
USERNAME = "llm-api-key"
NO_KEYRING = ("no OS keyring is usable here (no Secret Service or KWallet session): "
              f"set {ENV_KEY} in the environment instead")


class ApiKey:
    """A key and where it came from; repr and str never show it."""

    __slots__ = ("value", "source", "note")

    def __init__(self, value: str | None, source: str, note: str = ""):
        self.value = value or None
        self.source = source  # "OPENAI_API_KEY", "keyring" or "none"
        self.note = note  # why the keyring gave nothing, when it failed

    def masked(self) -> str:
        if not self.value:
            return "none"
        return "••••" + self.value[-4:] if len(self.value) >= 12 else "••••"

    def __repr__(self) -> str:
        return f"ApiKey({self.masked()}, from {self.source})"

    __str__ = __repr__


def keyring_name() -> str | None:
    backend = usable_keyring()
    return None if backend is None else type(backend).__name__


def find_key() -> ApiKey:
    value = os.environ.get(ENV_KEY, "").strip()
    if value:
        return ApiKey(value, ENV_KEY)
    backend = usable_keyring()
    if backend is None:
        return ApiKey(None, "none")
    try:
        return ApiKey(backend.get_password(SERVICE, USERNAME), "keyring")
    except Exception as exc:  # a locked or broken keyring is not an error of ours: say so
        return ApiKey(None, "none", f"the keyring failed: {type(exc).__name__}")


async def find_key_async(timeout: float = 5.0) -> ApiKey:
    try:
        return await asyncio.wait_for(asyncio.to_thread(find_key), timeout)
    except TimeoutError:
        return ApiKey(None, "none", f"the keyring did not answer within {timeout:g} s")


def check_key(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 1000 or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidInput("an API key is one word of printable characters")
    return value


def store_key(value: str) -> str:
    """Keep the key in the OS keyring; returns the backend's name."""
    backend = usable_keyring()
    if backend is None:
        raise InvalidInput(NO_KEYRING)
    try:
        backend.set_password(SERVICE, USERNAME, check_key(value))
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"the keyring refused the key: {type(exc).__name__}") from None
    return type(backend).__name__


def delete_key() -> bool:
    """Forget the stored key; False when there was none."""
    backend = usable_keyring()
    if backend is None:
        raise InvalidInput(NO_KEYRING)
    try:
        backend.delete_password(SERVICE, USERNAME)
    except Exception:  # PasswordDeleteError: nothing stored
        return False
    return True
