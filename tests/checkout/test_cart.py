"""The cart through the API: prices and totals, items that the catalog or the customer changed
underneath, ownership, and what an order refuses to be placed from."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orders import service as orders
from domain.orders.models import Order
from tests.support.catalog_helpers import (
    add_active_plan,
    add_categories,
    add_plan,
    make_admin,
    price,
)
from tests.support.orders_helpers import add_address, add_to_cart, customer

MISSING = "00000000-0000-4000-8000-000000000000"


def _item(cart: dict[str, Any], plan_id: str) -> dict[str, Any]:
    return next(i for i in cart["items"] if i["plan_id"] == plan_id)


async def _catalog(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    return admin


async def test_cart_prices_inclusive_and_exclusive_tax_and_totals_per_currency(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _catalog(api, db)
    inclusive = await add_active_plan(api, admin, "home-care", price=price(299900))
    exclusive = await add_active_plan(
        api, admin, "pipes-only", price=price(100000, includes_tax=False)
    )
    asha = await customer(api)

    await add_to_cart(api, asha, inclusive["id"])
    cart = await add_to_cart(api, asha, exclusive["id"])

    inc, exc = _item(cart, inclusive["id"]), _item(cart, exclusive["id"])
    # Inclusive: 2,999.00 contains 18 % GST (net 2,541.53, tax 457.47).
    assert (inc["price"]["amount_minor"], inc["price"]["tax_minor"]) == (299900, 45747)
    assert inc["price"]["total_minor"] == 299900 and inc["price"]["includes_tax"] is True
    # Exclusive: 1,000.00 plus 18 %.
    assert (exc["price"]["tax_minor"], exc["price"]["total_minor"]) == (18000, 118000)
    assert inc["plan_version_id"] == inclusive["current_version"]["id"]
    assert inc["address_id"] == str(asha.address_id) and "MG Road" in inc["address"]
    assert inc["issues"] == [] and exc["issues"] == []
    assert cart["totals"] == [
        {
            "currency": "INR",
            "minor_units": 2,
            "items": 2,
            "subtotal_minor": 299900 + 118000 - 45747 - 18000,
            "tax_minor": 45747 + 18000,
            "total_minor": 299900 + 118000,
        }
    ]
    assert cart["ready"] is True and cart["problems"] == []
    assert (await api.get("/cart", headers=asha.headers)).json() == cart


async def test_adding_the_same_plan_for_the_same_address_keeps_one_item(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _catalog(api, db)
    plan = await add_active_plan(api, admin)
    asha = await customer(api)
    home = await add_address(api, asha.headers, line1="7 Lake View")

    await add_to_cart(api, asha, plan["id"])
    await add_to_cart(api, asha, plan["id"])
    cart = await add_to_cart(api, asha, plan["id"], address_id=uuid.UUID(home["id"]))

    assert sorted(i["address_id"] for i in cart["items"]) == sorted(
        [str(asha.address_id), home["id"]]
    )
    # Moving one item onto the other's address would make two identical items: refused.
    first = _item(cart, plan["id"])
    other = home["id"] if first["address_id"] == str(asha.address_id) else str(asha.address_id)
    moved = await api.patch(
        f"/cart/items/{first['id']}", json={"address_id": other}, headers=asha.headers
    )
    assert moved.status_code == 409, moved.text


async def test_address_defaults_and_unknown_plan_or_draft_or_archived_are_refused(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _catalog(api, db)
    draft = await add_plan(api, admin, "draft-plan")
    archived = await add_active_plan(api, admin, "old-plan")
    await api.post(f"/admin/catalog/plans/{archived['id']}/archive", headers=admin)
    plan = await add_active_plan(api, admin)
    asha = await customer(api)

    by_default = await api.post("/cart", json={"plan_id": plan["id"]}, headers=asha.headers)
    assert by_default.status_code == 201, by_default.text
    assert by_default.json()["items"][0]["address_id"] == str(asha.address_id)

    for plan_id in (MISSING, draft["id"]):
        unknown = await api.post("/cart", json={"plan_id": plan_id}, headers=asha.headers)
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["errors"][0]["field"] == "plan_id"
    gone = await api.post("/cart", json={"plan_id": archived["id"]}, headers=asha.headers)
    assert gone.status_code == 409 and "no longer on sale" in gone.json()["detail"]

    extra = await api.post(
        "/cart", json={"plan_id": plan["id"], "price_minor": 1}, headers=asha.headers
    )
    assert extra.status_code == 422


async def test_an_address_that_is_not_mine_is_422_on_address_id(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _catalog(api, db)
    plan = await add_active_plan(api, admin)
    asha = await customer(api, "asha@example.com")
    ravi = await customer(api, "ravi@example.com")

    for address_id in (ravi.address_id, MISSING):
        response = await api.post(
            "/cart",
            json={"plan_id": plan["id"], "address_id": str(address_id)},
            headers=asha.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "address_id"

    item = (await add_to_cart(api, asha, plan["id"]))["items"][0]
    moved = await api.patch(
        f"/cart/items/{item['id']}", json={"address_id": str(ravi.address_id)}, headers=asha.headers
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "address_id"


async def test_another_users_cart_item_is_404(api: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await _catalog(api, db)
    plan = await add_active_plan(api, admin)
    asha = await customer(api, "asha@example.com")
    ravi = await customer(api, "ravi@example.com")
    item = (await add_to_cart(api, asha, plan["id"]))["items"][0]

    patched = await api.patch(
        f"/cart/items/{item['id']}", json={"refresh": True}, headers=ravi.headers
    )
    deleted = await api.delete(f"/cart/items/{item['id']}", headers=ravi.headers)
    missing = await api.delete(f"/cart/items/{MISSING}", headers=asha.headers)

    assert (patched.status_code, deleted.status_code, missing.status_code) == (404, 404, 404)
    assert (await api.get("/cart", headers=ravi.headers)).json()["items"] == []
    assert len((await api.get("/cart", headers=asha.headers)).json()["items"]) == 1
    assert (await api.delete(f"/cart/items/{item['id']}", headers=asha.headers)).status_code == 204
    assert (await api.get("/cart", headers=asha.headers)).json()["items"] == []


async def test_changed_archived_plans_and_removed_addresses_are_flagged_with_the_reason(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _catalog(api, db)
    changed = await add_active_plan(api, admin, "home-care")
    archived = await add_active_plan(api, admin, "old-plan")
    moved = await add_active_plan(api, admin, "moved-plan")
    asha = await customer(api)
    spare = await add_address(api, asha.headers, line1="7 Lake View")
    await add_to_cart(api, asha, changed["id"])
    await add_to_cart(api, asha, archived["id"])
    await add_to_cart(api, asha, moved["id"], address_id=uuid.UUID(spare["id"]))

    edit = await api.patch(
        f"/admin/catalog/plans/{changed['id']}", json={"price": price(349900)}, headers=admin
    )
    assert edit.status_code == 200, edit.text
    await api.post(f"/admin/catalog/plans/{archived['id']}/archive", headers=admin)
    await api.delete(f"/me/addresses/{spare['id']}", headers=asha.headers)

    cart = (await api.get("/cart", headers=asha.headers)).json()
    assert _item(cart, changed["id"])["issues"] == [
        "price or terms changed since added: now 3,499.00 INR"
    ]
    assert _item(cart, archived["id"])["issues"] == ["plan archived: it is no longer on sale"]
    gone = _item(cart, moved["id"])
    assert gone["issues"] == ["address removed: choose another address for this plan"]
    assert gone["address_id"] is None
    assert cart["ready"] is False and len(cart["problems"]) == 3

    with pytest.raises(orders.CartNotReady) as refused:
        await orders.create_order_from_cart(
            db, user_id=asha.id, idempotency_key="k-1", request_hash="h", provider="sandbox"
        )
    assert len(refused.value.reasons) == 3
    assert "price or terms changed" in refused.value.detail
    await db.rollback()

    # The customer takes the new terms, chooses an address again and drops the archived plan.
    fixed = await api.patch(
        f"/cart/items/{_item(cart, changed['id'])['id']}",
        json={"refresh": True},
        headers=asha.headers,
    )
    assert _item(fixed.json(), changed["id"])["price"]["total_minor"] == 349900
    await api.patch(
        f"/cart/items/{gone['id']}", json={"address_id": str(asha.address_id)}, headers=asha.headers
    )
    refresh_archived = await api.patch(
        f"/cart/items/{_item(cart, archived['id'])['id']}",
        json={"refresh": True},
        headers=asha.headers,
    )
    assert refresh_archived.status_code == 409
    await api.delete(f"/cart/items/{_item(cart, archived['id'])['id']}", headers=asha.headers)
    cart = (await api.get("/cart", headers=asha.headers)).json()
    assert cart["ready"] is True, cart["problems"]


async def test_mixed_currencies_are_refused_at_order_creation(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await _catalog(api, db)
    rupees = await add_active_plan(api, admin, "home-care")
    dollars = await add_active_plan(
        api, admin, "us-care", price={**price(4999, includes_tax=False), "currency": "USD"}
    )
    asha = await customer(api)
    await add_to_cart(api, asha, rupees["id"])
    cart = await add_to_cart(api, asha, dollars["id"])

    assert [(t["currency"], t["total_minor"]) for t in cart["totals"]] == [
        ("INR", 299900),
        ("USD", 4999 + 900),
    ]
    assert cart["ready"] is False
    with pytest.raises(orders.CartNotReady, match="mixes currencies"):
        await orders.create_order_from_cart(
            db, user_id=asha.id, idempotency_key="k-1", request_hash="h", provider="sandbox"
        )
    await db.rollback()
    assert (await db.execute(select(func.count()).select_from(Order))).scalar_one() == 0

    # One currency at a time works, and the rest stays in the cart.
    order, created = await orders.create_order_from_cart(
        db,
        user_id=asha.id,
        idempotency_key="k-2",
        request_hash="h",
        provider="sandbox",
        item_ids=[uuid.UUID(_item(cart, dollars["id"])["id"])],
    )
    await db.commit()
    assert created and (order.currency, order.total_minor) == ("USD", 5899)
    assert len((await api.get("/cart", headers=asha.headers)).json()["items"]) == 2


async def test_an_empty_cart_cannot_be_ordered(api: httpx.AsyncClient, db: AsyncSession) -> None:
    asha = await customer(api)
    with pytest.raises(orders.CartNotReady, match="empty"):
        await orders.create_order_from_cart(
            db, user_id=asha.id, idempotency_key="k-1", request_hash="h", provider="sandbox"
        )
