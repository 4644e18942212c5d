"""Which store to open: the data dir's SQLite file (the embedded default), or a PostgreSQL
server named by a URL (`--store`, $COMPLIANCE_TUI_STORE, or `[store] url` in the config file).

A URL is shown only masked. A password belongs in $PGPASSWORD or ~/.pgpass (asyncpg reads both,
as libpq does); one on the command line would be visible in the process list, so it is refused
there, and in the config file too (like the AI key, a secret is never read from that file).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from core.domain.errors import InvalidInput

ENV_STORE = "COMPLIANCE_TUI_STORE"
SCHEMES = ("postgresql", "postgres")
_KEYWORD_PASSWORD = re.compile(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)")
SHAPE = "postgresql://USER@HOST:PORT/DATABASE"
SECRET_PLACES = "put it in $PGPASSWORD or ~/.pgpass"


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme.lower() in SCHEMES


def masked(url: str) -> str:
    """The address with any password replaced by ***, in every spelling: user:PASSWORD@, a
    password= query parameter (any case), a libpq keyword string's password=; the rest kept."""
    if is_keywords(url):
        return _KEYWORD_PASSWORD.sub(lambda m: m.group(1) + "***", url)
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rsplit('@', 1)[-1]}"
        query = "&".join(_masked_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "(a store URL that cannot be read)"


def _masked_pair(pair: str) -> str:
    name, sep, _value = pair.partition("=")
    return f"{name}=***" if sep and unquote_plus(name).strip().lower() == "password" else pair


def is_keywords(url: str) -> bool:
    """A libpq keyword string (host=db user=app password=...), not a URL."""
    return "://" not in url and "=" in url


def password_spelling(url: str) -> str | None:
    """How the address carries a password: "userinfo", "query", "keywords", or None."""
    if is_keywords(url):
        return "keywords" if _KEYWORD_PASSWORD.search(url) else None
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            return "userinfo"
    except ValueError:
        return None
    names = [unquote_plus(pair.partition("=")[0]).strip().lower() for pair in parts.query.split("&")]
    return "query" if "password" in names else None


def where(url: str) -> str:
    """host:port/database of a URL, for one-line errors."""
    parts = urlsplit(url)
    host = parts.hostname or "the local socket"
    port = parts.port or 5432
    database = parts.path.lstrip("/") or (parts.username or "the default database")
    return f"{host}:{port}/{database}"


def check_url(url: str, source: str, password_allowed: bool) -> str:
    """A usable store URL, or InvalidInput in one line that never repeats a password.

    password_allowed ($COMPLIANCE_TUI_STORE, private to the process): a password as the URL's
    user:PASSWORD@ only. Everywhere else (the command line, the config file) none, in any
    spelling; a password= query parameter or a libpq keyword string is refused everywhere."""
    url = url.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInput(f"{source}: the store URL must be one line")
    if is_keywords(url):
        secret = " (and it holds a password: " + SECRET_PLACES + ")" if password_spelling(url) else ""
        raise InvalidInput(f"{source}: a libpq keyword string (host=... dbname=...) is not taken here: "
                           f"give {SHAPE}{secret}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it validates the port)
    except ValueError:
        raise InvalidInput(f"{source}: not a store URL: give {SHAPE}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInput(f"{source}: unknown store {masked(url)!r}: give {SHAPE} "
                           "(without one, the data dir's SQLite database is used)")
    spelling = password_spelling(url)
    if spelling == "query":
        where = "as user:PASSWORD@ in $COMPLIANCE_TUI_STORE, or " if password_allowed else ""
        raise InvalidInput(f"{source}: the store URL holds a password (password= in its query): leave it out "
                           f"and give it {where}in $PGPASSWORD or ~/.pgpass")
    if spelling and not password_allowed:
        raise InvalidInput(f"{source}: the store URL holds a password: leave it out and {SECRET_PLACES}, "
                           "never on a command line or in the config file")
    return url
