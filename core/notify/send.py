"""Sending one message to notification targets through Apprise, each target on its own: a
failing one is tried again with backoff (backoff, then twice that, ...) and never holds up the
others; each try is bounded in time.

Apprise is synchronous (requests, smtplib): each try runs in a thread. What it says about a
try comes from its per-target result, scrubbed of the URL's secret parts (its own logger is
kept quiet: core/notify/targets.py load_apprise).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote, urlsplit

from core.domain.text import one_line
from core.notify.targets import Target, env_name, load_apprise

TRY_TIMEOUT = 60.0  # seconds one try at one target may take (SMTP's own connect timeout is 15 s)


@dataclass(frozen=True)
class Delivery:
    name: str
    shown: str  # the masked URL
    sent: bool
    tries: int
    error: str | None = None  # the last try's, one line


async def deliver(targets: list[Target], title: str, body: str, attempts: int, backoff: float,
                  say: Callable[[str], None]) -> list[Delivery]:
    """The message to every target at once; say() gets a line for each failed try and the end."""
    return list(await asyncio.gather(*(_deliver_one(t, title, body, attempts, backoff, say) for t in targets)))


async def _deliver_one(target: Target, title: str, body: str, attempts: int, backoff: float,
                       say: Callable[[str], None]) -> Delivery:
    shown = f"{target.name} ({target.masked()})"
    if target.url is None:
        unset = f"its URL is not set here: ${env_name(target.name)} or `compliance-tui notify add {target.name}`"
        say(f"notify: {target.name}: {unset}")
        return Delivery(target.name, target.masked(), False, 0, unset)
    error: str | None = None
    for attempt in range(1, attempts + 1):
        error = await _try(target.url, title, body)
        if error is None:
            say(f"notify: sent to {shown}" + (f" at try {attempt}" if attempt > 1 else ""))
            return Delivery(target.name, target.masked(), True, attempt)
        if attempt < attempts:
            wait = backoff * 2 ** (attempt - 1)
            say(f"notify: {shown} failed (try {attempt} of {attempts}): {error}; trying again in {wait:g} s")
            await asyncio.sleep(wait)
    say(f"notify: {shown} failed" + (f" after {attempts} tries" if attempts > 1 else "") + f": {error}")
    return Delivery(target.name, target.masked(), False, attempts, error)


async def _try(url: str, title: str, body: str) -> str | None:
    """None when sent, else why not (one line, nothing secret)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(_send, url, title, body), TRY_TIMEOUT)
    except TimeoutError:
        return f"no answer within {TRY_TIMEOUT:g} s"
    except Exception as exc:  # a plugin's bug must not end the notifier: it is this try's failure
        return scrub(f"{type(exc).__name__}: {exc}", url)


def _send(url: str, title: str, body: str) -> str | None:
    apprise = load_apprise()
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "Apprise cannot use this URL"
    # plain text, said so: Apprise then escapes it for services that read HTML or Markdown
    # (by default its mail takes the body as HTML, where a host name could be markup)
    result = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT,
                             log_level=logging.WARNING)
    if result:
        return None
    said = [entry.message for outcome in result.results for entry in outcome.logs()]
    return scrub(said[-1], url) if said else "the service did not accept it"


def secret_parts(url: str) -> list[str]:
    """What of a URL could be secret: its user and password, path segments and query values."""
    try:
        parts = urlsplit(url)
        found = [parts.username or "", parts.password or ""]
    except ValueError:
        return [url]
    found += parts.path.split("/")
    found += [v for pair in parts.query.split("&") for v in pair.split("=")[1:]]
    found = [unquote(p) for p in found] + found
    return sorted({p for p in found if len(p) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    for part in secret_parts(url):
        text = re.sub(re.escape(part), "••••", text)
    return one_line(text, 300)
