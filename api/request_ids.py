"""Every request's id, and the API's access line.

Outside every other layer of the app (`install`), a plain ASGI middleware (no task, no copy of the
request: a few microseconds a request):

- takes the request's `X-Request-Id` when it is one this system keeps (1-100 of letters, digits and
  `._:-`, e.g. a proxy's or a client's UUID), or makes one (32 hex digits);
- makes it the request's log context (`core.request_context`): every line written while the
  request is handled carries it, and the user once `api.deps` knows who is calling; the Temporal
  client carries both into the workflows and activities the request starts or signals;
- answers it in the response's `X-Request-Id` header (and a 5xx problem's `request_id`, so support
  can ask for it);
- writes one access line per request (`homeplans.access`, INFO; the health probes at DEBUG):
  `POST /api/v1/checkout 201 48.2 ms`, with method, route template, status and duration as fields.
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import request_context
from core.request_context import LogContext

log = logging.getLogger("homeplans.access")
HEADER = b"x-request-id"
QUIET_PATHS = frozenset({"/healthz", "/readyz"})  # probed every few seconds: DEBUG
_UNMATCHED_PATH_MAX = 200


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[int, str] | None = None  # route -> its full template, found once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == HEADER:
                given = request_context.valid_request_id(value.decode("latin-1"))
                break
        rid = given or request_context.new_request_id()
        request_context.begin(LogContext(request_id=rid))
        started = time.perf_counter()
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._access_line(scope, status, time.perf_counter() - started)

    def _access_line(self, scope: Scope, status: int, seconds: float) -> None:
        path = scope["path"]
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        if not log.isEnabledFor(level):
            return
        method = scope["method"]
        route = self._route(scope)
        duration_ms = round(seconds * 1000, 1)
        log.log(
            level,
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            duration_ms,
            extra={"method": method, "route": route, "status": status, "duration_ms": duration_ms},
        )

    def _route(self, scope: Scope) -> str:
        """The template of the route that answered (`/api/v1/orders/{order_id}`), or the path as
        sent (still percent-encoded, so one line stays one line) when no route matched."""
        route = scope.get("route")
        if route is not None:
            if self._templates is None:
                self._templates = _templates(scope.get("app"))
            template = self._templates.get(id(route)) or getattr(route, "path", None)
            if isinstance(template, str) and template:
                return template
        raw = scope.get("raw_path")
        if isinstance(raw, bytes):
            path = raw.decode("latin-1")
        else:
            path = str(scope["path"]).encode("unicode_escape").decode("ascii")
        return path.split("?", 1)[0][:_UNMATCHED_PATH_MAX]


def _templates(app: object) -> dict[int, str]:
    """Every route of `app` -> its path template with the prefix it was included under (a route
    of an included router knows only its own part)."""
    if not isinstance(app, FastAPI):
        return {}
    return {
        id(context.original_route): context.path_format
        for context in iter_route_contexts(app.routes)
        if context.path_format
    }


def install(app: FastAPI) -> None:
    """Put request ids and the access line around the whole app, outside every other layer (the
    limits' 413s and timeouts carry an id too)."""
    build = app.build_middleware_stack

    def build_with_request_ids() -> ASGIApp:
        return RequestIds(build())

    app.build_middleware_stack = build_with_request_ids  # type: ignore[method-assign]
