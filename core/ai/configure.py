"""Changing the AI assistant's settings and key, logged (settings.changed) for the CLI and the
TUI alike. What is logged names what changed, never the key: only that one was stored or removed.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.ai import secrets
from core.audit.log import record
from core.domain.settings import AiSettings, load_settings, save_ai_settings
from core.workspace import Workspace


def _shown(key: str, value: Any) -> Any:
    """A base URL without any user or password in it (ai_settings takes any http(s) URL)."""
    if key == "base_url" and value:
        parts = urlsplit(str(value))
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return value


async def save_settings(workspace: Workspace, ai: AiSettings, typed_key: str | None = None) -> None:
    """Store the typed key (first: a refused key saves nothing), write the [ai] table, apply it
    to this process, and log what changed."""
    before = (await asyncio.to_thread(load_settings)).ai
    if typed_key:
        await asyncio.to_thread(secrets.store_key, typed_key)
    await asyncio.to_thread(save_ai_settings, ai)
    after = (await asyncio.to_thread(load_settings)).ai
    workspace.configure(ai=after)
    changed = {k: [_shown(k, getattr(before, k)), _shown(k, getattr(after, k))]
               for k in ("base_url", "model", "timeout") if getattr(before, k) != getattr(after, k)}
    if changed or typed_key:
        await record(workspace, "settings.changed", "ai", {"changed": changed} | (
            {"api_key": "stored in the OS keyring"} if typed_key else {}))


async def set_key(workspace: Workspace, value: str) -> str:
    """Keep the key in the OS keyring; returns the backend's name."""
    backend = await asyncio.to_thread(secrets.store_key, value)
    await record(workspace, "settings.changed", "ai", {"api_key": "stored in the OS keyring", "backend": backend})
    return backend


async def delete_key(workspace: Workspace) -> bool:
    """Forget the stored key; False when there was none (nothing is logged then)."""
    removed = await asyncio.to_thread(secrets.delete_key)
    if removed:
        await record(workspace, "settings.changed", "ai", {"api_key": "removed from the OS keyring"})
    return removed
