"""The API's Prometheus metrics: `GET /metrics` (outside /api/v1, not in the OpenAPI document)
and the ASGI middleware that counts every HTTP request, around everything else.

Series (names in core/metrics.py; docs/operations.md#metrics):
- `homeplans_http_requests_total{method, route, status}`
- `homeplans_http_request_duration_seconds{method, route, status}`: from the request's arrival
  until its answer's status line and headers are sent (a live stream's length is not latency),
- and the client library's `process_*` and `python_*` series (memory, CPU, open files, GC).

`route` is the route's template (`/api/v1/orders/{order_id}`), never the path a client sent: a
web app's mount is one value (`/admin`, `/app`), and a path no route takes is `unmatched`, so the
series stay as few as the app's routes however many paths are made up. `method` is one of the
HTTP methods, or `other`.

Cheap on purpose (it runs for every request, `GET /api/v1/me` among them): the labelled children
are made once per (method, route, status) and kept; the route is the object the router already
put in the scope; the clock is `time.perf_counter`. The catalog's fast path answers before
routing, so its requests (and those refused before routing) get their template from the app's
routes, remembered per path.

One process per container (uvicorn without --workers): the counts are this process's; Prometheus
scrapes every replica and sums them.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import HTTP_BUCKETS, HTTP_DURATION, HTTP_LABELS, HTTP_REQUESTS, UNMATCHED

METRICS_PATH = "/metrics"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Paths whose route was looked up (the catalog's fast path, a request refused before routing).
PATHS_REMEMBERED = 4096

# Once per process, in the default registry (with the process and platform collectors): every
# app built in this process (the tests build many) counts into the same series.
# No `*_created` series beside each one: twice the series, and Prometheus does not need them.
disable_created_metrics()
REQUESTS = Counter(
    HTTP_REQUESTS, "HTTP requests answered, by method, route template and status.", HTTP_LABELS
)
DURATION = Histogram(
    HTTP_DURATION,
    "Seconds from a request's arrival until its answer's status and headers were sent, by "
    "method, route template and status.",
    HTTP_LABELS,
    buckets=HTTP_BUCKETS,
)


def install(app: FastAPI) -> None:
    """`GET /metrics`, and the request metrics around every other layer of `app` (call it after
    any other install that wraps the middleware stack)."""
    app.add_route(METRICS_PATH, metrics, methods=["GET"], include_in_schema=False)
    build = app.build_middleware_stack

    def build_with_metrics() -> ASGIApp:
        return RequestMetrics(build(), app)

    app.build_middleware_stack = build_with_metrics  # type: ignore[method-assign]


async def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this process's metrics."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Pure ASGI middleware: counts and times each HTTP request (see the module's doc)."""

    def __init__(self, app: ASGIApp, routes_of: FastAPI) -> None:
        self.app = app
        self._routes_of = routes_of
        # (method, id of the route or its template, status) -> (counter child, histogram child)
        self._children: dict[tuple[str, Any, int], tuple[Any, Any]] = {}
        self._table: RouteTable | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        answered = False

        async def send_counted(message: Message) -> None:
            nonlocal answered
            if not answered and message["type"] == "http.response.start":
                answered = True
                self._record(scope, message["status"], perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except BaseException:
            if not answered:  # the server answers 500 (or the client has gone)
                self._record(scope, 500, perf_counter() - started)
            raise

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"]
        if method not in METHODS:
            method = "other"
        route = scope.get("route")
        table = self._table or self._routes()
        key: tuple[str, int | str, int]
        if route is not None and id(route) not in table.ambiguous:
            # The route by its id: routes compare by value (slower), and are not hashable.
            key = (method, id(route), status)
        else:  # no router ran (the catalog's fast path, refused before routing), or ambiguous
            key = (method, table.of_path(scope["path"]), status)
        children = self._children.get(key)
        if children is None:
            template = key[1] if isinstance(key[1], str) else table.of_route(route, scope["path"])
            labels = (method, template, str(status))
            children = (REQUESTS.labels(*labels), DURATION.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def _routes(self) -> RouteTable:
        if self._table is None:
            self._table = RouteTable(self._routes_of)
        return self._table


class RouteTable:
    """Every route's template, as the app's routes say (built at the first request, when the
    routes are all there). FastAPI keeps an included router's routes as they were declared
    (`/me`), and puts the route in the scope so: the template with its prefixes is the one
    `iter_route_contexts` gives."""

    def __init__(self, app: FastAPI) -> None:
        self._by_id: dict[int, str] = {}
        self._patterns: list[tuple[Any, str]] = []
        twice: set[int] = set()  # a route included under two prefixes: found by its path
        for context in iter_route_contexts(app.routes):
            original = context.original_route
            if isinstance(original, Mount):
                template = original.path or "/"
            else:
                template = str(context.path_format or context.path or UNMATCHED)
            if id(original) in self._by_id and self._by_id[id(original)] != template:
                twice.add(id(original))
            self._by_id[id(original)] = template
            pattern = getattr(context, "path_regex", None)
            if pattern is not None:
                self._patterns.append((pattern, template))
        for ambiguous in twice:
            del self._by_id[ambiguous]
        self.ambiguous = frozenset(twice)
        self._paths: dict[str, str] = {}

    def of_route(self, route: Any, path: str) -> str:
        """The template of `route`, the one routing chose (else of the route that takes
        `path`)."""
        known = self._by_id.get(id(route))
        return known if known is not None else self.of_path(path)

    def of_path(self, path: str) -> str:
        """The template of the route that takes `path`, or `unmatched`."""
        known = self._paths.get(path)
        if known is not None:
            return known
        for pattern, template in self._patterns:
            if pattern.match(path):
                if len(self._paths) < PATHS_REMEMBERED:
                    self._paths[path] = template
                return template
        return UNMATCHED
