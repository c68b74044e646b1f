"""Errors as problem+json (RFC 9457), with field-level detail for invalid input.

A route a person opens in a browser (marked `api.problems.error_pages`: the unsubscribe link)
answers by what the client asked for: a page when its `Accept` prefers HTML to JSON (a browser;
a mail client that names no preference, `*/*`), problem+json when it asks for JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.methods import allowed_methods
from api.problems import PROBLEM_JSON, error_page
from core import request_context
from core.errors import DomainError, FieldProblem, InvalidField

# What FastAPI raises (as a 400) for a body it cannot decode at all.
FASTAPI_UNREADABLE_BODY = "There was an error parsing the body"
log = logging.getLogger("homeplans.api")


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    page = error_page(request.scope.get("route")) if request is not None else None
    if page is not None and request is not None and prefers_html(request.headers.get("accept")):
        answer = page(400, None) if status == 422 else page(status, detail)
        answer.headers.update(headers or {})
        return answer
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if status >= 500 and (request_id := request_context.request_id()) is not None:
        body["request_id"] = request_id  # what support asks for: it finds the request's lines
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def prefers_html(accept: str | None) -> bool:
    """Whether `accept` prefers a page to JSON; a tie (or no preference) goes to the page."""
    if not accept:
        return True
    page = _quality(accept, "text", "html")
    data = max(_quality(accept, "application", sub) for sub in ("problem+json", "json"))
    return page >= data


def _quality(accept: str, main: str, sub: str) -> float:
    """The weight `accept` gives `main/sub`: that of the most specific range matching it."""
    best, weight = -1, 0.0
    for member in accept.split(",")[:50]:
        media_range, *parameters = (part.strip() for part in member.split(";"))
        range_main, _, range_sub = media_range.lower().partition("/")
        if (range_main, range_sub) == (main, sub):
            specificity = 2
        elif range_main == main and range_sub == "*":
            specificity = 1
        elif (range_main, range_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best:
            best, weight = specificity, _q(parameters)
    return weight


def _q(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in (*err.get("loc", ()), *_problem_loc(err))]
        errors.append(
            {
                "field": ".".join(loc[1:])
                if loc and loc[0] in ("body", "query", "path", "header")
                else ".".join(loc),
                "in": loc[0] if loc else None,
                "message": _message(err),
                "type": err.get("type"),
            }
        )
    return errors


def _raised(err: Mapping[str, Any]) -> Exception | None:
    """The exception a validator raised, which pydantic keeps in the error's context."""
    error = (err.get("ctx") or {}).get("error")
    return error if isinstance(error, Exception) else None


def _problem_loc(err: Mapping[str, Any]) -> tuple[str | int, ...]:
    """Where within the model a cross-field validator's problem is (see `FieldProblem`)."""
    error = _raised(err)
    return error.loc if isinstance(error, FieldProblem) else ()


