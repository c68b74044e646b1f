"""Input that no route may pass on: checked once, for every route, before any route's own code.

- A body of a type the route does not take is a 415 that names the types it does (`Accept`, and
  `Accept-Post` / `Accept-Patch` for those methods), not a 422 "Input should be a valid
  dictionary" on an empty field. What a route takes is what its OpenAPI operation declares
  (`body_types`): a model or `Body()` is JSON (`application/json`, and `application/*+json` too;
  an untyped body FastAPI does not read as JSON), `Form()` a form, and a body the route reads
  itself is declared in `openapi_extra` (a photo: multipart). A route that declares no body (a
  webhook reads its raw bytes; the unsubscribe link ignores a mail client's one-click form) is
  not checked.
- PostgreSQL refuses text with a NUL character (`\\u0000`): a NUL that reached it was a 500 and a
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

from core.errors import UnsupportedMediaType

NUL = "\x00"
MESSAGE = "must not contain a NUL character (\\u0000)"
# The header that names, in a 415, what a method's body may be (RFC 5789; W3C LDP for POST);
# `Accept` says it for every method (RFC 9110, 15.5.16).
ACCEPT_FOR_METHOD = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}


def body_types(route: Any) -> tuple[str, ...]:
    """The media types `route` takes its body in, as its OpenAPI operation declares them; none
    when it declares no body."""
    body_field = getattr(route, "body_field", None)
    if body_field is not None:
        # What FastAPI writes into the document: JSON for a model or `Body()`, a form for
        # `Form()`, a multipart form for `File()`.
        return (body_field.field_info.media_type,)
    extra = getattr(route, "openapi_extra", None) or {}
    return tuple(extra.get("requestBody", {}).get("content", {}))


def _refusal_headers(method: str, accepted: tuple[str, ...]) -> dict[str, str]:
    """The headers of a 415 to `method`: what its body may be."""
    listed = ", ".join(accepted)
    headers = {"Accept": listed}
    if method.upper() in ACCEPT_FOR_METHOD:
        headers[ACCEPT_FOR_METHOD[method.upper()]] = listed
    return headers


async def require_body_type(request: Request) -> None:
    """415 when the request has a body whose type the route does not declare."""
    if not _has_body(request):
        return
    route = request.scope.get("route")
    accepted: tuple[str, ...] | None = getattr(route, "_body_types", None)
    if accepted is None:
        accepted = body_types(route)
        if route is not None:
            route._body_types = accepted
    if not accepted:
        return
    sent = _media_type(request)
    if any(_takes(kind.lower(), sent) for kind in accepted):
        return
    shown = f"of type {_shown(sent)}" if sent else "without a Content-Type"
    raise UnsupportedMediaType(
        f"the body was sent {shown}, which this operation does not take: "
        f"send the body as {' or '.join(accepted)}",
        headers=_refusal_headers(request.method, accepted),
    )


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


def _has_body(request: Request) -> bool:
    headers = request.headers
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _media_type(request: Request) -> str:
    """The body's media type, without its parameters (`charset`, `boundary`); empty if untyped."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _takes(declared: str, sent: str) -> bool:
    # A JSON body is read as JSON whichever JSON type it names.
    return sent == declared or (_is_json_type(sent) and _is_json_type(declared))


def _is_json_type(media_type: str) -> bool:
    """What FastAPI parses as JSON: `application/json` and `application/*+json`."""
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _shown(media_type: str) -> str:
    """The client's media type, fit to quote back: printable and short."""
    printable = media_type.encode("unicode_escape").decode("ascii")
    return printable if len(printable) <= 100 else printable[:100] + "..."


def _is_json(request: Request) -> bool:
    """A body that FastAPI will parse as JSON: typed so (an untyped one it does not parse)."""
    return _has_body(request) and _is_json_type(_media_type(request))


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
