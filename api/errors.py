"""Errors as problem+json (RFC 9457), with field-level detail for invalid input."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError, InvalidField

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("homeplans.api")


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        errors.append(
            {
                "field": ".".join(loc[1:])
                if loc and loc[0] in ("body", "query", "path", "header")
                else ".".join(loc),
                "in": loc[0] if loc else None,
                "message": err.get("msg", "invalid"),
                "type": err.get("type"),
            }
        )
    return errors


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidField)
    async def _invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
        return await _validation(
            request,
            RequestValidationError(
                [{"loc": ("body", *exc.loc), "msg": exc.message, "type": "value_error"}]
            ),
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(
            exc.status, exc.detail, request=request, title=exc.title, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        first = errors[0] if errors else {"field": "", "message": "invalid input"}
        detail = f"{first['field'] or 'request'}: {first['message']}"
        return problem(422, detail, request=request, title="Invalid input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code, str(exc.detail), request=request, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal error; it has been logged", request=request)
