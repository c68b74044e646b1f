"""Admin catalog: who may call it, create / edit / publish / archive / reorder / delete, the
versioning rule around publication and sales, and the audit trail of every change."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit.models import AuditEntry
from domain.catalog import service as catalog
from tests.support.catalog_helpers import (
    add_active_plan,
    add_categories,
    add_category,
    add_plan,
    make_admin,
    make_customer,
    plan_body,
    price,
)

MISSING = "00000000-0000-4000-8000-000000000000"
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/admin/catalog/categories", None),
    ("POST", "/admin/catalog/categories", {"slug": "plumbing", "name": "Plumbing"}),
    ("PATCH", f"/admin/catalog/categories/{MISSING}", {"name": "X"}),
    ("POST", f"/admin/catalog/categories/{MISSING}/deactivate", None),
    ("POST", "/admin/catalog/categories/reorder", {"ids": [MISSING]}),
    ("POST", f"/admin/catalog/categories/{MISSING}/move", {"direction": "up"}),
    ("GET", "/admin/catalog/plans", None),
    ("POST", "/admin/catalog/plans", plan_body()),
    ("GET", f"/admin/catalog/plans/{MISSING}", None),
    ("GET", f"/admin/catalog/plans/{MISSING}/versions", None),
    ("PATCH", f"/admin/catalog/plans/{MISSING}", {"badge": "X"}),
    ("POST", f"/admin/catalog/plans/{MISSING}/publish", None),
    ("POST", f"/admin/catalog/plans/{MISSING}/archive", None),
    ("POST", "/admin/catalog/plans/reorder", {"ids": [MISSING]}),
    ("POST", f"/admin/catalog/plans/{MISSING}/move", {"direction": "down"}),
    ("DELETE", f"/admin/catalog/plans/{MISSING}", None),
]


async def _audit(db: AsyncSession, entity_id: str) -> list[Any]:
    rows = await db.execute(
        select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.at, AuditEntry.action)
    )
    return list(rows.all())


async def _version_row(db: AsyncSession, version_id: str) -> dict[str, Any]:
    """The version's row and its child rows exactly as stored."""
    row = (
        (await db.execute(text("SELECT * FROM plan_versions WHERE id = :id"), {"id": version_id}))
        .mappings()
        .one()
    )
    cats = (
        (
            await db.execute(
                text("SELECT * FROM plan_version_categories WHERE version_id = :id ORDER BY 2"),
                {"id": version_id},
            )
        )
        .mappings()
        .all()
    )
    incs = (
        (
            await db.execute(
                text("SELECT * FROM plan_inclusions WHERE version_id = :id ORDER BY 2"),
                {"id": version_id},
            )
        )
        .mappings()
        .all()
    )
    return {
        "version": dict(row),
        "categories": [dict(c) for c in cats],
        "inclusions": [dict(i) for i in incs],
    }


async def _sell(db: AsyncSession, version_id: str) -> None:
    """What the checkout will do when it records a purchase."""
    await catalog.lock_version_for_sale(db, version_id=uuid.UUID(version_id))
    await db.commit()


# --- who may call -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_ROUTES)
async def test_admin_routes_refuse_anonymous_401_and_customers_403(
    api: httpx.AsyncClient, db: AsyncSession, method: str, url: str, body: dict[str, Any] | None
) -> None:
    anonymous = await api.request(method, url, json=body)
    assert anonymous.status_code == 401, anonymous.text

    customer = await make_customer(api)
    refused = await api.request(method, url, json=body, headers=customer)
    assert refused.status_code == 403, refused.text
    assert "admin" in refused.json()["detail"]


# --- categories ---------------------------------------------------------------------------------


