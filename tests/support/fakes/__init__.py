"""Local HTTP servers that the real provider SDKs talk to in tests (no network, no accounts).

Each fake is a stdlib `ThreadingHTTPServer` on 127.0.0.1 with a free port, serving from a thread;
it starts in milliseconds and `stop()` (or leaving its `with` block) shuts it down. Every request
is recorded (method, path, parameters, headers) so a test asserts what our code actually sent.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

Response = tuple[int, dict[str, str], bytes]

_ALPHANUM = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 14) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUM) for _ in range(length))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    params: dict[str, Any]  # decoded body (POST) or query (GET)
    headers: dict[str, str]  # lower-case names
    replayed: bool = False  # answered from the idempotency store (Stripe)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            status, out_headers, payload = self.server.fake.dispatch(
                self.command, url.path, url.query, headers, body
            )
        except Exception as exc:  # a bug in the fake: answer 500 and keep serving
            status, out_headers, payload = json_response(
                500, {"error": {"type": "api_error", "message": f"fake crashed: {exc!r}"}}
            )
        self.send_response(status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


class FakeServer:
    """Base of the fakes: start/stop, the request log, a lock around the state."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        raise NotImplementedError
