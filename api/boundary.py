"""Input that no route may pass on: checked once, for every route, before any route's own code.

PostgreSQL refuses text with a NUL character (`\\u0000`): a NUL that reached it was a 500 and a
dropped connection. Rather than a constraint on every string field of every model (and every
path and query parameter), the app depends on `reject_nul` for all routes: a NUL anywhere in the
path parameters, the query or a JSON body is a 422 naming the field, like any invalid input.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

NUL = "\x00"
MESSAGE = "must not contain a NUL character (\\u0000)"


async def reject_nul(request: Request) -> None:
    """422 when a path parameter, a query parameter or a JSON body holds a NUL character."""
    errors: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            errors.append(_error(("path", name)))
    raw_query = request.scope.get("query_string", b"")
    if b"%00" in raw_query or b"\x00" in raw_query:
        # Only the parameters the route reads: one it ignores never reaches the database.
        declared = _query_names(request.scope.get("route"))
        for name, value in request.query_params.multi_items():
            if name in declared and NUL in value:
                errors.append(_error(("query", name)))
    if _is_json(request):
        body = await request.body()  # read once: the route's own parsing reuses it
        # JSON can only carry a NUL as the escape \u0000; look closer only when it is there.
        if b"\\u0000" in body:
            try:
                document = json.loads(body)
            except ValueError:
                document = None  # not JSON: the route's own parsing says so
            errors.extend(_error(("body", *loc)) for loc in _nul_locations(document, ()))
    if errors:
        raise RequestValidationError(errors)


def _query_names(route: Any) -> frozenset[str]:
    """The query parameters `route` declares (by the name a client sends), kept on the route."""
    names: frozenset[str] | None = getattr(route, "_query_names", None)
    if names is None:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            return frozenset()
        names = frozenset(_walk_query(dependant))
        route._query_names = names
    return names


def _walk_query(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _walk_query(sub)


def _is_json(request: Request) -> bool:
    """A body that FastAPI will parse as JSON: declared so, or with no content type at all."""
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return False
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in ("", "application/json") or content_type.endswith("+json")


def _nul_locations(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield (*loc, key.replace(NUL, "\\u0000"))
            else:
                yield from _nul_locations(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_locations(item, (*loc, index))


def _error(loc: tuple[str | int, ...]) -> dict[str, Any]:
    return {"loc": loc, "msg": MESSAGE, "type": "string_nul_character"}
