"""One payment as staff read it: how it was paid in words ("Sandbox", never "sandbox · sandbox"),
the plans bought, its receipt, and the charge and its refunds as a timeline, each step with who
took it by name; what is left to refund. Staff only: a customer is refused. A refund above what
is left is refused at its field, in words staff use."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.support.admin_helpers import account
from tests.support.request_helpers import shop
from tests.support.waiting import eventually


async def _detail(api: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> Any:
    response = await api.get(f"/admin/payments/{order_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_payment_shows_its_charge_and_refunds_as_a_timeline(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    await db.execute(update(User).where(User.email == "admin@example.com").values(name="Meera"))
    await db.commit()
    order_id = s.bought.order_id
    total = s.bought.plan["current_version"]["price"]["total_minor"]

    refund = await api.post(
        f"/admin/orders/{order_id}/refunds",
        json={"amount_minor": 1000, "reason": "a visit came late"},
        headers={**s.admin, "Idempotency-Key": "detail-refund-1"},
    )
    assert refund.status_code == 202, refund.text
    detail = await eventually(
        lambda: _detail(api, s.admin, order_id),
        lambda d: any(e["kind"] == "refund_paid" for e in d["timeline"]),
        "the refund paid back",
    )

    assert detail["paid_with"] == "Sandbox"
    assert detail["status"] == "partially_refunded"
    assert detail["refunded_minor"] == 1000
    assert detail["refundable_minor"] == total - 1000
    assert detail["customer"]["email"] == "asker@example.com"
    assert [p["name"] for p in detail["plans"]] == [s.bought.plan["current_version"]["name"]]
    assert detail["plans"][0]["plan_id"] == s.bought.plan["id"]
    assert detail["receipt_path"] == f"/api/v1/admin/orders/{order_id}/receipt"
    receipt = await api.get(detail["receipt_path"].removeprefix("/api/v1"), headers=s.admin)
    assert receipt.status_code == 200

    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == ["placed", "paid", "completed", "refund_requested", "refund_paid"]
    times = [e["at"] for e in detail["timeline"]]
    assert times == sorted(times)
    by_kind = {e["kind"]: e for e in detail["timeline"]}
    money = f"{total / 100:,.2f} INR"
    assert by_kind["placed"]["text"] == f"Order placed for {money}"
    assert by_kind["paid"]["text"] == f"Charged {money} (Sandbox)"
    assert by_kind["refund_requested"]["text"] == "Refund of 10.00 INR asked for"
    assert by_kind["refund_requested"]["actor"] == "Meera"
    assert by_kind["refund_requested"]["note"] == "a visit came late"
    assert by_kind["refund_paid"]["amount_minor"] == 1000
    # Nobody's internal id stands for a person.
    assert all("admin:" not in e["actor"] for e in detail["timeline"])


async def test_only_staff_read_a_payment_and_an_unknown_one_is_not_found(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    _, support = await account(api, db, "desk@example.com", role="support")
    assert (await api.get(f"/admin/payments/{s.bought.order_id}", headers=support)).is_success
    refused = await api.get(f"/admin/payments/{s.bought.order_id}", headers=s.customer)
    assert refused.status_code == 403, refused.text
    missing = await api.get("/admin/payments/00000000-0000-4000-8000-000000000000", headers=s.admin)
    assert missing.status_code == 404, missing.text


async def test_a_refund_above_what_is_left_is_refused_at_the_amount_in_words(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    order_id = s.bought.order_id
    total = s.bought.plan["current_version"]["price"]["total_minor"]
    too_much = await api.post(
        f"/admin/orders/{order_id}/refunds",
        json={"amount_minor": total + 100, "reason": "goodwill"},
        headers=s.admin,
    )
    assert too_much.status_code == 422, too_much.text
    (error,) = too_much.json()["errors"]
    assert error["field"] == "amount_minor"
    assert error["message"] == (
        f"that is more than the customer paid; at most {total / 100:,.2f} INR can be refunded"
    )
    part = await api.post(
        f"/admin/orders/{order_id}/refunds",
        json={"amount_minor": total - 500, "reason": "goodwill"},
        headers=s.admin,
    )
    assert part.status_code == 202, part.text
    again = await api.post(
        f"/admin/orders/{order_id}/refunds",
        json={"amount_minor": 600, "reason": "goodwill"},
        headers=s.admin,
    )
    assert again.status_code == 422, again.text
    assert again.json()["errors"][0]["message"].startswith(
        "that is more than is left to refund; at most 5.00 INR can be refunded"
    )
