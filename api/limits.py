"""How large a request body and how long a request may be, for every route, before any route runs.

- A body is at most `MAX_BODY_BYTES` (1 MiB): a declared `Content-Length` past it is a 413 before a
  byte of the body is read (the client that sent `Expect: 100-continue` is never asked for it);
  a body without one (chunked) is a 413 as soon as the bytes read pass it. The answer is
  problem+json naming the limit (`max_bytes`), and the connection is closed after it.
- A route that takes an upload (marked `@takes_upload`: photos) bounds its own body as it reads
  it, with its own, larger limit and its own words (`api.uploads`); the default does not apply.
- A request not answered within `REQUEST_TIMEOUT_SECONDS` (30 s; an upload:
  `UPLOAD_TIMEOUT_SECONDS`, 120 s) is answered 503 problem+json and its work is cancelled where
  it waits (a database statement is cancelled in the server too; its transaction is rolled back).
  A live stream (`text/event-stream`) is held to the deadline only until it starts: then it
  lasts as long as the client stays.

`install(app, settings)` puts these outside every other layer of the app, with the security
headers and CORS (`api.security`) and the client's address (the trusted proxies) outside them, so
every answer, a 500 included, passes through them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.security import BrowserPolicy, client_address
from api.uploads import human_size
from core.settings import Settings

log = logging.getLogger("homeplans.api")

F = TypeVar("F", bound=Callable[..., Any])
TOO_LARGE_TITLE = "Content too large"


def takes_upload(endpoint: F) -> F:
    """Mark a route that takes an upload: it reads its body itself and refuses it past its own
    bound (`api.uploads.read_file`), and it has `UPLOAD_TIMEOUT_SECONDS` to arrive."""
    endpoint.__takes_upload__ = True  # type: ignore[attr-defined]
    return endpoint


class BodyTooLarge(StarletteHTTPException):
    """Raised where the body is read, once it passes the limit. An HTTPException, so FastAPI's
    body parsing lets it through (anything else there becomes a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_detail(limit), headers={"Connection": "close"})
        self.limit = limit


def too_large_detail(limit: int) -> str:
    return f"the body may be at most {human_size(limit)} ({limit} bytes); send less"


def too_large(request: Request, limit: int) -> Response:
    return problem(
        413,
        too_large_detail(limit),
        request=request,
        title=TOO_LARGE_TITLE,
        headers={"Connection": "close"},
        max_bytes=limit,
    )


async def _body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return too_large(request, exc.limit)


def _body_headers(scope: Scope) -> tuple[bool, int | None]:
    """Whether the request has a body, and its declared length (None: not declared, or not a
    number, which the server refuses before the app sees it)."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else None
            if length is None:
                return True, None
        elif name == b"transfer-encoding":
            chunked = True
    return chunked or bool(length), length


def _is_event_stream(headers: Any) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return bytes(value).split(b";")[0].strip().lower() == b"text/event-stream"
    return False


class _UploadRoutes:
    """The routes marked `takes_upload`, as (path pattern, methods), found once."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def matches(self, scope: Scope) -> bool:
        if self._routes is None:
            self._routes = self._find(scope["app"])
        path, method = scope["path"], scope["method"]
        return any(method in methods and pattern.match(path) for pattern, methods in self._routes)

    @staticmethod
    def _find(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
        found = []
        for route in iter_route_contexts(app.routes):
            if not isinstance(route.original_route, APIRoute):
                continue
            if getattr(route.endpoint, "__takes_upload__", False) and route.path_format:
                pattern, _, _ = compile_path(route.path_format)
                found.append((pattern, frozenset(route.methods or ())))
        return found


class Limits:
    """ASGI middleware: the body limit and the request deadline (see the module's doc)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body_bytes = settings.max_body_bytes
        self.timeout_s = settings.request_timeout_seconds
        self.upload_timeout_s = settings.upload_timeout_seconds
        self.uploads = _UploadRoutes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timeout_s = self.timeout_s
        has_body, declared = _body_headers(scope)
        if has_body:
            if self.uploads.matches(scope):
                timeout_s = self.upload_timeout_s
            elif declared is not None and declared > self.max_body_bytes:
                # Refused before anything is read, routed or looked up.
                await too_large(Request(scope), self.max_body_bytes)(scope, receive, send)
                return
            else:
                receive = self._bounded(receive)
        await self._in_time(scope, receive, send, timeout_s)

    def _bounded(self, receive: Receive) -> Receive:
        limit = self.max_body_bytes
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return bounded

    async def _in_time(self, scope: Scope, receive: Receive, send: Send, seconds: float) -> None:
        started = False
        deadline = asyncio.timeout(seconds)

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if _is_event_stream(message.get("headers", ())):
                    deadline.reschedule(None)  # a live stream lasts while its client stays
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, watched)
        except TimeoutError:
            if not deadline.expired():
                raise  # the app's own, not ours
        except BodyTooLarge as exc:  # read by a layer outside the app's error handlers
            if started:
                raise
            await too_large(Request(scope), exc.limit)(scope, receive, send)
            return
        if not deadline.expired():
            return
        log.warning(
            "%s %s took longer than %g s and was stopped%s",
            scope["method"],
            scope["path"],
            seconds,
            " after its answer had started" if started else "",
        )
        if started:
            return  # the server closes the connection on an answer left unfinished
        answer = problem(
            503,
            f"the request took longer than the {seconds:g} s this API gives one, and was "
            "stopped; try again shortly",
            request=Request(scope),
            title="Request took too long",
        )
        await answer(scope, receive, send)


def install(app: FastAPI, settings: Settings) -> None:
    """Put the limits, then the security headers and CORS, then the client's address (trusted
    proxies) around the whole app, outside its error handling (see the module's doc)."""
    app.add_exception_handler(BodyTooLarge, _body_too_large)
    build = app.build_middleware_stack

    def build_with_limits() -> ASGIApp:
        return client_address(BrowserPolicy(Limits(build(), settings), settings), settings)

    app.build_middleware_stack = build_with_limits  # type: ignore[method-assign]