def _message(err: Mapping[str, Any]) -> str:
    """Words a person reads beside the field: the validator's own (without pydantic's "Value
    error, " or "Assertion failed, " prefix), or pydantic's bounds and types said plainly ("at
    least 3 characters", "must be 0 or more", "must be a whole number")."""
    error = _raised(err)
    kind = err.get("type")
    if kind in ("value_error", "assertion_error") and error is not None and str(error):
        return str(error)
    plain = _PLAIN.get(str(kind))
    ctx = err.get("ctx") or {}
    if plain is not None:
        try:
            return plain(ctx)
        except (KeyError, TypeError, ValueError):
            pass
    message = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _number(value: Any) -> str:
    """A bound as written in the API's schema (10000, 2.5; 1.0 as 1)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _count(n: Any, noun: str) -> str:
    return f"{_number(n)} {noun}{'' if n == 1 else 's'}"


# pydantic's error types, said as a person would (the ctx holds the bound).
_PLAIN: dict[str, Any] = {
    "missing": lambda ctx: "required: fill this in",
    "string_too_short": lambda ctx: (
        "required: at least 1 character"
        if ctx["min_length"] == 1
        else f"too short: at least {_count(ctx['min_length'], 'character')}"
    ),
    "string_too_long": lambda ctx: f"too long: at most {_count(ctx['max_length'], 'character')}",
    "too_short": lambda ctx: f"too few: at least {_count(ctx['min_length'], 'item')}",
    "too_long": lambda ctx: f"too many: at most {_count(ctx['max_length'], 'item')}",
    "greater_than_equal": lambda ctx: f"must be {_number(ctx['ge'])} or more",
    "greater_than": lambda ctx: f"must be more than {_number(ctx['gt'])}",
    "less_than_equal": lambda ctx: f"must be {_number(ctx['le'])} or less",
    "less_than": lambda ctx: f"must be less than {_number(ctx['lt'])}",
    "int_type": lambda ctx: "must be a whole number",
    "int_parsing": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number",
    "float_type": lambda ctx: "must be a number",
    "float_parsing": lambda ctx: "must be a number",
    "bool_type": lambda ctx: "must be true or false",
    "bool_parsing": lambda ctx: "must be true or false",
    "string_type": lambda ctx: "must be text",
    "uuid_parsing": lambda ctx: "not a valid id",
    "uuid_type": lambda ctx: "not a valid id",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidField)
    async def _invalid_field(request: Request, exc: InvalidField) -> Response:
        return await _validation(
            request,
            RequestValidationError(
                [{"loc": ("body", *exc.loc), "msg": exc.message, "type": "value_error"}]
            ),
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return problem(
            exc.status, exc.detail, request=request, title=exc.title, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        detail = f"{first['field'] or 'request'}: {first['message']}"
        return problem(422, detail, request=request, title="Invalid input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == FASTAPI_UNREADABLE_BODY:
            # A body that is not even text (not UTF-8) is invalid input like one that is not
            # JSON: the same 422, so a client handles one kind of answer.
            return await _validation(
                request,
                RequestValidationError(
                    [
                        {
                            "loc": ("body",),
                            "msg": "the body is not UTF-8 JSON",
                            "type": "body_unreadable",
                        }
                    ]
                ),
            )
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Every method of the path, not only those of the first route that matched it.
            headers = {
                **(headers or {}),
                "Allow": allowed_methods(request.app, request.scope["path"]),
            }
        return problem(exc.status_code, str(exc.detail), request=request, headers=headers)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> Response:
        if temporal_unreachable(exc):
            return _unavailable(request, "Temporal", exc)
        return await _unhandled(request, exc)

    @app.exception_handler(RuntimeError)
    async def _runtime(request: Request, exc: RuntimeError) -> Response:
        # The Temporal client connects lazily (the API starts before Temporal answers); its
        # failure to connect is a RuntimeError with this message.
        if str(exc).startswith("Failed client connect"):
            return _unavailable(request, "Temporal", exc)
        return await _unhandled(request, exc)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> Response:
        return _unavailable(request, "PostgreSQL", exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        # A value the database (or its driver) refuses as data (SQLSTATE class 22: out of range,
        # not valid text) came from the client: every input is bounded before it gets here, so
        # this is a missed bound, logged to be fixed, and still the client's 422, not a 500.
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if isinstance(exc, DataError) or sqlstate.startswith("22"):
            log.warning(
                "database refused a value on %s %s: %s", request.method, request.url.path, exc.orig
            )
            return problem(
                422,
                "a value is outside what can be stored (out of range, or not valid text)",
                request=request,
                title="Invalid input",
                errors=[],
            )
        return await _unhandled(request, exc)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal error; it has been logged", request=request)


_TEMPORAL_DOWN = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


def temporal_unreachable(exc: RPCError) -> bool:
    """Temporal could not be reached: down, too slow, or the connection broke during the call.
    A connection that breaks (the server restarting) comes as UNKNOWN "transport error" from
    the SDK's core (seen by `make chaos`), not as UNAVAILABLE. Each is the client's 503: calls
    are keyed by business ids, so trying again with the same Idempotency-Key is safe."""
    if exc.status in _TEMPORAL_DOWN:
        return True
    return exc.status == RPCStatusCode.UNKNOWN and "transport error" in exc.message


UNAVAILABLE_RETRY_AFTER_S = 5


def _unavailable(request: Request, part: str, exc: Exception) -> Response:
    log.warning("%s unreachable on %s %s: %s", part, request.method, request.url.path, exc)
    return problem(
        503,
        f"{part} cannot be reached right now; try again shortly",
        request=request,
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
    )
