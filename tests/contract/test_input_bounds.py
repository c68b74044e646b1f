"""Input PostgreSQL would refuse never reaches it: a NUL character in any text and a page offset
past the bounds are 422s that name the field (they were 500s with a dropped connection).

The sweeps are built from the OpenAPI document, so a route added later is covered too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.pagination import MAX_OFFSET
from domain.accounts.models import User
from tests.conftest import PASSWORD, count_rows

NUL = "\x00"
HUGE = "23442956612845256704"  # past PostgreSQL's bigint


def _nul_error(response: httpx.Response, field: str, where: str) -> None:
    assert response.status_code == 422, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), where
    errors = response.json()["errors"]
    assert any(e["field"] == field and "NUL" in e["message"] for e in errors), (where, errors)


# --- the places the outside run found ------------------------------------------------------------


async def test_nul_in_sign_up_and_sign_in_is_refused_naming_the_field(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await api.post(
        "/auth/register",
        json={"email": "nul@example.com", "password": PASSWORD, "name": f"A{NUL}B"},
    )
    _nul_error(response, "name", "register name")
    assert await _users(db) == 0  # nothing was created

    response = await api.post("/auth/login", json={"identifier": f"a{NUL}@x.com", "password": "x"})
    _nul_error(response, "identifier", "login identifier")


async def test_nul_in_the_profile_and_addresses_is_refused(
    api: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await api.patch("/me", json={"name": f"Asha{NUL}"}, headers=admin_headers)
    _nul_error(response, "name", "PATCH /me")
    address = {"line1": f"12{NUL}", "city": "Pune", "postal_code": f"41{NUL}01", "country": "IN"}
    response = await api.post("/me/addresses", json=address, headers=admin_headers)
    _nul_error(response, "line1", "address line1")
    _nul_error(response, "postal_code", "address postal_code")
    assert (await api.get("/me", headers=admin_headers)).json()["name"] == "Test User"


async def test_nul_in_catalog_query_and_path_is_refused(api: httpx.AsyncClient) -> None:
    _nul_error(await api.get("/catalog/plans", params={"category": NUL}), "category", "?category")
    _nul_error(await api.get("/catalog/plans/%00"), "plan", "/plans/{plan}")
    # A parameter the route does not read is ignored, NUL or not, as any unknown parameter is.
    assert (await api.get("/catalog/categories", params={"junk": NUL})).status_code == 200


async def test_nul_deep_in_a_json_body_is_named_by_its_path(
    api: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = {"slug": "x", "name": "X", "inclusions": [{"title": "ok"}, {"title": f"b{NUL}d"}]}
    response = await api.post("/admin/catalog/plans", json=body, headers=admin_headers)
    _nul_error(response, "inclusions.1.title", "nested body field")


# --- every route --------------------------------------------------------------------------------


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    document = app.openapi()
    ops = []
    for path, item in document["paths"].items():
        if path.startswith("/api/v1/"):
            for method, op in item.items():
                ops.append((method.upper(), path.removeprefix("/api/v1"), op, document))
    return ops


def _body_schema(op: dict[str, Any], document: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _is_text(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("type") == "string" and "enum" not in option for option in options)


def _fill(path: str, op: dict[str, Any], nul_in: str | None = None) -> str:
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = "%00" if param["name"] == nul_in else "00000000-0000-4000-8000-000000000000"
            if param.get("schema", {}).get("$ref") and param["name"] != nul_in:
                value = "email"
            path = path.replace("{" + param["name"] + "}", value)
    return path


async def test_nul_in_any_text_field_of_any_body_is_a_422_naming_it(
    app: Any, api: httpx.AsyncClient, headers_for: Callable[[str], dict[str, str]]
) -> None:
    checked = 0
    for method, path, op, document in _operations(app):
        schema = _body_schema(op, document)
        if schema is None:
            continue
        for name, prop in schema.get("properties", {}).items():
            if not _is_text(prop):
                continue
            response = await api.request(
                method, _fill(path, op), json={name: f"x{NUL}y"}, headers=headers_for(path)
            )
            _nul_error(response, name, f"{method} {path} body.{name}")
            checked += 1
    assert checked >= 30


async def test_nul_in_any_text_parameter_of_any_route_is_a_422_naming_it(
    app: Any, api: httpx.AsyncClient, headers_for: Callable[[str], dict[str, str]]
) -> None:
    checked = 0
    for method, path, op, _document in _operations(app):
        for param in op.get("parameters", []):
            if param["in"] not in ("path", "query") or not _is_text(param.get("schema", {})):
                continue
            if param["in"] == "path":
                url, params = _fill(path, op, nul_in=param["name"]), None
            else:
                url, params = _fill(path, op), {param["name"]: NUL}
            # An empty JSON body where one is taken; none for a form or a file (a JSON one would
            # be refused for its type first).
            takes_json = "application/json" in op.get("requestBody", {}).get("content", {})
            body: dict[str, Any] | None = {} if takes_json else None
            # As an API client asks: the unsubscribe link answers a browser with pages.
            headers = {**headers_for(path), "accept": "application/json"}
            response = await api.request(method, url, params=params, json=body, headers=headers)
            _nul_error(response, param["name"], f"{method} {path} {param['in']}.{param['name']}")
            checked += 1
    assert checked >= 5


async def test_every_list_bounds_its_offset_and_limit_with_the_bound_named(
    app: Any,
    api: httpx.AsyncClient,
    headers_for: Callable[[str], dict[str, str]],
    admin_headers: dict[str, str],
) -> None:
    # A list of one user's things (their call log) is read for a user who exists: its bounds are
    # checked here, not the 404 of a missing user.
    user_id = (await api.get("/me", headers=admin_headers)).json()["id"]
    lists = [
        (method, path, op)
        for method, path, op, _ in _operations(app)
        if any(p["name"] == "offset" for p in op.get("parameters", []))
    ]
    assert {"/orders", "/catalog/plans", "/admin/catalog/plans", "/admin/users"} <= {
        path for _, path, _ in lists
    }
    for method, path, op in lists:
        where = f"{method} {path}"
        url = _fill(path.replace("{user_id}", user_id), op)
        for params, bound in (({"offset": HUGE}, f"{MAX_OFFSET}"), ({"limit": HUGE}, "")):
            response = await api.request(method, url, params=params, headers=headers_for(path))
            assert response.status_code == 422, f"{where} {params}: {response.text}"
            error = response.json()["errors"][0]
            assert error["field"] == next(iter(params)), where
            assert bound in error["message"], (where, error)
        at_bound = await api.request(
            method, url, params={"offset": MAX_OFFSET}, headers=headers_for(path)
        )
        assert at_bound.status_code == 200, f"{where}: {at_bound.text}"
        assert at_bound.json()["items"] == []


async def _users(db: AsyncSession) -> int:
    return await count_rows(db, User)
