"""The OS keyring (the `keyring` package), where a usable backend exists: where the secrets
of this installation live when the environment does not give them (the LLM API key,
notification URLs). keyring calls may block (D-Bus): call them from a thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "compliance-tui"  # every secret of ours is under this service, by its own user name


def usable_keyring() -> KeyringBackend | None:
    """The keyring backend, or None where there is none usable (the fail or null backend)."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    backend = keyring.get_keyring()
    chained = getattr(backend, "backends", None)
    if isinstance(backend, (fail.Keyring, null.Keyring)) or chained == []:
        return None
    return backend
