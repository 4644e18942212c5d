"""Fixtures of the AI tests: the loopback LLM server, a clean environment, no real keyring."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from tests.ai.helpers import AI_ENV, MemoryKeyring
from tests.ai.llm_server import LlmServer


@pytest.fixture
def llm():
    server = LlmServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean_ai_env(monkeypatch, tmp_path):
    """No LLM from the developer's environment, a private config file, and no keyring (as here)."""
    for name in AI_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def memory_keyring():
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend
