"""Which store to open: the data dir's SQLite file (the embedded default), or a PostgreSQL
server named by a URL (`--store`, $COMPLIANCE_TUI_STORE, or `[store] url` in the config file).

A URL is shown only masked. A password belongs in $PGPASSWORD or ~/.pgpass (asyncpg reads both,
as libpq does); one on the command line would be visible in the process list, so it is refused
there, and in the config file too (like the AI key, a secret is never read from that file).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from core.domain.errors import InvalidInput

ENV_STORE = "COMPLIANCE_TUI_STORE"
SCHEMES = ("postgresql", "postgres")


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme.lower() in SCHEMES


def masked(url: str) -> str:
    """The URL with any password replaced by ***; the query (sslmode, ...) kept."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "(a store URL that cannot be read)"


def where(url: str) -> str:
    """host:port/database of a URL, for one-line errors."""
    parts = urlsplit(url)
    host = parts.hostname or "the local socket"
    port = parts.port or 5432
    database = parts.path.lstrip("/") or (parts.username or "the default database")
    return f"{host}:{port}/{database}"


def check_url(url: str, source: str, password_allowed: bool) -> str:
    """A usable store URL, or InvalidInput in one line that never repeats a password."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it validates the port)
    except ValueError:
        raise InvalidInput(f"{source}: not a store URL: give postgresql://USER@HOST:PORT/DATABASE") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInput(f"{source}: unknown store {masked(url)!r}: give postgresql://USER@HOST:PORT/DATABASE "
                           "(without one, the data dir's SQLite database is used)")
    if parts.password is not None and not password_allowed:
        raise InvalidInput(f"{source}: the store URL holds a password: leave it out and put it in "
                           "$PGPASSWORD or ~/.pgpass, never on a command line or in the config file")
    if any(ord(c) < 32 for c in url):
        raise InvalidInput(f"{source}: the store URL must be one line")
    return url
