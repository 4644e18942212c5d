"""The API key: the environment, else the OS keyring; masked; never shown by repr."""

from __future__ import annotations

import pytest

from core.ai import secrets
from core.domain.errors import InvalidInput
from tests.ai.helpers import KEY


def test_without_keyring_or_environment_there_is_no_key():
    found = secrets.find_key()
    assert found.value is None and found.source == "none" and found.masked() == "none"
    assert secrets.keyring_name() is None
    with pytest.raises(InvalidInput, match="set OPENAI_API_KEY"):
        secrets.store_key(KEY)


def test_the_environment_wins_over_the_keyring(monkeypatch, memory_keyring):
    assert secrets.store_key(KEY + "-stored") == "MemoryKeyring"
    found = secrets.find_key()
    assert (found.value, found.source) == (KEY + "-stored", "keyring")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    found = secrets.find_key()
    assert (found.value, found.source) == (KEY, "OPENAI_API_KEY")
    assert found.masked() == "••••" + KEY[-4:]
    assert KEY not in repr(found) and KEY not in str(found) and KEY not in f"{[found]}"


async def test_keyring_store_and_delete(memory_keyring):
    assert secrets.delete_key() is False
    secrets.store_key(f"  {KEY}\n")
    assert memory_keyring.items == {(secrets.SERVICE, secrets.USERNAME): KEY}
    assert (await secrets.find_key_async()).value == KEY
    assert secrets.delete_key() is True and secrets.find_key().value is None
    with pytest.raises(InvalidInput, match="one word"):
        secrets.store_key("two words")


def test_a_broken_keyring_is_no_key_with_a_reason(memory_keyring, monkeypatch):
    def broken(*args):
        raise RuntimeError(f"dbus said {KEY}")

    monkeypatch.setattr(memory_keyring, "get_password", broken)
    found = secrets.find_key()
    assert found.value is None and found.note == "the keyring failed: RuntimeError"
