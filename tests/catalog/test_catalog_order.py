"""The catalog as an admin shapes it: each plan and category has a place (new ones go last; a move
passes the next item of its kind, audited; the public catalog follows; archived plans and hidden
categories sit last in the admin's lists, or behind a filter); a draft's terms are edited in
place and versions begin at publication; a price of 0 is saved only when confirmed; out-of-range
numbers are refused at their field in words a person reads; and the admin's outputs say what a
risky change touches (customers holding a plan, plans on sale covering a category)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit.models import AuditEntry
from tests.support.catalog_helpers import (
    add_active_plan,
    add_categories,
    add_category,
    add_plan,
    make_admin,
    plan_body,
    price,
    publish,
)
from tests.support.subscription_helpers import buy_plan

PLANS = "/admin/catalog/plans"
CATEGORIES = "/admin/catalog/categories"


@pytest.fixture
async def admin(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    headers = await make_admin(api, db)
    await add_categories(api, headers, "plumbing", "electrical", "carpentry")
    return headers


async def _entries(db: AsyncSession, entity_id: str, action: str) -> list[AuditEntry]:
    rows = await db.execute(
        select(AuditEntry)
        .where(AuditEntry.entity_id == entity_id, AuditEntry.action == action)
        .order_by(AuditEntry.at)
    )
    return list(rows.scalars().all())


async def _public_plans(api: httpx.AsyncClient) -> list[str]:
    return [p["slug"] for p in (await api.get("/catalog/plans")).json()["items"]]


async def _admin_plans(api: httpx.AsyncClient, admin: dict[str, str], **query: str) -> list[str]:
    listed = (await api.get(PLANS, params=query, headers=admin)).json()
    return [p["slug"] for p in listed["items"]]


async def _move(
    api: httpx.AsyncClient, admin: dict[str, str], url: str, direction: str
) -> dict[str, Any]:
    response = await api.post(f"{url}/move", json={"direction": direction}, headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- versions begin at publication ------------------------------------------------------------


async def test_a_draft_is_edited_in_place_and_versions_begin_at_publication(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plan = await add_plan(api, admin, "home-care")
    url = f"{PLANS}/{plan['id']}"
    draft = plan["current_version"]
    assert (draft["number"], draft["published_at"]) == (1, None)

    first = (await api.patch(url, json={"price": price(349900)}, headers=admin)).json()
    second = (
        await api.patch(
            url,
            json={"name": "Home Care Plus", "categories": ["plumbing", "electrical", "carpentry"]},
            headers=admin,
        )
    ).json()

    # Still version 1, the same row: nobody has seen these terms yet.
    for edited in (first, second):
        assert edited["current_version"]["id"] == draft["id"]
        assert edited["current_version"]["number"] == 1
    terms = second["current_version"]
    assert (terms["name"], terms["price"]["amount_minor"]) == ("Home Care Plus", 349900)
    assert [c["slug"] for c in terms["categories"]] == ["plumbing", "electrical", "carpentry"]
    versions = (await api.get(f"{url}/versions", headers=admin)).json()
    assert [(v["number"], v["published_at"]) for v in versions] == [(1, None)]

    published = await publish(api, admin, plan["id"])
    assert published["current_version"]["id"] == draft["id"]
    assert published["current_version"]["published_at"] is not None
    after = (await api.patch(url, json={"visit_cap": 6}, headers=admin)).json()

    # Published terms are kept; the edit is version 2, and the panel lists both.
    assert after["current_version"]["number"] == 2
    versions = (await api.get(f"{url}/versions", headers=admin)).json()
    assert [(v["number"], v["visit_cap"]) for v in versions] == [(2, 6), (1, 4)]
    assert all(v["published_at"] is not None for v in versions)


async def test_an_archived_plans_edit_is_a_draft_until_it_is_published_again(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plan = await add_active_plan(api, admin, "home-care")
    url = f"{PLANS}/{plan['id']}"
    await api.post(f"{url}/archive", headers=admin)

    edited = (await api.patch(url, json={"price": price(199900)}, headers=admin)).json()
    again = (await api.patch(url, json={"price": price(189900)}, headers=admin)).json()

    assert edited["current_version"]["number"] == 2
    assert edited["current_version"]["published_at"] is None
    assert again["current_version"]["id"] == edited["current_version"]["id"]
    republished = await publish(api, admin, plan["id"])
    assert republished["current_version"]["published_at"] is not None
    versions = (await api.get(f"{url}/versions", headers=admin)).json()
    assert [(v["number"], v["price"]["amount_minor"]) for v in versions] == [
        (2, 189900),
        (1, 299900),
    ]


async def test_the_database_keeps_published_terms_and_lets_a_draft_change(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    draft = (await add_plan(api, admin, "draft-one"))["current_version"]["id"]
    live = (await add_active_plan(api, admin, "live-one"))["current_version"]["id"]
    category = (await api.get(CATEGORIES, headers=admin)).json()[2]["id"]

    for statement in (
        "UPDATE plan_versions SET price_minor = 1 WHERE id = :id",
        "UPDATE plan_versions SET published_at = now() - interval '1 day' WHERE id = :id",
        "INSERT INTO plan_version_categories VALUES (:id, :category)",
    ):
        with pytest.raises(DBAPIError, match=r"immutable|published"):
            await db.execute(text(statement), {"id": live, "category": category})
        await db.rollback()

    await db.execute(text("UPDATE plan_versions SET price_minor = 1 WHERE id = :id"), {"id": draft})
    await db.rollback()


# --- places in the catalog ------------------------------------------------------------------------


async def test_new_plans_and_categories_go_last_in_the_public_catalog(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await add_active_plan(api, admin, "first")
    await add_active_plan(api, admin, "second")
    newest = await add_active_plan(api, admin, "newest")
    await add_category(api, admin, "painting")

    assert await _public_plans(api) == ["first", "second", "newest"]
    assert newest["position"] == 3
    public = (await api.get("/catalog/categories")).json()
    assert [(c["slug"], c["position"]) for c in public] == [
        ("plumbing", 1),
        ("electrical", 2),
        ("carpentry", 3),
        ("painting", 4),
    ]


async def test_moving_a_plan_changes_the_public_order_and_is_audited(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    a = await add_active_plan(api, admin, "plan-a")
    b = await add_active_plan(api, admin, "plan-b")
    c = await add_active_plan(api, admin, "plan-c")

    moved = await _move(api, admin, f"{PLANS}/{c['id']}", "up")

    assert moved["position"] == 2
    assert await _public_plans(api) == ["plan-a", "plan-c", "plan-b"]
    assert await _admin_plans(api, admin) == ["plan-a", "plan-c", "plan-b"]
    [entry] = await _entries(db, c["id"], "plan.move")
    assert (entry.before, entry.after) == ({"position": 3}, {"position": 2})
    [passed] = await _entries(db, b["id"], "plan.move")
    assert (passed.before, passed.after) == ({"position": 2}, {"position": 3})

    # Already first: nothing changes, nothing is logged.
    unmoved = await _move(api, admin, f"{PLANS}/{a['id']}", "up")
    assert unmoved["position"] == 1
    assert await _entries(db, a["id"], "plan.move") == []
    await _move(api, admin, f"{PLANS}/{a['id']}", "down")
    assert await _public_plans(api) == ["plan-c", "plan-a", "plan-b"]


async def test_a_move_passes_the_next_plan_of_the_same_status(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await add_active_plan(api, admin, "on-sale-a")
    await add_plan(api, admin, "a-draft")
    b = await add_active_plan(api, admin, "on-sale-b")

    await _move(api, admin, f"{PLANS}/{b['id']}", "up")

    assert await _public_plans(api) == ["on-sale-b", "on-sale-a"]
    assert await _admin_plans(api, admin) == ["on-sale-b", "on-sale-a", "a-draft"]


async def test_archived_plans_and_hidden_categories_sit_last_or_behind_a_filter(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    old = await add_active_plan(api, admin, "old-plan")
    await add_active_plan(api, admin, "kept-plan")
    await add_plan(api, admin, "new-draft")
    await api.post(f"{PLANS}/{old['id']}/archive", headers=admin)
    plumbing = (await api.get(CATEGORIES, headers=admin)).json()[0]
    await api.post(f"{CATEGORIES}/{plumbing['id']}/deactivate", headers=admin)

    assert await _admin_plans(api, admin) == ["kept-plan", "new-draft", "old-plan"]
    assert await _admin_plans(api, admin, status="archived") == ["old-plan"]
    listed = (await api.get(CATEGORIES, headers=admin)).json()
    assert [(c["slug"], c["is_active"]) for c in listed] == [
        ("electrical", True),
        ("carpentry", True),
        ("plumbing", False),
    ]
    hidden = (await api.get(CATEGORIES, params={"shown": "false"}, headers=admin)).json()
    shown = (await api.get(CATEGORIES, params={"shown": "true"}, headers=admin)).json()
    assert [c["slug"] for c in hidden] == ["plumbing"]
    assert [c["slug"] for c in shown] == ["electrical", "carpentry"]


async def test_moving_a_category_changes_the_public_order_and_is_audited(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    carpentry = (await api.get(CATEGORIES, headers=admin)).json()[2]

    moved = await _move(api, admin, f"{CATEGORIES}/{carpentry['id']}", "up")

    assert moved["position"] == 2
    public = [c["slug"] for c in (await api.get("/catalog/categories")).json()]
    assert public == ["plumbing", "carpentry", "electrical"]
    [entry] = await _entries(db, carpentry["id"], "category.move")
    assert (entry.before, entry.after) == ({"position": 3}, {"position": 2})


async def test_a_move_of_nothing_is_404_and_a_bad_direction_is_refused_at_its_field(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    plan = await add_plan(api, admin, "home-care")
    missing = "00000000-0000-4000-8000-000000000000"

    gone = await api.post(f"{PLANS}/{missing}/move", json={"direction": "up"}, headers=admin)
    sideways = await api.post(
        f"{PLANS}/{plan['id']}/move", json={"direction": "left"}, headers=admin
    )

    assert gone.status_code == 404
    assert sideways.status_code == 422
    assert sideways.json()["errors"][0]["field"] == "direction"


# --- a price of 0 is deliberate -------------------------------------------------------------------


async def test_a_free_plan_needs_confirm_free_at_create_and_at_edit(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    free = plan_body("free-check", price=price(0))

    refused = await api.post(PLANS, json=free, headers=admin)

    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "price.amount_minor"
    assert "customers get it free" in error["message"] and "confirm" in error["message"]
    assert await _admin_plans(api, admin) == []

    created = await api.post(PLANS, json={**free, "confirm_free": True}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["current_version"]["price"]["total_minor"] == 0

    paid = await add_plan(api, admin, "paid-plan")
    url = f"{PLANS}/{paid['id']}"
    to_zero = await api.patch(url, json={"price": price(0)}, headers=admin)
    assert to_zero.status_code == 422
    assert to_zero.json()["errors"][0]["field"] == "price.amount_minor"
    confirmed = await api.patch(url, json={"price": price(0), "confirm_free": True}, headers=admin)
    assert confirmed.json()["current_version"]["price"]["amount_minor"] == 0
    # An edit that leaves the free price alone needs no confirmation again.
    renamed = await api.patch(url, json={"name": "Free Check-up"}, headers=admin)
    assert renamed.status_code == 200, renamed.text


# --- numbers out of range: refused at the field, never corrected --------------------------------

BOUNDS = [
    pytest.param({"price": price(-100)}, "price.amount_minor", "must be 0 or more", id="price"),
    pytest.param({"validity_days": 0}, "validity_days", "must be 1 or more", id="validity-0"),
    pytest.param({"validity_days": -5}, "validity_days", "must be 1 or more", id="validity-neg"),
    pytest.param({"visit_cap": 0}, "visit_cap", "must be 1 or more", id="visits-0"),
    pytest.param({"visit_cap": -1}, "visit_cap", "must be 1 or more", id="visits-neg"),
    pytest.param(
        {
            "inclusions": [
                {"category": "plumbing", "visits": 1},
                {"category": "electrical", "visits": -1},
            ]
        },
        "inclusions.1.visits",
        "must be 0 or more",
        id="line-2-visits",
    ),
    pytest.param(
        {"price": {**price(100), "tax_rate_bps": -1}},
        "price.tax_rate_bps",
        "must be 0 or more",
        id="tax",
    ),
    pytest.param({"name": ""}, "name", "required: at least 1 character", id="name"),
    pytest.param({"slug": "a"}, "slug", "too short: at least 2 characters", id="slug"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BOUNDS)
async def test_an_out_of_range_edit_is_refused_at_its_field_and_nothing_changes(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    plan = await add_plan(api, admin, "home-care")
    url = f"{PLANS}/{plan['id']}"

    refused = await api.patch(url, json=changes, headers=admin)

    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert [(e["field"], e["message"]) for e in errors] == [(field, message)]
    assert refused.json()["detail"] == f"{field}: {message}"
    assert (await api.get(url, headers=admin)).json() == plan


# --- what a risky change touches ------------------------------------------------------------------


async def test_admin_outputs_count_holders_of_a_plan_and_plans_covering_a_category(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    bought = await buy_plan(api, db, admin=admin)
    await add_active_plan(api, admin, "electrical-only", categories=["electrical"], inclusions=[])
    await add_plan(api, admin, "draft-electrical", categories=["electrical"], inclusions=[])

    held = (await api.get(f"{PLANS}/{bought.plan['id']}", headers=admin)).json()
    listed = {
        p["slug"]: p["holders"] for p in (await api.get(PLANS, headers=admin)).json()["items"]
    }
    categories = {
        c["slug"]: c["active_plans"] for c in (await api.get(CATEGORIES, headers=admin)).json()
    }

    assert held["holders"] == 1
    assert listed == {bought.plan["slug"]: 1, "electrical-only": 0, "draft-electrical": 0}
    # Plans on sale only: the draft does not count.
    assert categories == {"plumbing": 1, "electrical": 2, "carpentry": 0}
    archived = await api.post(f"{PLANS}/{bought.plan['id']}/archive", headers=admin)
    assert archived.json()["holders"] == 1
