"""Real local receivers of notifications, on loopback ports the OS picks: an HTTP server that
keeps every POST (Apprise's json:// webhooks) and answers with the statuses it is told to,
and an SMTP server (aiosmtpd) that keeps every mail."""

from __future__ import annotations

import asyncio
import email
import json
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Webhook:
    posts: list[dict] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)  # answers to the next posts; then 200
    port: int = 0

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"


def start_webhook() -> tuple[Webhook, ThreadingHTTPServer]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = hook.statuses.popleft() if hook.statuses else 200
            if status == 200:
                hook.posts.append(json.loads(body) | {"path": self.path})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return hook, server


@dataclass
class Mailbox:
    mails: list[Message] = field(default_factory=list)
    port: int = 0

    def url(self, to: str = "ops@example.test") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=compliance@example.test&to={to}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.mails.append(email.message_from_bytes(content))
        return "250 OK"


@contextmanager
def running_mailbox() -> Iterator[Mailbox]:
    """An SMTP server on a loop in its own thread (aiosmtpd's Controller cannot take port 0)."""
    box, loop = Mailbox(), asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: SMTP(box), "127.0.0.1", 0))
    box.port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(server.wait_closed())
        loop.close()


@contextmanager
def running_webhook() -> Iterator[Webhook]:
    hook, server = start_webhook()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def text_of(mail: Message) -> str:
    """The plain-text part of a mail Apprise sent."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8").replace("\r\n", "\n")
    raise AssertionError("no text/plain part")
