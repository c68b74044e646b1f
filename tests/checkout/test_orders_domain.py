"""The orders service as the checkout uses it: idempotent order creation (also under concurrency),
settlement that happens once, gap-free receipt numbers, refusals, refunds, receipts, and who may
read an order."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, InvalidField
from domain.accounts.models import PaymentMethod
from domain.audit.models import AuditEntry
from domain.catalog.models import PlanVersion
from domain.orders import receipts, refunds, settlement
from domain.orders import service as orders
from domain.orders.models import (
    CartItem,
    LedgerEntry,
    Order,
    OrderItem,
    OrderStatusHistory,
    Receipt,
    Refund,
)
from domain.payments import RefundResult
from domain.subscriptions.models import Subscription
from tests.conftest import count_rows
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin, price
from tests.support.orders_helpers import (
    Customer,
    add_address,
    add_to_cart,
    customer,
    open_session,
    paid,
    pay,
    place_order,
)


async def _shop(
    api: httpx.AsyncClient, db: AsyncSession, *, name: str | None = None
) -> tuple[dict[str, str], Customer, list[dict[str, Any]]]:
    """An admin, two plans on sale (tax inclusive and exclusive) and a customer with both in
    their cart."""
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    extra = {"name": name} if name else {}
    plans = [
        await add_active_plan(api, admin, "home-care", price=price(299900), **extra),
        await add_active_plan(
            api, admin, "pipes-only", price=price(100000, includes_tax=False, rate=500)
        ),
    ]
    asha = await customer(api)
    for plan in plans:
        await add_to_cart(api, asha, plan["id"])
    return admin, asha, plans


# --- placing an order ---------------------------------------------------------------------------


async def test_same_key_returns_the_same_order_and_another_request_is_a_conflict(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha, _ = await _shop(api, db)
    order = await place_order(db, asha, key="key-1", request_hash="hash-a")

    # Snapshot of the terms: 2,999.00 incl. 18 % and 1,000.00 + 5 %.
    assert [(i.plan_name, i.total_minor, i.tax_minor) for i in order.items] == [
        ("Home Care", 299900, 45747),
        ("Pipes Only", 105000, 5000),
    ]
    assert (order.total_minor, order.tax_minor, order.subtotal_minor) == (
        404900,
        50747,
        404900 - 50747,
    )
    assert order.status == "pending_payment" and order.currency == "INR"

    again, created = await orders.create_order_from_cart(
        db, user_id=asha.id, idempotency_key="key-1", request_hash="hash-a", provider="sandbox"
    )
    assert (again.id, created) == (order.id, False)
    with pytest.raises(Conflict, match="different request"):
        await orders.create_order_from_cart(
            db, user_id=asha.id, idempotency_key="key-1", request_hash="hash-b", provider="sandbox"
        )
    await db.rollback()

    assert await count_rows(db, Order) == 1
    # The cart is kept until the order is paid.
    assert await count_rows(db, CartItem) == 2


async def test_ten_concurrent_creates_with_one_key_make_one_order(
    api: httpx.AsyncClient, db: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, asha, _ = await _shop(api, db)

    async def attempt() -> tuple[uuid.UUID, bool]:
        async with sessions() as session:
            order, created = await orders.create_order_from_cart(
                session,
                user_id=asha.id,
                idempotency_key="same-key",
                request_hash="same-hash",
                provider="sandbox",
            )
            await session.commit()
            return order.id, created

    results = await asyncio.gather(*(attempt() for _ in range(10)))

    assert len({order_id for order_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert await count_rows(db, Order) == 1
    assert await count_rows(db, OrderItem) == 2
    assert await count_rows(db, OrderStatusHistory) == 1


# --- settling -----------------------------------------------------------------------------------


async def test_settling_twice_issues_one_receipt_and_subscriptions_once(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha, plans = await _shop(api, db)
    order = await open_session(db, await place_order(db, asha))
    # The ledger's `created` entry is written once however often the session is recorded.
    await open_session(db, order)

    first = await pay(db, order)
    second = await settlement.settle_paid_order(db, order_id=order.id, status=paid(order))
    await db.commit()

    assert first.newly_settled is True and second.newly_settled is False
    assert (second.receipt_number, second.subscription_ids) == (
        first.receipt_number,
        first.subscription_ids,
    )
    assert first.receipt_number == 1 and len(first.subscription_ids) == 2
    assert await count_rows(db, Receipt) == 1
    assert await count_rows(db, Subscription) == 2
    kinds = (await db.execute(select(LedgerEntry.kind).order_by(LedgerEntry.occurred_at))).scalars()
    assert sorted(kinds) == ["captured", "created"]

    settled = await orders.get_order(db, order_id=order.id, user_id=asha.id)
    assert settled.status == "completed" and settled.receipt_number == 1
    assert settled.paid_at is not None and settled.provider_payment_id == paid(order).payment_id
    history = (
        await db.execute(
            select(OrderStatusHistory.from_status, OrderStatusHistory.to_status)
            .where(OrderStatusHistory.order_id == order.id)
            .order_by(OrderStatusHistory.id)
        )
    ).all()
    assert [tuple(h) for h in history] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "completed"),
    ]
    subs = (await db.execute(select(Subscription).order_by(Subscription.visits_allowed))).scalars()
    for sub in subs:
        assert sub.status == "active" and sub.visits_used == 0 and sub.user_id == asha.id
        assert (sub.ends_at - sub.starts_at).days == 365 and sub.visits_allowed == 4
    versions = [uuid.UUID(p["current_version"]["id"]) for p in plans]
    sold = (
        await db.execute(select(PlanVersion.sold_at).where(PlanVersion.id.in_(versions)))
    ).scalars()
    assert all(at is not None for at in sold)
    methods = (await db.execute(select(PaymentMethod))).scalars().all()
    assert [(m.user_id, m.last4, m.is_default) for m in methods] == [(asha.id, "4242", True)]
    # What was bought left the cart.
    assert await count_rows(db, CartItem) == 0


async def test_receipt_numbers_are_sequential_without_gaps_after_a_rollback(
    api: httpx.AsyncClient, db: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, asha, _ = await _shop(api, db)
    first, second, third = [
        await open_session(db, await place_order(db, asha, key=f"key-{n}")) for n in range(3)
    ]

    assert (await pay(db, first)).receipt_number == 1
    async with sessions() as session:  # a settlement that fails after taking a number
        taken = await settlement.settle_paid_order(session, order_id=second.id, status=paid(second))
        assert taken.receipt_number == 2
        await session.rollback()
    assert await count_rows(db, Receipt, Receipt.order_id == second.id) == 0
    assert (await pay(db, third)).receipt_number == 2
    assert (await pay(db, second)).receipt_number == 3

    numbers = (await db.execute(select(Receipt.number).order_by(Receipt.number))).scalars()
    assert list(numbers) == [1, 2, 3]


async def test_a_payment_that_differs_from_the_order_is_not_settled(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha, _ = await _shop(api, db)
    order = await open_session(db, await place_order(db, asha))
    order_id = order.id  # the instance expires at each rollback below
    wrong_payments = [
        paid(order, amount_minor=order.total_minor - 1),
        paid(order, currency="USD"),
        paid(order, provider_ref="sbx_someone_else"),
        paid(order, state="processing"),
    ]

    for wrong in wrong_payments:
        with pytest.raises(Conflict):
            await settlement.settle_paid_order(db, order_id=order_id, status=wrong)
        await db.rollback()

    assert await count_rows(db, LedgerEntry, LedgerEntry.kind == "captured") == 0
    assert await count_rows(db, Receipt) == 0 and await count_rows(db, Subscription) == 0
    assert (await orders.get_order(db, order_id=order_id, user_id=None)).status == (
        "pending_payment"
    )


async def test_failed_and_expired_are_idempotent_and_a_completed_order_stays_completed(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha, _ = await _shop(api, db)
    failing = await open_session(db, await place_order(db, asha, key="key-1"))
    expiring = await open_session(db, await place_order(db, asha, key="key-2"))
    completed = await place_order(db, asha, key="key-3")

    for _ in range(2):
        await settlement.mark_order_failed(
            db, order_id=failing.id, reason="card declined", status=None
        )
        await settlement.mark_order_expired(db, order_id=expiring.id)
        await db.commit()
    # The first outcome stays.
    await settlement.mark_order_expired(db, order_id=failing.id)
    await db.commit()

    assert (await orders.get_order(db, order_id=failing.id, user_id=None)).status == "failed"
    assert (await orders.get_order(db, order_id=expiring.id, user_id=None)).status == "expired"
    assert await count_rows(db, LedgerEntry, LedgerEntry.kind == "failed") == 1
    assert await count_rows(db, LedgerEntry, LedgerEntry.kind == "cancelled") == 1

    # Money captured after expiry still settles: the customer paid.
    assert (await pay(db, expiring)).newly_settled is True

    await pay(db, completed)
    completed_id = completed.id
    with pytest.raises(Conflict, match="completed"):
        await settlement.mark_order_failed(db, order_id=completed_id, reason="late", status=None)
    await db.rollback()
    with pytest.raises(Conflict, match="completed"):
        await settlement.mark_order_expired(db, order_id=completed_id)
    await db.rollback()


async def test_plan_archived_after_ordering_still_settles_at_the_terms_bought(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin, asha, plans = await _shop(api, db)
    order = await place_order(db, asha)
    archived = await api.post(f"/admin/catalog/plans/{plans[0]['id']}/archive", headers=admin)
    assert archived.status_code == 200

    result = await pay(db, order)

    assert result.newly_settled and len(result.subscription_ids) == 2


async def test_a_version_replaced_while_the_order_awaits_payment_is_the_one_bought(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin, asha, plans = await _shop(api, db)
    order = await place_order(db, asha)
    bought = order.items[0].plan_version_id

    edit = await api.patch(
        f"/admin/catalog/plans/{plans[0]['id']}", json={"price": price(349900)}, headers=admin
    )
    assert edit.status_code == 200, edit.text

    result = await pay(db, order)
    sub = await db.get(Subscription, result.subscription_ids[0])
    assert sub is not None and sub.plan_version_id == bought


# --- refunds ------------------------------------------------------------------------------------


async def test_refunds_are_limited_to_what_is_left_and_recorded_once(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin_headers, asha, _ = await _shop(api, db)
    admin_id = uuid.UUID((await api.get("/me", headers=admin_headers)).json()["id"])
    order = await place_order(db, asha)
    order_id, total = order.id, order.total_minor  # the instance expires at each rollback
    with pytest.raises(Conflict, match="paid"):
        await refunds.request_refund(
            db, order_id=order_id, amount_minor=100, reason="goodwill", actor_id=admin_id
        )
    await db.rollback()
    await pay(db, await orders.get_order(db, order_id=order_id, user_id=None))

    with pytest.raises(InvalidField) as too_much:
        await refunds.request_refund(
            db,
            order_id=order_id,
            amount_minor=total + 1,
            reason="goodwill",
            actor_id=admin_id,
        )
    assert too_much.value.loc == ("amount_minor",)
    await db.rollback()

    first = await refunds.request_refund(
        db, order_id=order_id, amount_minor=100000, reason="visit missed", actor_id=admin_id
    )
    await db.commit()
    first_id = first.id
    # A pending refund counts: only the rest can be asked for.
    with pytest.raises(InvalidField, match="can be refunded"):
        await refunds.request_refund(
            db,
            order_id=order_id,
            amount_minor=total - 100000 + 1,
            reason="more",
            actor_id=admin_id,
        )
    await db.rollback()
    assert await refunds.refundable_amount(db, order_id=order_id) == total - 100000

    result = RefundResult(provider_refund_id="rf_1", amount_minor=100000, status="succeeded")
    for _ in range(2):
        done = await refunds.record_refund_result(db, refund_id=first_id, result=result)
        await db.commit()
    assert done.status == "succeeded" and done.provider_refund_id == "rf_1"
    refunded = (
        await db.execute(select(LedgerEntry).where(LedgerEntry.kind == "refunded"))
    ).scalars()
    assert [(e.entry_key, e.amount_minor) for e in refunded] == [(f"refund:{first_id}", 100000)]

    # A failed refund frees its amount again.
    second = await refunds.request_refund(
        db,
        order_id=order_id,
        amount_minor=total - 100000,
        reason="cancelled",
        actor_id=admin_id,
    )
    await refunds.record_refund_result(
        db,
        refund_id=second.id,
        result=RefundResult(provider_refund_id="rf_2", amount_minor=1, status="failed"),
    )
    await db.commit()
    assert await refunds.refundable_amount(db, order_id=order_id) == total - 100000
    assert await count_rows(db, Refund) == 2

    audit = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "order.refund"))
    ).scalars()
    assert {(a.actor_id, a.entity_id) for a in audit} == {(admin_id, str(order_id))}


# --- receipts and who may read an order -------------------------------------------------------


async def test_receipt_html_escapes_hostile_text(api: httpx.AsyncClient, db: AsyncSession) -> None:
    hostile = '<script>alert("x")</script> & Co'
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, price=price(299900), name=hostile)
    asha = await customer(api)
    evil_home = await add_address(api, asha.headers, line1="<img src=x onerror=alert(1)>")
    await add_to_cart(api, asha, plan["id"], address_id=uuid.UUID(evil_home["id"]))
    order = await place_order(db, asha)
    result = await pay(db, order)

    document = await receipts.receipt_document(db, order_id=order.id, user_id=asha.id)

    assert "<script>" not in document and "<img" not in document
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in document
    assert "&lt;img src=x onerror=alert(1)&gt;" in document
    assert f"Receipt {result.receipt_number}" in document
    assert "2,999.00 INR" in document and "457.47 INR" in document and "18%" in document


async def test_a_customer_reads_only_their_own_orders_and_receipts(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha, _ = await _shop(api, db)
    ravi = await customer(api, "ravi@example.com")
    order = await place_order(db, asha)
    pending = await place_order(db, asha, key="key-2")
    await pay(db, order)

    mine = await api.get(f"/orders/{order.id}", headers=asha.headers)
    receipt = await api.get(f"/orders/{order.id}/receipt", headers=asha.headers)
    listed = await api.get("/orders", headers=asha.headers)
    assert mine.status_code == 200 and mine.json()["status"] == "completed"
    assert receipt.status_code == 200 and receipt.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in receipt.headers["content-security-policy"]
    assert listed.json()["total"] == 2
    assert (await api.get(f"/orders/{pending.id}/receipt", headers=asha.headers)).status_code == 404

    for url in (f"/orders/{order.id}", f"/orders/{order.id}/receipt"):
        assert (await api.get(url, headers=ravi.headers)).status_code == 404
    assert (await api.get("/orders", headers=ravi.headers)).json()["items"] == []


async def test_staff_list_orders_and_the_ledger_with_filters(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin, asha, _ = await _shop(api, db)
    order = await place_order(db, asha)
    await place_order(db, asha, key="key-2")
    await pay(db, order)

    captured = await api.get("/admin/transactions", params={"kind": "captured"}, headers=admin)
    assert captured.status_code == 200, captured.text
    body = captured.json()
    assert body["total"] == 1 and body["items"][0]["order_id"] == str(order.id)
    by_order = await api.get(
        "/admin/transactions",
        params={"order_id": str(order.id), "provider": "sandbox", "since": "2000-01-01T00:00:00Z"},
        headers=admin,
    )
    assert sorted(e["kind"] for e in by_order.json()["items"]) == ["captured", "created"]
    future = await api.get(
        "/admin/transactions", params={"since": "2999-01-01T00:00:00Z"}, headers=admin
    )
    assert future.json()["total"] == 0

    completed = await api.get("/admin/orders", params={"status": "completed"}, headers=admin)
    assert [o["id"] for o in completed.json()["items"]] == [str(order.id)]
    detail = (await api.get(f"/admin/orders/{order.id}", headers=admin)).json()
    assert [h["to_status"] for h in detail["history"]] == [
        "pending_payment",
        "paid",
        "completed",
    ]
    assert len(detail["subscription_ids"]) == 2 and detail["user_id"] == str(asha.id)

    for url in ("/admin/transactions", "/admin/orders", f"/admin/orders/{order.id}"):
        assert (await api.get(url, headers=asha.headers)).status_code == 403
