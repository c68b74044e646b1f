"""Every route under `/admin` (found in the OpenAPI document, so a route added later is walked
too) refuses a caller who is not signed in (401) and a signed-in customer (403), before it reads
a path parameter or a body: a customer never learns whether an id exists. (Support's reach,
admin-only routes refused to support, is checked screen by screen in
tests/admin/test_admin_ui.py and route by route where each is built.)"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.conftest import bearer, register


def _admin_routes(app: Any) -> list[tuple[str, str]]:
    routes = []
    for path, item in app.openapi()["paths"].items():
        if path.startswith("/api/v1/admin/"):
            for method in item:
                routes.append((method.upper(), path.removeprefix("/api/v1")))
    return sorted(routes)


def _filled(template: str) -> str:
    """The template with a well-formed id in every parameter."""
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)


async def test_every_admin_route_refuses_strangers_and_customers(
    app: Any, api: httpx.AsyncClient
) -> None:
    customer = bearer((await register(api, f"nosy-{uuid.uuid4().hex[:8]}@example.com"))["tokens"])
    routes = _admin_routes(app)
    assert len(routes) > 60, routes  # the walk found the admin API, not an empty document
    wrong = []
    for method, template in routes:
        path = _filled(template)
        stranger = await api.request(method, path, json={})
        as_customer = await api.request(method, path, json={}, headers=customer)
        if (stranger.status_code, as_customer.status_code) != (401, 403):
            wrong.append((method, template, stranger.status_code, as_customer.status_code))
    assert wrong == []
