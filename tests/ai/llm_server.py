"""A real HTTP server on loopback that speaks the OpenAI chat-completions API, for the tests.

Streaming (server-sent events: `data: {...}` chunks, then `data: [DONE]`) and not, `/v1/models`,
and the failures a real server shows: a wrong key (401), an unknown model (404), rate limiting
(429 with Retry-After), a stream closed mid-answer, an empty or malformed answer, no answer at
all (a hang). Hostile ones too (issue 22): an answer that never ends (`endless`), one that
drips (`delay` with `endless`), a huge one (`huge_chars`), one SSE line that never ends
(`oneline`), and an error whose body repeats the request's Authorization header (`echo-auth`,
with `status`, as JSON or as plain text). It records every request it receives, headers and
body, so tests can check what was sent and where the key went. It runs in its own thread, so
a CLI in a subprocess can use it while the test waits.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = (
    "## What it protects against\n\nRemote root logins over SSH let an attacker who guesses "
    "one password own the host.\n\n## Why this host may fail it\n\n`PermitRootLogin` is not "
    "set to `no` in `/etc/ssh/sshd_config`.\n\n## How to fix it safely\n\n```bash\n"
    "sudo sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin no/' /etc/ssh/sshd_config\n"
    "sudo sshd -t && sudo systemctl reload ssh\n```\n\n## What could break\n\n- Scripts "
    "that log in as root.\n- Keep this session open and test a fresh login first.\n"
)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    raw: bytes = b""
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def prompt(self) -> str:
        return "\n".join(m.get("content", "") for m in (self.body or {}).get("messages", []))


@dataclass
class LlmServer:
    models: list[str] = field(default_factory=lambda: ["test-model", "other-model"])
    api_key: str | None = None  # when set, anything else gets a 401
    answer: str = ANSWER  # streamed
    plain_answer: str = "OK"  # not streamed
    piece: int = 12  # characters per streamed chunk
    delay: float = 0.0  # seconds between chunks
    mode: str = "ok"  # ok, 401, 429, close, empty, malformed, hang, no-finish, length, endless, oneline, echo-auth
    huge_chars: int = 0  # > 0: stream this many characters (made as they go) instead of answer
    status: int = 500  # echo-auth: the status of the error
    plain_error: bool = False  # echo-auth: the body as plain text, not OpenAI's JSON
    retry_after: str = "1"
    rate_limits: int = 1  # 429s before answering
    send_usage: bool = True
    list_models: bool = True
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self):
        self._limited = 0
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> "LlmServer":
        server = self

        class Handler(_Handler):
            llm = server

        self._httpd = _Quiet(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True, name="llm-server").start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def chats(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def usage_for(self, body: dict, text: str) -> dict:
        prompt = sum(len(m.get("content", "")) for m in body.get("messages", [])) // 4
        completion = max(1, len(text) // 4) if text else 0
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # a client that hung up early: expected
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    llm: LlmServer

    def log_message(self, *args) -> None:  # quiet: the tests read self.llm.requests
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        found = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw)
        self.llm.requests.append(found)
        return found

    def _json(self, status: int, value: dict, headers: dict | None = None) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, text in (headers or {}).items():
            self.send_header(name, text)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str, headers: dict | None = None) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error", "code": code}}, headers)

    def _authorised(self) -> bool:
        llm = self.llm
        wrong = llm.mode == "401" or (
            llm.api_key is not None and self.headers.get("Authorization") != f"Bearer {llm.api_key}")
        if wrong:
            self._error(401, "Incorrect API key provided.", "invalid_api_key")
        return not wrong

    def do_GET(self) -> None:
        self._record()
        if not self._authorised():
            return
        if self.path.rstrip("/").endswith("/models") and self.llm.list_models:
            self._json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "tests"} for m in self.llm.models]})
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        llm = self.llm
        found = self._record()
        if not self.path.endswith("/chat/completions"):
            self._error(404, f"no route {self.path}", "not_found")
            return
        if not self._authorised():
            return
        body = found.body or {}
        model = body.get("model")
        if model not in llm.models:
            self._error(404, f"The model `{model}` does not exist.", "model_not_found")
            return
        if llm.mode == "429" and llm._limited < llm.rate_limits:
            llm._limited += 1
            self._error(429, "Rate limit reached for requests.", "rate_limit_exceeded",
                        {"Retry-After": llm.retry_after})
            return
        if llm.mode == "hang":
            llm._release.wait(60)
            self.close_connection = True
            return
        if llm.mode == "echo-auth":
            self._echo_auth()
            return
        if body.get("stream"):
            self._stream(body, model)
        else:
            text = "" if llm.mode == "empty" else llm.plain_answer
            self._json(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                **({"usage": llm.usage_for(body, text)} if llm.send_usage else {}),
            })

    def _echo_auth(self) -> None:
        """A misconfigured proxy's error page: the request's headers repeated back."""
        said = f"Authorization: {self.headers.get('Authorization')} was rejected by upstream"
        if not self.llm.plain_error:
            self._error(self.llm.status, said, "upstream_error")
            return
        data = f"<html><body>Bad gateway. Request headers: {said}</body></html>".encode()
        self.send_response(self.llm.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _hostile_stream(self, model: str) -> bool:
        """The endless, huge and one-line answers; False when the mode is none of them."""
        llm = self.llm
        if llm.mode == "oneline":  # one SSE line that never ends: no event is ever complete
            self._chunk('data: {"id": "chatcmpl-test", "choices": [{"delta": {"content": "')
            while not llm._release.is_set():
                self._chunk("x" * 65536)
            return True
        if llm.mode != "endless" and not llm.huge_chars:
            return False
        sent = 0
        while llm.mode == "endless" or sent < llm.huge_chars:
            if llm._release.is_set():
                return True
            self._event(model, {"content": "lorem ipsum " * (llm.piece // 12 or 1)})
            sent += 12 * (llm.piece // 12 or 1)
            if llm.delay:
                time.sleep(llm.delay)
        self._event(model, {}, "stop")
        self._chunk("data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        return True

    def _chunk(self, data: str) -> None:
        payload = data.encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _event(self, model: str, delta: dict, finish: str | None = None, **extra) -> None:
        chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        self._chunk(f"data: {json.dumps(chunk)}\n\n")

    def _stream(self, body: dict, model: str) -> None:
        llm = self.llm
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event(model, {"role": "assistant", "content": ""})
        if self._hostile_stream(model):
            return
        text = "" if llm.mode == "empty" else llm.answer
        pieces = [text[i:i + llm.piece] for i in range(0, len(text), llm.piece)]
        for number, piece in enumerate(pieces):
            if llm.mode == "close" and number == len(pieces) // 2:
                self.close_connection = True  # no terminating chunk: the peer sees a cut body
                return
            if llm.mode == "malformed" and number == 1:
                self._chunk('data: {"id": "chatcmpl-test", "choices": [{"delta": \n\n')
            self._event(model, {"content": piece})
            if llm.delay:
                time.sleep(llm.delay)
        if llm.mode != "no-finish":
            self._event(model, {}, "length" if llm.mode == "length" else "stop")
        include = (body.get("stream_options") or {}).get("include_usage")
        if include and llm.send_usage:
            usage = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": model,
                     "choices": [], "usage": llm.usage_for(body, text)}
            self._chunk(f"data: {json.dumps(usage)}\n\n")
        self._chunk("data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
