"""The audit log as a person reads it: what was done in words, each change as "Price: 2,999.00 INR
→ 3,499.00 INR", the people and things an entry names by name (never an id), and what it was
about with the screen that shows it (a plan, a visit, a payment, a callback on a customer's
record)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.support.catalog_helpers import price
from tests.support.request_helpers import asked, shop, technician

PHONE = "+919811100091"


async def _entry(api: httpx.AsyncClient, admin: dict[str, str], **query: str) -> Any:
    page = (await api.get("/admin/audit", params=query, headers=admin)).json()
    return page["items"][0]


async def test_entries_say_what_changed_in_words_with_names_and_links(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    await db.execute(update(User).where(User.email == "admin@example.com").values(name="Meera"))
    await db.execute(update(User).where(User.email == "asker@example.com").values(name="Asha Rao"))
    await db.commit()
    plan = s.bought.plan
    changed = await api.patch(
        f"/admin/catalog/plans/{plan['id']}", json={"price": price(349900)}, headers=s.admin
    )
    assert changed.status_code == 200, changed.text

    entry = await _entry(api, s.admin, action="plan.update")
    assert entry["summary"] == "Changed the plan"
    assert entry["actor_name"] == "Meera"
    assert {"field": "Price", "before": "2,999.00 INR", "after": "3,499.00 INR"} in entry["changes"]
    assert entry["entity"] == {
        "kind": "plan",
        "id": plan["id"],
        "name": plan["current_version"]["name"],
        "customer_id": None,
    }

    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE)
    rid = (await asked(api, s))["id"]
    assigned = await api.post(
        f"/admin/service-requests/{rid}/assign",
        json={"technician_id": ravi["id"], "reason": "closest"},
        headers=s.admin,
    )
    assert assigned.status_code == 200, assigned.text
    entry = await _entry(api, s.admin, entity_id=rid)
    assert entry["summary"] == "Assigned the visit"
    assert entry["changes"] == [
        {"field": "Status", "before": "Pending", "after": "Assigned"},
        {"field": "Technician", "before": None, "after": "Ravi Kumar"},
    ]
    assert entry["entity"]["kind"] == "request"
    assert entry["entity"]["name"] == "Plumbing visit of Asha Rao"

    refund = await api.post(
        f"/admin/orders/{s.bought.order_id}/refunds",
        json={"amount_minor": 1000, "reason": "a visit came late"},
        headers=s.admin,
    )
    assert refund.status_code == 202, refund.text
    entry = await _entry(api, s.admin, action="order.refund")
    assert entry["summary"] == "Refunded a payment"
    assert entry["reason"] == "a visit came late"
    assert {"field": "Amount", "before": None, "after": "10.00 INR"} in entry["changes"]
    assert entry["entity"]["kind"] == "payment"
    assert entry["entity"]["name"] == "Payment by Asha Rao"
    # No entry shows anyone's internal id.
    page = (await api.get("/admin/audit", params={"limit": 100}, headers=s.admin)).json()
    for item in page["items"]:
        for change in item["changes"]:
            assert ravi["id"] not in f"{change['before']} {change['after']}"