async def test_category_create_edit_deactivate_are_audited_with_who_before_after(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    me = (await api.get("/me", headers=admin)).json()["id"]
    created = await add_category(api, admin, "plumbing", icon="mdi:pipe-wrench")

    edited = await api.patch(
        f"/admin/catalog/categories/{created['id']}",
        json={"name": "Plumbing & sanitation", "description": "Pipes and drains."},
        headers=admin,
    )
    deactivated = await api.post(
        f"/admin/catalog/categories/{created['id']}/deactivate", headers=admin
    )

    assert edited.status_code == 200 and edited.json()["name"] == "Plumbing & sanitation"
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    listed = (await api.get("/admin/catalog/categories", headers=admin)).json()
    assert [(c["slug"], c["is_active"]) for c in listed] == [("plumbing", False)]
    assert (await api.get("/catalog/categories")).json() == []

    entries = await _audit(db, created["id"])
    assert [e.action for e in entries] == [
        "category.create",
        "category.update",
        "category.deactivate",
    ]
    assert all(str(e.actor_id) == me for e in entries)
    assert entries[0].before is None and entries[0].after["slug"] == "plumbing"
    assert entries[1].before["name"] == "Plumbing" and entries[1].after["name"] == (
        "Plumbing & sanitation"
    )
    assert entries[2].before["is_active"] is True and entries[2].after["is_active"] is False


async def test_reorder_categories_puts_the_listed_first_and_audits_each_move(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    cats = await add_categories(api, admin, "plumbing", "electrical", "carpentry")

    response = await api.post(
        "/admin/catalog/categories/reorder",
        json={"ids": [cats["carpentry"]["id"], cats["plumbing"]["id"]]},
        headers=admin,
    )

    assert response.status_code == 200, response.text
    assert [c["slug"] for c in response.json()] == ["carpentry", "plumbing", "electrical"]
    public = (await api.get("/catalog/categories")).json()
    assert [c["slug"] for c in public] == ["carpentry", "plumbing", "electrical"]
    moved = await _audit(db, cats["carpentry"]["id"])
    assert moved[-1].action == "category.reorder"
    assert moved[-1].before == {"position": 3} and moved[-1].after == {"position": 1}


async def test_duplicate_category_slug_is_409(api: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_admin(api, db)
    await add_category(api, admin, "plumbing")
    again = await api.post(
        "/admin/catalog/categories", json={"slug": "plumbing", "name": "Again"}, headers=admin
    )
    assert again.status_code == 409
    assert "plumbing" in again.json()["detail"]


# --- plans --------------------------------------------------------------------------------------


async def test_new_plan_is_a_draft_with_version_1_and_is_audited(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    me = (await api.get("/me", headers=admin)).json()["id"]
    await add_categories(api, admin)

    plan = await add_plan(api, admin, "home-care", badge="New")

    assert plan["status"] == "draft"
    assert plan["sold"] is False
    assert plan["current_version"]["number"] == 1
    assert plan["current_version"]["price"]["total_minor"] == 299900
    entries = await _audit(db, plan["id"])
    assert [(e.action, str(e.actor_id)) for e in entries] == [("plan.create", me)]
    assert entries[0].after["slug"] == "home-care"
    assert entries[0].after["current_version"]["price"]["amount_minor"] == 299900


async def test_admin_lists_drafts_and_archived_plans_by_status(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await add_plan(api, admin, "draft-one")
    await add_active_plan(api, admin, "active-one")
    archived = await add_active_plan(api, admin, "archived-one")
    await api.post(f"/admin/catalog/plans/{archived['id']}/archive", headers=admin)

    everything = (await api.get("/admin/catalog/plans", headers=admin)).json()
    drafts = (await api.get("/admin/catalog/plans?status=draft", headers=admin)).json()
    gone = (await api.get("/admin/catalog/plans?status=archived", headers=admin)).json()

    assert everything["total"] == 3
    assert [p["slug"] for p in drafts["items"]] == ["draft-one"]
    assert [(p["slug"], p["status"]) for p in gone["items"]] == [("archived-one", "archived")]


async def test_publish_and_archive_move_the_plan_on_and_off_sale_with_audit(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_plan(api, admin, "home-care")

    published = await api.post(f"/admin/catalog/plans/{plan['id']}/publish", headers=admin)
    assert published.json()["status"] == "active"
    assert (await api.get("/catalog/plans/home-care")).status_code == 200

    archived = await api.post(f"/admin/catalog/plans/{plan['id']}/archive", headers=admin)
    assert archived.json()["status"] == "archived"
    assert (await api.get("/catalog/plans/home-care")).status_code == 404

    entries = await _audit(db, plan["id"])
    assert [e.action for e in entries] == ["plan.create", "plan.publish", "plan.archive"]
    assert (entries[1].before["status"], entries[1].after["status"]) == ("draft", "active")
    assert (entries[2].before["status"], entries[2].after["status"]) == ("active", "archived")


async def test_edit_of_a_published_plan_makes_version_2_and_keeps_version_1(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    old_version = plan["current_version"]["id"]
    assert plan["current_version"]["published_at"] is not None

    edited = await api.patch(
        f"/admin/catalog/plans/{plan['id']}", json={"price": price(349900)}, headers=admin
    )

    assert edited.status_code == 200, edited.text
    current = edited.json()["current_version"]
    assert current["id"] != old_version and current["number"] == 2
    assert current["price"]["amount_minor"] == 349900
    # On sale, so the new terms are published at once; the old ones were shown, so they stay.
    assert current["published_at"] is not None
    versions = (await api.get(f"/admin/catalog/plans/{plan['id']}/versions", headers=admin)).json()
    assert [(v["number"], v["price"]["amount_minor"]) for v in versions] == [
        (2, 349900),
        (1, 299900),
    ]
    public = (await api.get("/catalog/plans/home-care")).json()
    assert (public["version_id"], public["price"]["amount_minor"]) == (current["id"], 349900)


async def test_edit_after_sale_creates_new_version_and_keeps_sold_terms(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin, "plumbing", "electrical", "carpentry")
    plan = await add_active_plan(api, admin, "home-care")
    sold_id = plan["current_version"]["id"]
    await _sell(db, sold_id)
    sold_before = await _version_row(db, sold_id)
    assert sold_before["version"]["sold_at"] is not None

    edited = await api.patch(
        f"/admin/catalog/plans/{plan['id']}",
        json={
            "price": price(399900),
            "categories": ["plumbing", "electrical", "carpentry"],
            "visit_cap": 6,
            "inclusions": [{"category": "carpentry", "visits": 2, "details": "Hinges."}],
        },
        headers=admin,
    )

    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["sold"] is True
    new = body["current_version"]
    assert new["id"] != sold_id and new["number"] == 2 and new["sold_at"] is None
    assert new["price"]["amount_minor"] == 399900
    assert [i["category"] for i in new["inclusions"]] == ["carpentry"]
    # The sold version, its categories and inclusions: byte for byte what the customer bought.
    assert await _version_row(db, sold_id) == sold_before
    sold_terms = await catalog.get_version(db, version_id=uuid.UUID(sold_id))
    assert (sold_terms.price_minor, sold_terms.visit_cap) == (299900, 4)
    versions = (await api.get(f"/admin/catalog/plans/{plan['id']}/versions", headers=admin)).json()
    assert [(v["number"], v["sold_at"] is not None) for v in versions] == [(2, False), (1, True)]
    public = (await api.get("/catalog/plans/home-care")).json()
    assert public["version_id"] == new["id"]


async def test_each_edit_of_a_plan_on_sale_is_a_version_kept_in_the_history(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    await _sell(db, plan["current_version"]["id"])
    url = f"/admin/catalog/plans/{plan['id']}"

    await api.patch(url, json={"name": "Home Care 2"}, headers=admin)
    third = (await api.patch(url, json={"name": "Home Care 3"}, headers=admin)).json()

    versions = (await api.get(f"{url}/versions", headers=admin)).json()
    assert [(v["number"], v["name"]) for v in versions] == [
        (3, "Home Care 3"),
        (2, "Home Care 2"),
        (1, "Home Care"),
    ]
    assert third["current_version"]["number"] == 3


async def test_merchandising_edit_and_an_identical_edit_make_no_new_version(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    version_id = plan["current_version"]["id"]
    await _sell(db, version_id)
    url = f"/admin/catalog/plans/{plan['id']}"

    merch = await api.patch(url, json={"badge": "Best value"}, headers=admin)
    same = await api.patch(
        url,
        json={"price": plan_body()["price"], "categories": ["electrical", "plumbing"]},
        headers=admin,
    )

    assert merch.json()["badge"] == "Best value"
    assert merch.json()["current_version"]["id"] == version_id
    assert same.json()["current_version"]["id"] == version_id
    actions = [e.action for e in await _audit(db, plan["id"])]
    assert actions == ["plan.create", "plan.publish", "plan.update"]  # the no-op is not logged


async def test_plan_edit_is_audited_with_before_and_after_terms(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    me = (await api.get("/me", headers=admin)).json()["id"]
    await add_categories(api, admin)
    plan = await add_plan(api, admin, "home-care")

    await api.patch(
        f"/admin/catalog/plans/{plan['id']}",
        json={"price": price(249900), "slug": "home-care-lite"},
        headers=admin,
    )

    update = (await _audit(db, plan["id"]))[-1]
    assert update.action == "plan.update" and str(update.actor_id) == me
    assert update.before["slug"] == "home-care"
    assert update.after["slug"] == "home-care-lite"
    assert update.before["current_version"]["price"]["amount_minor"] == 299900
    assert update.after["current_version"]["price"]["amount_minor"] == 249900


async def test_lock_version_for_sale_is_idempotent(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    version_id = uuid.UUID(plan["current_version"]["id"])

    first = await catalog.lock_version_for_sale(db, version_id=version_id)
    first_sold_at = first.sold_at
    await db.commit()
    again = await catalog.lock_version_for_sale(db, version_id=version_id)
    await db.commit()

    assert first_sold_at is not None and again.sold_at == first_sold_at
    assert [c.slug for c in again.categories] == ["plumbing", "electrical"]


async def test_database_refuses_to_change_a_sold_version(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    version_id = plan["current_version"]["id"]
    await _sell(db, version_id)

    for statement in (
        "UPDATE plan_versions SET price_minor = 1 WHERE id = :id",
        "UPDATE plan_versions SET sold_at = now() - interval '1 day' WHERE id = :id",
        "DELETE FROM plan_versions WHERE id = :id",
        "UPDATE plan_inclusions SET visits = 99 WHERE version_id = :id",
        "DELETE FROM plan_version_categories WHERE version_id = :id",
    ):
        with pytest.raises(DBAPIError, match=r"sold|immutable"):
            await db.execute(text(statement), {"id": version_id})
        await db.rollback()


async def test_reorder_plans_changes_the_featured_order_and_audits_it(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    a = await add_active_plan(api, admin, "plan-a")
    b = await add_active_plan(api, admin, "plan-b")
    c = await add_active_plan(api, admin, "plan-c")

    response = await api.post(
        "/admin/catalog/plans/reorder", json={"ids": [c["id"], a["id"]]}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert [p["slug"] for p in response.json()] == ["plan-c", "plan-a", "plan-b"]
    public = (await api.get("/catalog/plans")).json()
    assert [p["slug"] for p in public["items"]] == ["plan-c", "plan-a", "plan-b"]
    last = (await _audit(db, b["id"]))[-1]
    assert (last.action, last.before, last.after) == (
        "plan.reorder",
        {"position": 2},
        {"position": 3},
    )


async def test_delete_an_unsold_plan_and_its_audit_keeps_what_it_was(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_plan(api, admin, "mistake")

    deleted = await api.delete(f"/admin/catalog/plans/{plan['id']}", headers=admin)

    assert deleted.status_code == 204
    assert (await api.get(f"/admin/catalog/plans/{plan['id']}", headers=admin)).status_code == 404
    entry = (await _audit(db, plan["id"]))[-1]
    assert (entry.action, entry.after) == ("plan.delete", None)
    assert entry.before["slug"] == "mistake"


async def test_delete_of_a_sold_plan_is_409_with_the_reason_and_archive_works(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    await _sell(db, plan["current_version"]["id"])

    refused = await api.delete(f"/admin/catalog/plans/{plan['id']}", headers=admin)

    assert refused.status_code == 409
    problem = refused.json()
    assert "sold" in problem["detail"] and "archive" in problem["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    still = (await api.get(f"/admin/catalog/plans/{plan['id']}", headers=admin)).json()
    assert still["status"] == "active" and still["sold"] is True
    archived = await api.post(f"/admin/catalog/plans/{plan['id']}/archive", headers=admin)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"


async def test_duplicate_plan_slug_is_409(api: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await add_plan(api, admin, "home-care")
    other = await add_plan(api, admin, "other")

    created = await api.post("/admin/catalog/plans", json=plan_body("home-care"), headers=admin)
    renamed = await api.patch(
        f"/admin/catalog/plans/{other['id']}", json={"slug": "home-care"}, headers=admin
    )

    assert created.status_code == 409 and renamed.status_code == 409
    assert "home-care" in renamed.json()["detail"]
