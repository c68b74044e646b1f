"""The errors every operation can answer, declared once in the OpenAPI document.

Every error the API answers is `application/problem+json` (RFC 9457, see `api.errors`). This
module says so in the document, so a client generated from it (the admin UI's, the mobile app's)
types its errors:

- `Problem` and `ValidationProblem` (a 422 with `errors`, one entry per field) are the schemas;
- an operation's statuses come from what it depends on, declared where the dependency is
  defined with `@answers(...)` (signing in: 401; a role: 403; the database or Temporal: 503;
  any parameter or body: 422; a body, in the types it declares: 415, see `api.boundary`; a body
  past its size: 413, and any request past its time: 503, see `api.limits`), plus
  the ones its route lists with `responses=problems(404, 409)` for what only its own logic refuses;
- `install(app)` writes them into the document, with the problem+json content and the headers
  (`Retry-After` on 429, `WWW-Authenticate` on 401, `Accept` on 415), replacing FastAPI's default
  422; a status the route declares with its own `content` keeps it;
- a route a person opens in a browser (the unsubscribe link in an email) is marked with
  `@error_pages(render)`: a client that prefers HTML gets each error as a page (`api.errors`),
  so every error status but 422 is declared as a page too (a person is shown no field errors:
  their invalid input is a 400 page).

`tests/contract/test_openapi_contract.py` drives every operation with schemathesis and fails on
any status or content type the document does not declare.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from api import declared_rules
from api.boundary import ACCEPT_FOR_METHOD, body_types

PROBLEM_JSON = "application/problem+json"
HTML = "text/html"

F = TypeVar("F", bound=Callable[..., Any])
# A route's page for an error: (status, detail) -> the page; the detail is None for invalid input
# (a 400 page), whose field errors mean nothing to a person.
ErrorPage = Callable[[int, str | None], HTMLResponse]


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field(default="about:blank", description="A URI naming the kind of problem")
    title: str = Field(description="A short summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong here, and what to do about it")
    instance: str | None = Field(default=None, description="The path that answered")


class FieldProblem(BaseModel):
    field: str = Field(description="The field, dotted (`items.0.plan_id`); empty for the body")
    in_: str | None = Field(alias="in", description="body, query, path or header")
    message: str
    type: str | None = None


class ValidationProblem(Problem):
    errors: list[FieldProblem]


DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be carried out as sent; the detail says why",
    401: "Not signed in: the access token (or the credentials) is missing, expired or wrong",
    403: "Signed in, but this needs another role",
    404: "No such thing here, or it is not yours",
    409: "What it refers to is in a state that does not allow this; the detail says what does",
    410: "It existed but is gone for good",
    413: "The body is larger than this operation accepts",
    415: "The body is of a type this operation does not take; `Accept` names the ones it does",
    422: "Invalid input: `errors` names each field and what is wrong with it",
    429: "Too many attempts; `Retry-After` says how many seconds to wait",
    503: "A part of the system (PostgreSQL, Temporal) cannot be reached, or the request took "
    "longer than the API allows; try again shortly",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    415: {
        "Accept": {
            "description": "The media types this operation takes its body in",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer"},
        }
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The statuses a route's own logic may answer, for its `responses=`; `install` adds the
    problem+json content. A route may also give a status its own description."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def answers(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency with the error statuses it may answer: every operation that depends on
    it, however indirectly, declares them."""

    def mark(dependency: F) -> F:
        dependency.__problem_statuses__ = statuses  # type: ignore[attr-defined]
        return dependency

    return mark


def error_pages(render: ErrorPage) -> Callable[[F], F]:
    """Mark a route a person opens in a browser: to a client that prefers HTML, its errors are
    pages from `render` (`api.errors`), and the document declares them."""

    def mark(endpoint: F) -> F:
        endpoint.__error_page__ = render  # type: ignore[attr-defined]
        return endpoint

    return mark


def error_page(route: Any) -> ErrorPage | None:
    """The page `route` answers its errors with to a person, if it was marked `error_pages`."""
    return getattr(getattr(route, "endpoint", None), "__error_page__", None)


def operation_statuses(route: APIRoute | RouteContext) -> set[int]:
    """Every error status `route` may answer."""
    statuses = {int(code) for code in route.responses if str(code).isdigit() and int(code) >= 400}
    statuses |= set(_dependency_statuses(route.dependant))
    if _takes_input(route.dependant):
        statuses.add(422)
    if body_types(route):
        statuses |= {413, 415}  # every body is bounded (api.limits)
    statuses.add(503)  # any request may run out of time (api.limits)
    return statuses


def _takes_input(dependant: Dependant) -> bool:
    own = (
        dependant.path_params,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
    )
    return any(own) or any(_takes_input(sub) for sub in dependant.dependencies)


def _dependency_statuses(dependant: Dependant) -> Iterable[int]:
    yield from getattr(dependant.call, "__problem_statuses__", ())
    for sub in dependant.dependencies:
        yield from _dependency_statuses(sub)


def install(app: FastAPI) -> None:
    """Make `app.openapi()` declare each operation's problem responses."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        _declare(app, schema)
        declared_rules.declare(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, ValidationProblem):
        generated = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}"
        )
        components.update(generated.pop("$defs", {}))
        components[model.__name__] = generated
    # FastAPI 0.16x keeps included routers as branches; the contexts are the routes as served,
    # with the app's and routers' dependencies and responses merged in.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        statuses = operation_statuses(route)
        pages = error_page(route) is not None
        for method in route.methods or ():
            operation = schema["paths"][route.path_format].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                entry = responses.setdefault(str(status), {})
                if entry.get("description") in (None, "", "Validation Error"):  # FastAPI's
                    entry["description"] = DESCRIPTIONS[status]
                name = "ValidationProblem" if status == 422 else "Problem"
                own = route.responses.get(status) or route.responses.get(str(status)) or {}
                if "content" in own:  # the route answers this one itself (a page for a person)
                    continue
                entry["content"] = {
                    PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}
                }
                if pages and status != 422:
                    entry["content"][HTML] = {"schema": {"type": "string"}}
                if status in _HEADERS:
                    entry["headers"] = dict(_HEADERS[status])
                if status == 415 and method in ACCEPT_FOR_METHOD:
                    entry["headers"][ACCEPT_FOR_METHOD[method]] = {
                        "description": f"The media types a {method} here takes its body in",
                        "schema": {"type": "string"},
                    }
    # FastAPI's own 422 schemas were replaced everywhere above: drop them unless still used.
    text = json.dumps(schema["paths"])
    if '/HTTPValidationError"' not in text:
        components.pop("HTTPValidationError", None)
        if '/ValidationError"' not in text + json.dumps(components):
            components.pop("ValidationError", None)
