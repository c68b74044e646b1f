"""Every catalog input rule answers 422 naming the field and the reason, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog.models import Plan
from tests.support.catalog_helpers import add_categories, add_plan, make_admin, plan_body, price


def _field_error(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    error = problem["errors"][0]
    assert problem["detail"].startswith(error["field"]), problem
    return error["field"], error["message"]


@pytest.fixture
async def admin(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    headers = await make_admin(api, db)
    await add_categories(api, headers, "plumbing", "electrical", "carpentry")
    return headers


def _with_price(**changes: Any) -> dict[str, Any]:
    return {**price(299900), **changes}


CREATE_CASES = [
    pytest.param(
        {"price": _with_price(amount_minor=-1)}, "price.amount_minor", "must be 0 or more", id="neg"
    ),
    pytest.param(
        {"price": _with_price(amount_minor=12.5)}, "price.amount_minor", "whole number", id="frac"
    ),
    pytest.param({"price": _with_price(currency="ABC")}, "price.currency", "ISO 4217", id="ccy"),
    pytest.param({"price": _with_price(currency="XAU")}, "price.currency", "minor unit", id="gold"),
    pytest.param(
        {"price": _with_price(tax_rate_bps=10001)},
        "price.tax_rate_bps",
        "must be 10000 or less",
        id="tax",
    ),
    pytest.param({"validity_days": 0}, "validity_days", "must be 1 or more", id="validity-0"),
    pytest.param({"validity_days": 3651}, "validity_days", "3650 or less", id="validity-3651"),
    pytest.param({"visit_cap": 0}, "visit_cap", "must be 1 or more", id="cap-0"),
    pytest.param({"price": _with_price(amount_minor=0)}, "price.amount_minor", "free", id="free"),
    pytest.param({"categories": []}, "categories", "at least 1", id="no-categories"),
    pytest.param({"categories": ["plumbing", "plumbing"]}, "categories", "twice", id="dup-cat"),
    pytest.param({"categories": ["plumbing", "roofing"]}, "categories.1", "roofing", id="unknown"),
    pytest.param({"slug": "Not a slug!"}, "slug", "lowercase letters and digits", id="slug"),
    pytest.param({"colour": "blue"}, "colour", "not permitted", id="extra"),
    pytest.param(
        {"price": _with_price(discount_minor=100)}, "price.discount_minor", "not permitted", id="x2"
    ),
    pytest.param(
        {"inclusions": [{"category": "plumbing", "visits": 1, "free_coffee": True}]},
        "inclusions.0.free_coffee",
        "not permitted",
        id="extra-inclusion",
    ),
    pytest.param(
        {
            "inclusions": [
                {"category": "plumbing", "visits": 1},
                {"category": "carpentry", "visits": 1},
            ]
        },
        "inclusions.1.category",
        "does not cover",
        id="uncovered",
    ),
    pytest.param(
        {"inclusions": [{"category": "plumbing", "visits": 5}]},
        "inclusions.0.visits",
        "more than",
        id="visits-over-cap",
    ),
    pytest.param(
        {"inclusions": [{"category": "plumbing", "visits": 1, "parts_cap_minor": 100}]},
        "inclusions.0.parts_cap_minor",
        "parts_covered",
        id="cap-no-parts",
    ),
    pytest.param(
        {"inclusions": [{"category": "plumbing", "visits": 1}] * 2},
        "inclusions",
        "twice",
        id="dup-inclusion",
    ),
]


@pytest.mark.parametrize(("changes", "field", "reason"), CREATE_CASES)
async def test_invalid_plan_is_422_naming_the_field(
    api: httpx.AsyncClient,
    db: AsyncSession,
    admin: dict[str, str],
    changes: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    response = await api.post("/admin/catalog/plans", json=plan_body(**changes), headers=admin)

    assert _field_error(response)[0] == field
    assert reason in _field_error(response)[1]
    assert (await db.execute(select(func.count()).select_from(Plan))).scalar_one() == 0


@pytest.mark.parametrize("days", [1, 3650])
async def test_validity_at_the_bounds_is_accepted(
    api: httpx.AsyncClient, admin: dict[str, str], days: int
) -> None:
    plan = await add_plan(api, admin, f"days-{days}", validity_days=days)
    assert plan["current_version"]["validity_days"] == days


async def test_currency_code_is_normalised_and_minor_units_follow_it(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plan = await add_plan(api, admin, "yen", price=_with_price(currency="jpy", amount_minor=3000))
    assert plan["current_version"]["price"]["currency"] == "JPY"
    assert plan["current_version"]["price"]["minor_units"] == 0


UPDATE_CASES = [
    pytest.param({"price": _with_price(amount_minor=-5)}, "price.amount_minor", id="neg"),
    pytest.param({"price": _with_price(currency="ZZZ")}, "price.currency", id="ccy"),
    pytest.param({"validity_days": 4000}, "validity_days", id="validity"),
    pytest.param({"name": None}, "name", id="null"),
    pytest.param({"sku": "x"}, "sku", id="extra"),
    # The plan covers plumbing + electrical with inclusions for both; dropping one of them.
    pytest.param({"categories": ["plumbing"]}, "categories", id="drop-included"),
    pytest.param(
        {"inclusions": [{"category": "carpentry", "visits": 1}]},
        "inclusions.0.category",
        id="uncovered",
    ),
    pytest.param({"visit_cap": 1}, "visit_cap", id="cap-below-inclusions"),
]


@pytest.mark.parametrize(("changes", "field"), UPDATE_CASES)
async def test_invalid_plan_edit_is_422_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, admin: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    plan = await add_plan(api, admin, "home-care")
    url = f"/admin/catalog/plans/{plan['id']}"

    response = await api.patch(url, json=changes, headers=admin)

    assert _field_error(response)[0] == field
    assert (await api.get(url, headers=admin)).json()["current_version"] == plan["current_version"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "roofing", "name": "Roofing", "colour": "red"}, "colour"),
        ({"slug": "roofing", "name": ""}, "name"),
        ({"slug": "-bad-", "name": "Roofing"}, "slug"),
        ({"slug": "roofing", "name": "Roofing", "display_order": 1}, "display_order"),
    ],
)
async def test_invalid_category_is_422_naming_the_field(
    api: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await api.post("/admin/catalog/categories", json=body, headers=admin)
    assert _field_error(response)[0] == field


async def test_reorder_with_an_unknown_id_is_422_naming_it(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plan = await add_plan(api, admin, "home-care")
    unknown = "00000000-0000-4000-8000-000000000000"

    response = await api.post(
        "/admin/catalog/plans/reorder", json={"ids": [plan["id"], unknown]}, headers=admin
    )
    twice = await api.post(
        "/admin/catalog/plans/reorder", json={"ids": [plan["id"], plan["id"]]}, headers=admin
    )

    assert _field_error(response) == ("ids.1", f"no such id: {unknown}")
    assert _field_error(twice)[0] == "ids"
