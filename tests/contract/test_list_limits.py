"""Every list the API answers has a declared maximum, and keeps to it.

A paged list (`Page`: items, total, limit, offset) declares the most its `limit` may be, and a
larger one is a 422 naming `limit` (tests/contract/test_input_bounds.py sends every one past it).
A list answered whole declares `maxItems`, a bound its domain keeps: it refuses the item past it
(a user's addresses and payment methods, the catalog's categories) or lists only the newest (a
plan's versions). The document is walked, so a list route added later without a bound fails here.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import MAX_REQUEST_SLOTS
from domain.accounts.addresses import MAX_ADDRESSES
from domain.accounts.models import PaymentMethod
from domain.accounts.payment_methods import MAX_PAYMENT_METHODS, keep_provider_method
from domain.catalog.categories import MAX_CATEGORIES
from domain.catalog.models import PlanVersion, ServiceCategory
from domain.catalog.queries import MAX_VERSIONS_LISTED
from domain.payments import SavedMethod
from tests.conftest import bearer, count_rows, make_settings, register
from tests.support.catalog_helpers import add_categories, add_plan

PAGE_FIELDS = {"items", "total", "limit", "offset"}


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _lists(document: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, operation, what its 200 answer is) of every GET answering a list: an array, or a
    page of one."""
    found = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        content = (operation or {}).get("responses", {}).get("200", {}).get("content", {})
        if "application/json" not in content:
            continue
        answer = _resolve(content["application/json"]["schema"], document)
        is_page = set(answer.get("properties", {})) >= PAGE_FIELDS
        if answer.get("type") == "array" or is_page:
            found.append((path, operation, answer))
    return found


def test_every_list_route_declares_its_maximum(app: Any) -> None:
    document = app.openapi()
    lists = _lists(document)
    unbounded = []
    for path, operation, answer in lists:
        parameters = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        limit = parameters.get("limit", {}).get("schema", {})
        if answer.get("type") == "array":
            if not isinstance(answer.get("maxItems"), int) and "maximum" not in limit:
                unbounded.append(f"{path}: an array with neither maxItems nor a bounded limit")
        elif "maximum" not in limit or "maximum" not in parameters.get("offset", {}).get(
            "schema", {}
        ):
            unbounded.append(f"{path}: a page whose limit or offset has no maximum")
    assert not unbounded, "lists without a declared maximum:\n" + "\n".join(unbounded)
    # What the walk found (guards against a walk that finds nothing and passes).
    paths = {path for path, _, _ in lists}
    assert len(paths) >= 30
    assert {"/api/v1/orders", "/api/v1/me/addresses", "/api/v1/catalog/categories"} <= paths


def test_the_visit_windows_of_a_day_are_at_most_their_maximum() -> None:
    slot = "09:00-10:00"
    assert make_settings(request_slots=",".join([slot] * MAX_REQUEST_SLOTS))
    with pytest.raises(ValidationError, match="request_slots"):
        make_settings(request_slots=",".join([slot] * (MAX_REQUEST_SLOTS + 1)))


# --- what the domains keep ------------------------------------------------------------------------


async def test_a_user_keeps_at_most_their_maximum_of_addresses(api: httpx.AsyncClient) -> None:
    headers = bearer((await register(api, "many-homes@example.com"))["tokens"])
    address = {"line1": "12 MG Road", "city": "Pune", "postal_code": "411001", "country": "IN"}
    for _ in range(MAX_ADDRESSES):
        assert (await api.post("/me/addresses", json=address, headers=headers)).status_code == 201
    refused = await api.post("/me/addresses", json=address, headers=headers)
    assert refused.status_code == 409, refused.text
    assert f"at most {MAX_ADDRESSES} addresses" in refused.json()["detail"]
    assert len((await api.get("/me/addresses", headers=headers)).json()) == MAX_ADDRESSES


async def test_a_user_keeps_at_most_their_maximum_of_payment_methods(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    body = await register(api, "many-cards@example.com")
    headers = bearer(body["tokens"])
    for n in range(MAX_PAYMENT_METHODS):
        method = {"provider": "sandbox", "provider_method_id": f"pm_many_{n}", "kind": "card"}
        saved = await api.post("/me/payment-methods", json=method, headers=headers)
        assert saved.status_code == 201, saved.text
    one_more = {"provider": "sandbox", "provider_method_id": "pm_many_last", "kind": "card"}
    refused = await api.post("/me/payment-methods", json=one_more, headers=headers)
    assert refused.status_code == 409, refused.text
    assert f"at most {MAX_PAYMENT_METHODS} payment methods" in refused.json()["detail"]

    # A payment's method kept for renewals is skipped past the maximum, never failing the payment.
    user_id = uuid.UUID(body["user"]["id"])
    kept = await keep_provider_method(
        db,
        user_id=user_id,
        provider="sandbox",
        saved=SavedMethod(provider_customer_id=None, provider_method_id="pm_paid", kind="card"),
    )
    await db.commit()
    assert kept is None
    assert await count_rows(db, PaymentMethod, PaymentMethod.user_id == user_id) == (
        MAX_PAYMENT_METHODS
    )
    listed = (await api.get("/me/payment-methods", headers=headers)).json()
    assert len(listed) == MAX_PAYMENT_METHODS


async def test_the_catalog_holds_at_most_its_maximum_of_categories(
    api: httpx.AsyncClient, db: AsyncSession, admin_headers: dict[str, str]
) -> None:
    db.add_all(
        ServiceCategory(slug=f"trade-{n}", name=f"Trade {n}", display_order=n)
        for n in range(MAX_CATEGORIES)
    )
    await db.commit()
    refused = await api.post(
        "/admin/catalog/categories",
        json={"slug": "one-more", "name": "One more"},
        headers=admin_headers,
    )
    assert refused.status_code == 409, refused.text
    assert f"at most {MAX_CATEGORIES} categories" in refused.json()["detail"]
    admin_list = await api.get("/admin/catalog/categories", headers=admin_headers)
    assert admin_list.status_code == 200 and len(admin_list.json()) == MAX_CATEGORIES
    public = await api.get("/catalog/categories")
    assert public.status_code == 200 and len(public.json()) == MAX_CATEGORIES


async def test_a_plans_versions_are_listed_newest_first_up_to_the_maximum(
    api: httpx.AsyncClient, db: AsyncSession, admin_headers: dict[str, str]
) -> None:
    await add_categories(api, admin_headers, "plumbing", "electrical")
    plan_id = uuid.UUID((await add_plan(api, admin_headers, "long-lived"))["id"])
    # Its history, as many edits of a sold plan would leave it: more versions than are listed.
    first = (
        await db.execute(select(PlanVersion).where(PlanVersion.plan_id == plan_id))
    ).scalar_one()
    copied = {
        column.key: getattr(first, column.key)
        for column in PlanVersion.__table__.columns
        if column.key not in ("id", "number", "created_at")
    }
    extra = MAX_VERSIONS_LISTED + 5
    db.add_all(PlanVersion(**copied, number=first.number + n) for n in range(1, extra + 1))
    await db.commit()
    newest = (
        await db.execute(select(func.max(PlanVersion.number)).where(PlanVersion.plan_id == plan_id))
    ).scalar_one()
    await db.commit()

    listed = await api.get(f"/admin/catalog/plans/{plan_id}/versions", headers=admin_headers)
    assert listed.status_code == 200, listed.text
    numbers = [version["number"] for version in listed.json()]
    assert numbers == list(range(newest, newest - MAX_VERSIONS_LISTED, -1))
