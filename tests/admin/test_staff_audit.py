"""Every staff write is in the audit log: this walks every write route under `/admin` (found in
the OpenAPI document, so a route added later without its entry fails here), makes each one do
its work once as an admin, and finds its entry: who, which action, on what.

Dispatch moves (assign, reassign, start, complete, cancel) go through the request's workflow;
their entry is written with the timeline entry, in the activity's one transaction."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.accounts.models import User
from domain.audit.models import AuditEntry
from tests.conftest import make_settings, register
from tests.support.campaign_helpers import seed_customers
from tests.support.catalog_helpers import plan_body
from tests.support.request_helpers import asked, shop, technician, window
from tests.support.waiting import eventually

# Writes by method but reads by meaning: nothing changes, so nothing is audited.
READS = {("POST", "/admin/campaigns/preview")}
PHONE_A, PHONE_B = "+919811100001", "+919811100002"
CALLER = "+919811100003"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Campaign batches slow enough (2 people every 2 s) that a started one can be paused."""
    return make_settings(
        database_url=database_url, campaign_batch_size=2, campaign_rate_per_second=1.0
    )


def _staff_writes(app: Any) -> set[tuple[str, str]]:
    routes = set()
    for path, item in app.openapi()["paths"].items():
        for method in item:
            if method != "get" and path.startswith("/api/v1/admin/"):
                routes.add((method.upper(), path.removeprefix("/api/v1")))
    return routes


class Walk:
    """Calls routes as the admin, noting for each route template the entry it should leave."""

    def __init__(self, api: httpx.AsyncClient, admin: dict[str, str]) -> None:
        self.api, self.admin = api, admin
        self.expected: dict[tuple[str, str], tuple[str, str]] = {}

    async def __call__(
        self,
        method: str,
        template: str,
        action: str,
        entity: str | None = None,
        body: Any = None,
        **ids: str,
    ) -> dict[str, Any]:
        headers = {**self.admin, "Idempotency-Key": f"walk-{uuid.uuid4()}"}
        response = await self.api.request(
            method, template.format(**ids), json=body, headers=headers
        )
        assert response.status_code < 300, f"{method} {template}: {response.text}"
        answer = response.json() if response.content else {}
        entity_id = entity or (next(iter(ids.values())) if ids else answer["id"])
        self.expected[(method, template)] = (action, str(entity_id))
        return answer if isinstance(answer, dict) else {"items": answer}


async def test_every_staff_write_is_in_the_audit_log(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)  # an admin, the catalog, a customer holding a plan
    admin_id = await db.scalar(select(User.id).where(User.email == "admin@example.com"))
    customer_id = await db.scalar(select(User.id).where(User.email == "asker@example.com"))
    await db.commit()
    assert admin_id is not None and customer_id is not None
    walk = Walk(api, s.admin)

    # --- people -----------------------------------------------------------------------------------
    await walk(
        "PATCH",
        "/admin/users/{user_id}",
        "user.update",
        body={"name": "Asha Rao"},
        user_id=str(customer_id),
    )

    # --- the catalog ------------------------------------------------------------------------------
    roofing = await walk(
        "POST",
        "/admin/catalog/categories",
        "category.create",
        body={"slug": "roofing", "name": "Roofing"},
    )
    listed = (await api.get("/admin/catalog/categories", headers=s.admin)).json()
    ids = [c["id"] for c in listed]
    await walk(
        "POST",
        "/admin/catalog/categories/reorder",
        "category.reorder",
        entity=ids[-1],  # each row moved has its entry; the last is now first
        body={"ids": ids[::-1]},
    )
    await walk(
        "POST",
        "/admin/catalog/categories/{category_id}/move",
        "category.move",
        body={"direction": "down"},  # first since the reorder: one place down
        category_id=roofing["id"],
    )
    await walk(
        "PATCH",
        "/admin/catalog/categories/{category_id}",
        "category.update",
        body={"name": "Roofs"},
        category_id=roofing["id"],
    )
    await walk(
        "POST",
        "/admin/catalog/categories/{category_id}/deactivate",
        "category.deactivate",
        category_id=roofing["id"],
    )
    await walk(
        "POST",
        "/admin/catalog/categories/{category_id}/activate",
        "category.activate",
        category_id=roofing["id"],
    )
    draft = await walk("POST", "/admin/catalog/plans", "plan.create", body=plan_body("draft-plan"))
    plans = [
        p["id"] for p in (await api.get("/admin/catalog/plans", headers=s.admin)).json()["items"]
    ]
    await walk(
        "POST",
        "/admin/catalog/plans/reorder",
        "plan.reorder",
        entity=plans[0],  # now last: moved
        body={"ids": plans[::-1]},
    )
    await walk(
        "PATCH",
        "/admin/catalog/plans/{plan_id}",
        "plan.update",
        body={"name": "Draft Plan Two"},
        plan_id=draft["id"],
    )
    await walk("DELETE", "/admin/catalog/plans/{plan_id}", "plan.delete", plan_id=draft["id"])
    other = (
        await api.post("/admin/catalog/plans", json=plan_body("short-lived"), headers=s.admin)
    ).json()
    await walk(
        "POST", "/admin/catalog/plans/{plan_id}/publish", "plan.publish", plan_id=other["id"]
    )
    await walk(
        "POST",
        "/admin/catalog/plans/{plan_id}/move",
        "plan.move",
        body={"direction": "up"},  # on sale last, after the plan the customer holds
        plan_id=other["id"],
    )
    await walk(
        "POST", "/admin/catalog/plans/{plan_id}/archive", "plan.archive", plan_id=other["id"]
    )

    # --- technicians and dispatch -----------------------------------------------------------------
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    tech = await walk(
        "POST", "/admin/technicians", "technician.create", body=_technician("Bala Iyer", PHONE_B)
    )
    await walk(
        "PATCH",
        "/admin/technicians/{technician_id}",
        "technician.update",
        body={"name": "Bala S. Iyer"},
        technician_id=tech["id"],
    )
    leave_start, leave_end = window(days=30, hour=0, hours=24)
    leave = await walk(
        "POST",
        "/admin/technicians/{technician_id}/time-off",
        "technician.time_off.add",
        body={"starts_at": leave_start, "ends_at": leave_end, "reason": "training"},
        technician_id=tech["id"],
    )
    await walk(
        "DELETE",
        "/admin/technicians/{technician_id}/time-off/{time_off_id}",
        "technician.time_off.remove",
        technician_id=tech["id"],
        time_off_id=leave["id"],
    )
    rid = (await asked(api, s))["id"]
    await walk(
        "POST",
        "/admin/service-requests/{request_id}/assign",
        "service_request.assign",
        body={"technician_id": ravi["id"], "reason": "closest"},
        request_id=rid,
    )
    await walk(
        "POST",
        "/admin/service-requests/{request_id}/reassign",
        "service_request.reassign",
        body={"technician_id": tech["id"]},
        request_id=rid,
    )
    await walk(
        "POST",
        "/admin/service-requests/{request_id}/start",
        "service_request.start",
        request_id=rid,
    )
    await walk(
        "POST",
        "/admin/service-requests/{request_id}/complete",
        "service_request.complete",
        body={"notes": "Replaced the washer."},
        request_id=rid,
    )
    other_rid = (await asked(api, s, when=window(days=3)))["id"]
    await walk(
        "POST",
        "/admin/service-requests/{request_id}/cancel",
        "service_request.cancel",
        body={"reason": "the customer called to cancel"},
        request_id=other_rid,
    )

    # --- money and plans held ---------------------------------------------------------------------
    order_id, sid = s.bought.order_id, str(s.bought.subscription_id)
    refund = await walk(
        "POST",
        "/admin/orders/{order_id}/refunds",
        "order.refund",
        body={"amount_minor": 1000, "reason": "a visit came late"},
        order_id=order_id,
    )
    assert refund["amount_minor"] == 1000
    await walk(
        "POST",
        "/admin/subscriptions/{subscription_id}/extend",
        "subscription.extend",
        body={"days": 7, "reason": "a missed visit"},
        subscription_id=sid,
    )
    await walk(
        "POST",
        "/admin/subscriptions/{subscription_id}/cancel",
        "subscription.cancel",
        body={"reason": "asked by phone", "refund": "none"},
        subscription_id=sid,
    )

    # --- support ----------------------------------------------------------------------------------
    callback = await api.post(
        "/support/callbacks", json={"reason": "billing", "phone": CALLER}, headers=s.customer
    )
    assert callback.status_code == 201, callback.text
    cb = callback.json()["id"]
    await walk(
        "POST", "/admin/callbacks/{callback_id}/take", "support_callback.take", callback_id=cb
    )
    dialled = await api.post(
        f"/admin/callbacks/{cb}/calls", json={"outcome": "no_answer"}, headers=s.admin
    )
    assert dialled.status_code == 201, dialled.text
    walk.expected[("POST", "/admin/callbacks/{callback_id}/calls")] = (
        "support_call.create",
        dialled.json()["id"],
    )
    desk = await register(api, "desk@example.com", name="Desk Person")
    await db.execute(update(User).where(User.email == "desk@example.com").values(role="support"))
    await db.commit()
    await walk(
        "POST",
        "/admin/callbacks/{callback_id}/assign",
        "support_callback.assign",
        body={"staff_id": desk["user"]["id"]},
        callback_id=cb,
    )
    await walk(
        "POST",
        "/admin/callbacks/{callback_id}/close",
        "support_callback.close",
        body={"outcome": "resolved"},
        callback_id=cb,
    )
    call = await api.post(
        f"/admin/users/{customer_id}/calls",
        json={"outcome": "reached", "purpose": "support", "number": CALLER},
        headers=s.admin,
    )
    assert call.status_code == 201, call.text
    walk.expected[("POST", "/admin/users/{user_id}/calls")] = (
        "support_call.create",
        call.json()["id"],
    )

    # --- a campaign -------------------------------------------------------------------------------
    await seed_customers(db, 7, prefix="walk")
    campaign = await walk(
        "POST",
        "/admin/campaigns",
        "campaign.create",
        body={"title": "20% off", "body": "This week only.", "audience": {"kind": "all"}},
    )
    cid = campaign["id"]
    preview = await api.post(
        "/admin/campaigns/preview", json={"audience": {"kind": "all"}}, headers=s.admin
    )
    assert preview.status_code == 200, preview.text
    await walk("POST", "/admin/campaigns/{campaign_id}/test", "campaign.test_send", campaign_id=cid)
    for move in ("start", "pause", "resume", "cancel"):
        await walk(
            "POST", f"/admin/campaigns/{{campaign_id}}/{move}", f"campaign.{move}", campaign_id=cid
        )

    # Every write route was walked (a new one must be added here, or declared a read) ...
    assert set(walk.expected) == _staff_writes(app) - READS
    # ... and each left its entry, naming the admin who did it.
    missing = []
    for (method, template), (action, entity_id) in sorted(walk.expected.items()):
        if not await _entry(db, admin_id, action, entity_id):
            missing.append(f"{method} {template}: no {action} on {entity_id}")
    assert missing == []


async def test_a_dispatch_entry_says_what_changed(api: httpx.AsyncClient, db: AsyncSession) -> None:
    s = await shop(api, db)
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    rid = (await asked(api, s))["id"]
    await db.execute(update(User).where(User.email == "admin@example.com").values(name="Meera"))
    await db.commit()
    assigned = await api.post(
        f"/admin/service-requests/{rid}/assign",
        json={"technician_id": ravi["id"], "reason": "closest plumber"},
        headers=s.admin,
    )
    assert assigned.status_code == 200, assigned.text
    page = (
        await api.get(
            "/admin/audit",
            params={"entity_type": "service_request", "entity_id": rid},
            headers=s.admin,
        )
    ).json()
    (entry,) = page["items"]
    assert entry["action"] == "service_request.assign"
    assert entry["actor_name"] == "Meera"
    assert entry["reason"] == "assigned to Ravi Kumar: closest plumber"
    assert entry["detail"]["before"] == {"status": "pending"}
    assert entry["detail"]["after"]["status"] == "assigned"
    assert entry["detail"]["after"]["technician_id"] == ravi["id"]


def _technician(name: str, phone: str) -> dict[str, Any]:
    always = [["00:00", "23:59"]]
    return {
        "name": name,
        "phone": phone,
        "skills": ["plumbing"],
        "zones": ["560001"],
        "working_hours": {d: always for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        "timezone": "Asia/Kolkata",
    }


async def _entry(db: AsyncSession, actor_id: uuid.UUID, action: str, entity_id: str) -> bool:
    """Whether the entry is there (a move through a workflow commits just before its answer):
    looked for until it is, within the suite's bound."""

    async def read() -> bool:
        found = await db.scalar(
            select(AuditEntry.id).where(
                AuditEntry.actor_id == actor_id,
                AuditEntry.action == action,
                AuditEntry.entity_id == entity_id,
            )
        )
        await db.commit()
        return found is not None

    try:
        return await eventually(read, bool, f"{action} on {entity_id}", wait_s=5)
    except AssertionError:
        return False
