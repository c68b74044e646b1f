"""The admin panel's audit log and payments screens, read through the API: the audit log is for
admins only (support and customers get 403), newest first, filtered by actor, action, entity and
period, each entry with the actor's name and the reason given; payments (support may read) show
each order's payment with its customer, method, refunds and workflow link, filtered by status,
provider, method, period and a search."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.audit import service as audit
from domain.audit.models import AuditEntry
from domain.orders import refunds, settlement
from domain.orders.models import Order
from domain.payments import RefundResult
from tests.support.admin_helpers import account
from tests.support.catalog_helpers import add_active_plan, add_categories
from tests.support.orders_helpers import add_to_cart, customer, pay, place_order

LONG_AGO = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


async def _entry(db: AsyncSession, *, at: datetime | None = None, **fields: Any) -> AuditEntry:
    entry = audit.record(db, **fields)
    if at is not None:
        entry.at = at
    await db.commit()
    return entry


async def test_the_audit_log_shows_who_did_what_and_why(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    boss_id, boss = await account(api, db, "boss@example.com", role="admin", name="Boss")
    await add_categories(api, boss, "plumbing")  # audited by the catalog itself
    await _entry(
        db,
        actor_id=uuid.UUID(boss_id),
        action="subscription.extend",
        entity_type="subscription",
        entity_id="0f6f4a52-0000-4000-8000-000000000001",
        before={"ends_at": "2026-12-01T00:00:00+00:00"},
        after={"ends_at": "2026-12-08T00:00:00+00:00", "reason": "missed visit"},
    )
    listed = await api.get("/admin/audit", headers=boss)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 2
    newest, oldest = page["items"]
    assert newest["action"] == "subscription.extend"
    assert newest["actor_id"] == boss_id
    assert newest["actor_name"] == "Boss"
    assert newest["reason"] == "missed visit"
    assert newest["detail"]["before"] == {"ends_at": "2026-12-01T00:00:00+00:00"}
    assert newest["detail"]["after"]["ends_at"] == "2026-12-08T00:00:00+00:00"
    assert oldest["action"] == "category.create"
    assert oldest["entity_type"] == "category"
    assert oldest["reason"] is None
    assert set(newest) >= {"id", "at", "entity_type", "entity_id"}


async def test_the_audit_log_filters(api: httpx.AsyncClient, db: AsyncSession) -> None:
    boss_id, boss = await account(api, db, "boss@example.com", role="admin", name="Boss")
    helper_id, _ = await account(api, db, "help@example.com", role="support", name="Helper")
    target = "6a1e0f52-0000-4000-8000-0000000000aa"
    await _entry(
        db,
        actor_id=uuid.UUID(boss_id),
        action="user.update",
        entity_type="user",
        entity_id=target,
        at=LONG_AGO,
    )
    await _entry(
        db,
        actor_id=uuid.UUID(helper_id),
        action="support_callback.take",
        entity_type="support_callback",
        entity_id="7",
    )
    await _entry(
        db, actor_id=uuid.UUID(boss_id), action="plan.publish", entity_type="plan", entity_id="p1"
    )

    async def actions(**query: Any) -> list[str]:
        answer = await api.get("/admin/audit", params=query, headers=boss)
        assert answer.status_code == 200, answer.text
        return [e["action"] for e in answer.json()["items"]]

    assert await actions(actor_id=helper_id) == ["support_callback.take"]
    assert await actions(action="plan.publish") == ["plan.publish"]
    assert await actions(entity_type="user", entity_id=target) == ["user.update"]
    assert await actions(until=(LONG_AGO + timedelta(days=1)).isoformat()) == ["user.update"]
    assert await actions(since=(LONG_AGO + timedelta(days=1)).isoformat()) == [
        "plan.publish",
        "support_callback.take",
    ]
    assert await actions(limit=1, offset=1) == ["support_callback.take"]
    assert await actions(action="nothing.like.this") == []


async def test_only_admins_read_the_audit_log_and_its_filters_are_bounded(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, boss = await account(api, db, "boss@example.com", role="admin")
    _, helper = await account(api, db, "help@example.com", role="support")
    _, buyer = await account(api, db, "buyer@example.com")
    for who in (helper, buyer):
        refused = await api.get("/admin/audit", headers=who)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await api.get("/admin/audit")).status_code == 401

    too_long = await api.get("/admin/audit", params={"action": "x" * 65}, headers=boss)
    assert too_long.status_code == 422
    backwards = await api.get(
        "/admin/audit",
        params={"since": "2026-05-02T00:00:00Z", "until": "2026-05-01T00:00:00Z"},
        headers=boss,
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "until"
    naive = await api.get("/admin/audit", params={"since": "2026-05-02T00:00:00"}, headers=boss)
    assert naive.status_code == 422  # a time without its zone is ambiguous
    assert (await api.get("/admin/audit", params={"limit": 201}, headers=boss)).status_code == 422


# --- payments -----------------------------------------------------------------------------------


async def _orders(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, Any]:
    """A customer (Asha) with three orders: one paid by card and partly refunded, one failed,
    one waiting for payment; and a second customer (Ravi) with one paid order."""
    _, boss = await account(api, db, "boss@example.com", role="admin")
    await add_categories(api, boss, "plumbing", "electrical")
    plan = await add_active_plan(api, boss)
    asha = await customer(api, "asha@example.com")
    await db.execute(update(User).where(User.id == asha.id).values(name="Asha Rao"))
    await db.commit()
    ravi = await customer(api, "ravi@example.com")

    await add_to_cart(api, asha, plan["id"])
    refunded = await place_order(db, asha, key="asha-1")
    await pay(db, refunded)
    refund = await refunds.request_refund(
        db, order_id=refunded.id, amount_minor=100_00, reason="one visit missed", actor_id=None
    )
    await refunds.record_refund_result(
        db,
        refund_id=refund.id,
        result=RefundResult(provider_refund_id="rfnd_1", amount_minor=100_00, status="succeeded"),
    )
    await db.commit()

    await add_to_cart(api, asha, plan["id"])
    failed = await place_order(db, asha, key="asha-2", request_hash="hash-2")
    await settlement.mark_order_failed(db, order_id=failed.id, reason="card declined", status=None)
    await db.commit()
    waiting = await place_order(db, asha, key="asha-3", request_hash="hash-3")

    await add_to_cart(api, ravi, plan["id"])
    ravis = await place_order(db, ravi, key="ravi-1")
    await pay(db, ravis)
    return {
        "boss": boss,
        "asha": asha,
        "refunded": refunded,
        "failed": failed,
        "waiting": waiting,
        "ravis": ravis,
    }


async def test_payments_show_each_orders_payment_with_its_refunds(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    made = await _orders(api, db)
    listed = await api.get("/admin/payments", headers=made["boss"])
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 4
    by_order = {p["order_id"]: p for p in page["items"]}

    refunded: Order = made["refunded"]
    paid = by_order[str(refunded.id)]
    assert paid["status"] == "partially_refunded"
    assert paid["order_status"] == "completed"
    assert paid["customer"]["email"] == "asha@example.com"
    assert paid["customer"]["name"] == "Asha Rao"
    assert paid["amount_minor"] == refunded.total_minor == 299_900
    assert paid["currency"] == "INR" and paid["minor_units"] == 2
    assert paid["provider"] == "sandbox"
    assert paid["method"] == "card"
    assert paid["refunded_minor"] == 100_00
    assert paid["refundable_minor"] == 299_900 - 100_00
    assert paid["receipt_number"] is not None
    assert paid["workflow_id"] == f"checkout:{refunded.id}"
    assert paid["workflow_url"] == (
        f"http://localhost:8233/namespaces/default/workflows/checkout:{refunded.id}"
    )

    failed = by_order[str(made["failed"].id)]
    assert failed["status"] == "failed"
    assert failed["failure_reason"] == "card declined"
    assert failed["method"] is None
    assert failed["refundable_minor"] == 0
    assert by_order[str(made["waiting"].id)]["status"] == "pending"
    assert by_order[str(made["ravis"].id)]["status"] == "succeeded"


async def test_payments_filter_by_status_method_period_and_search(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    made = await _orders(api, db)
    boss = made["boss"]

    async def orders(**query: Any) -> set[str]:
        answer = await api.get("/admin/payments", params=query, headers=boss)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["total"] == len(body["items"])
        return {p["order_id"] for p in body["items"]}

    refunded, failed = str(made["refunded"].id), str(made["failed"].id)
    waiting, ravis = str(made["waiting"].id), str(made["ravis"].id)
    assert await orders(status="partially_refunded") == {refunded}
    assert await orders(status="succeeded") == {ravis}
    assert await orders(status="failed") == {failed}
    assert await orders(status="pending") == {waiting}
    assert await orders(status="refunded") == set()
    assert await orders(method="card") == {refunded, ravis}
    assert await orders(method="upi") == set()
    assert await orders(provider="sandbox") == {refunded, failed, waiting, ravis}
    assert await orders(provider="stripe") == set()
    assert await orders(q="asha@") == {refunded, failed, waiting}
    assert await orders(q="asha rao") == {refunded, failed, waiting}
    assert await orders(q="%") == set()  # a wildcard is searched for as itself
    assert await orders(q=ravis) == {ravis}
    assert await orders(q=str(made["asha"].id)) == {refunded, failed, waiting}
    assert await orders(q=made["ravis"].provider_ref) == {ravis}
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert await orders(since=later) == set()
    assert await orders(until=later, status="succeeded") == {ravis}

    window = await api.get("/admin/payments", params={"limit": 2}, headers=boss)
    assert window.json()["total"] == 4 and len(window.json()["items"]) == 2


async def test_support_reads_payments_customers_do_not(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, helper = await account(api, db, "help@example.com", role="support")
    _, buyer = await account(api, db, "buyer@example.com")
    _, fixer = await account(api, db, "fixer@example.com", role="technician")
    assert (await api.get("/admin/payments", headers=helper)).status_code == 200
    for who in (buyer, fixer):
        assert (await api.get("/admin/payments", headers=who)).status_code == 403
    for query in ({"status": "paid"}, {"method": "cash"}, {"q": "x" * 101}, {"offset": 100_001}):
        bad = await api.get("/admin/payments", params=query, headers=helper)
        assert bad.status_code == 422, query
