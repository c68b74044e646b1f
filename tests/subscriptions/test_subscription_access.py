"""Who may see and change a subscription: its customer (another customer gets a 404, exactly like
a missing one), staff to read, admins to change; without a token, nobody."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.support.catalog_helpers import make_customer
from tests.support.subscription_helpers import buy_plan


async def test_another_customer_cannot_see_renew_or_cancel_a_subscription(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    sid = bought.subscription_id
    other = await make_customer(api, "other@example.com")
    key = {"Idempotency-Key": f"renew-{uuid.uuid4()}"}
    attempts = [
        await api.get(f"/subscriptions/{sid}", headers=other),
        await api.post(f"/subscriptions/{sid}/renew", headers={**other, **key}),
        await api.put(f"/subscriptions/{sid}/auto-renew", json={"enabled": False}, headers=other),
        await api.post(f"/subscriptions/{sid}/cancellation-quote", headers=other),
        await api.post(
            f"/subscriptions/{sid}/cancel", json={"quote_id": str(uuid.uuid4())}, headers=other
        ),
    ]
    assert [a.status_code for a in attempts] == [404] * 5
    assert {a.json()["detail"] for a in attempts} == {"subscription not found"}
    missing = await api.get(f"/subscriptions/{uuid.uuid4()}", headers=other)
    assert missing.status_code == 404 and missing.json() == {
        **attempts[0].json(),
        "instance": missing.json()["instance"],
    }
    assert (await api.get("/subscriptions", headers=other)).json()["items"] == []
    # Their own view is untouched.
    mine = (await api.get(f"/subscriptions/{sid}", headers=bought.buyer.headers)).json()
    assert mine["status"] == "active"


async def test_customers_cannot_reach_the_admin_routes_and_support_only_reads(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    sid = bought.subscription_id
    customer = bought.buyer.headers
    admin_routes = [
        ("GET", "/admin/subscriptions", None),
        ("GET", f"/admin/subscriptions/{sid}", None),
        ("POST", f"/admin/subscriptions/{sid}/extend", {"days": 5, "reason": "just because"}),
        (
            "POST",
            f"/admin/subscriptions/{sid}/cancel",
            {"reason": "just because", "refund": "none"},
        ),
    ]
    for method, path, body in admin_routes:
        refused = await api.request(method, path, json=body, headers=customer)
        assert refused.status_code == 403, (method, path)
        assert (await api.request(method, path, json=body)).status_code == 401

    support = await make_customer(api, "support@example.com")
    await db.execute(update(User).where(User.email == "support@example.com").values(role="support"))
    await db.commit()
    listed = await api.get("/admin/subscriptions", headers=support)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [str(sid)]
    assert listed.json()["items"][0]["workflow_id"] == f"subscription:{sid}"
    for method, path, body in admin_routes[2:]:
        assert (await api.request(method, path, json=body, headers=support)).status_code == 403
    mine = (await api.get(f"/subscriptions/{sid}", headers=customer)).json()
    assert mine["status"] == "active" and mine["ends_at"] == listed.json()["items"][0]["ends_at"]


async def test_staff_filter_subscriptions_by_status_plan_customer_and_expiry(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    first = await buy_plan(api, db, "first@example.com")
    second = await buy_plan(
        api, db, "second@example.com", admin=first.admin, slug="short-care", validity_days=20
    )
    admin = first.admin

    async def ids(**params: str | int) -> list[str]:
        found = await api.get("/admin/subscriptions", params=params, headers=admin)
        assert found.status_code == 200, found.text
        return [s["id"] for s in found.json()["items"]]

    both = {str(first.subscription_id), str(second.subscription_id)}
    assert set(await ids()) == both
    assert await ids(expiring_within_days=30) == [str(second.subscription_id)]
    assert await ids(plan_id=first.plan["id"]) == [str(first.subscription_id)]
    assert await ids(user_id=str(second.buyer.id)) == [str(second.subscription_id)]
    assert set(await ids(status="active")) == both
    assert await ids(status="expired") == []


async def test_automatic_renewal_on_a_card_that_is_not_the_customers_names_the_field(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    other = await make_customer(api, "other@example.com")
    theirs = await api.post(
        "/me/payment-methods",
        json={"provider": "sandbox", "provider_method_id": "sbx_pm_abc123", "kind": "card"},
        headers=other,
    )
    assert theirs.status_code == 201, theirs.text
    url = f"/subscriptions/{bought.subscription_id}/auto-renew"
    answers = [
        await api.put(
            url, json={"enabled": True, "payment_method_id": card}, headers=bought.buyer.headers
        )
        for card in (theirs.json()["id"], str(uuid.uuid4()))
    ]
    # Another customer's card is answered exactly as a card that exists nowhere: on the field.
    assert [a.status_code for a in answers] == [422, 422]
    problems = [a.json()["errors"] for a in answers]
    assert problems[0] == problems[1]
    assert [e["field"] for e in problems[0]] == ["payment_method_id"]
    mine = await api.get(f"/subscriptions/{bought.subscription_id}", headers=bought.buyer.headers)
    assert mine.json()["auto_renew"] is False
