"""The methods a path answers: the `Allow` of a 405.

RFC 9110 (15.5.6): a 405 MUST carry an `Allow` listing the methods the target resource supports.
Starlette names only the methods of the first route whose path matched, but FastAPI makes a
route per method, so `PATCH /api/v1/me/addresses/{id}` and its GET and DELETE are three routes:
a PUT there was told `Allow: GET`. The path's methods are those of every route whose pattern
matches it (each of them answers something other than 405 there).

A path one route names literally (`POST /api/v1/admin/campaigns/preview`) is that resource and
no other, as in the OpenAPI document (a concrete path matches before a templated one): a GET
there is not `GET /api/v1/admin/campaigns/{campaign_id}` with "preview" for an id (a 422), but a
405 naming POST (`concrete_paths_first`, a dependency of every route).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

# The order they are listed in (RFC 9110's order of definition), then any other.
ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
Table = list[tuple[re.Pattern[str], str, frozenset[str]]]


def _table(app: Any) -> Table:
    """(pattern, methods) of every route of `app`, built once per app."""
    table: Table | None = getattr(app, "_methods_by_pattern", None)
    if table is None:
        table = []
        for route in iter_route_contexts(app.routes):
            methods = route.methods
            pattern = getattr(route, "path_regex", None)
            if methods and pattern is not None:
                template = route.path_format or ""
                table.append((pattern, template, frozenset(m.upper() for m in methods)))
        app._methods_by_pattern = table
    return table


def allowed_methods(app: Any, path: str) -> str:
    """The methods `path` answers, as an `Allow` header's value (empty if no route matches)."""
    methods: set[str] = set()
    literal = _is_literal(app, path)
    for pattern, template, route_methods in _table(app):
        if (template == path) if literal else bool(pattern.match(path)):
            methods |= route_methods
    ranked = sorted(methods, key=lambda m: (ORDER.index(m) if m in ORDER else len(ORDER), m))
    return ", ".join(ranked)


def _is_literal(app: Any, path: str) -> bool:
    """Whether a route of `app` names `path` literally (no parameter)."""
    literals: frozenset[str] | None = getattr(app, "_literal_paths", None)
    if literals is None:
        literals = frozenset(t for _, t, _ in _table(app) if "{" not in t)
        app._literal_paths = literals
    return path in literals


async def concrete_paths_first(request: Request) -> None:
    """405 when a templated route caught a path another route names literally (see above)."""
    template = getattr(request.scope.get("route"), "path_format", None) or ""
    if "{" in template and _is_literal(request.app, request.scope["path"]):
        raise HTTPException(405)
