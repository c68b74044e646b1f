"""Refunds through the API, RefundWorkflow on a real Temporal server and the real `stripe` SDK
against the local fake Stripe (tests/support/fakes/stripe_server.py), which records each refund
request with its Idempotency-Key.

What an admin notices: a refund of part of a paid order reaches Stripe once (even when the request
is sent again), lands in the ledger and the audit log under their name, and the API refuses what
cannot be refunded: more than is left, an unpaid order, or a customer asking.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from domain.audit.models import AuditEntry
from domain.contracts import refund_workflow_id
from domain.orders.models import LedgerEntry
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.checkout_helpers import buyer_with_cart, checkout, wait_for_order
from tests.support.fakes.stripe_server import FakeStripe
from tests.support.orders_helpers import Customer

# The Stripe SDK's httpx client posts raw bytes with `data=`, which httpx deprecates.
# The API and worker here take payments through Stripe (its local fake).
pytestmark = [
    pytest.mark.payments("stripe"),
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]

PROBLEM_JSON = "application/problem+json"


async def _paid_order(
    api: httpx.AsyncClient, buyer: Customer, stripe_fake: FakeStripe
) -> tuple[str, str]:
    """Check out the buyer's cart and pay it at Stripe: (order id, charge id), order completed."""
    started = await checkout(api, buyer)
    assert started.status_code == 201, started.text
    order_id = started.json()["order"]["id"]
    pi_id = started.json()["payment"]["provider_ref"]
    charge_id = stripe_fake.succeed(pi_id)
    body, headers = stripe_fake.webhook("payment_intent.succeeded", stripe_fake.intent(pi_id))
    delivered = await api.post("/webhooks/stripe", content=body, headers=headers)
    assert delivered.status_code == 200, delivered.text
    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"
    return order_id, charge_id


async def _refund(
    api: httpx.AsyncClient, who: dict[str, str], order_id: str, amount: int, key: str
) -> httpx.Response:
    return await api.post(
        f"/admin/orders/{order_id}/refunds",
        json={"amount_minor": amount, "reason": "one visit was not delivered"},
        headers={**who, "Idempotency-Key": key},
    )


async def _refund_settled(
    api: httpx.AsyncClient, admin: dict[str, str], order_id: str, refund_id: str
) -> dict[str, Any]:
    """The order as staff see it once the refund is no longer pending; bounded."""
    detail: dict[str, Any] = {}
    for _ in range(200):
        detail = (await api.get(f"/admin/orders/{order_id}", headers=admin)).json()
        refund = next(r for r in detail["refunds"] if r["id"] == refund_id)
        if refund["status"] != "pending":
            return detail
        await asyncio.sleep(0.05)
    raise AssertionError(f"refund {refund_id} stayed pending: {detail}")


async def test_an_admin_refunds_part_of_a_paid_order_once(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe, temporal: Client
) -> None:
    admin = await make_admin(api, db)
    admin_id = (await api.get("/me", headers=admin)).json()["id"]
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    buyer = await buyer_with_cart(api, plan, "buyer@example.com")
    order_id, charge_id = await _paid_order(api, buyer, stripe_fake)

    key = f"refund-{uuid.uuid4()}"
    first = await _refund(api, admin, order_id, 100_000, key)
    assert first.status_code == 202, first.text
    refund = first.json()
    refund_id = refund["id"]
    assert (refund["amount_minor"], refund["currency"]) == (100_000, "INR")
    assert refund["requested_by"] == admin_id

    detail = await _refund_settled(api, admin, order_id, refund_id)
    (settled,) = detail["refunds"]
    assert settled["status"] == "succeeded"
    assert settled["provider_refund_id"] in stripe_fake.refunds

    # Stripe got one refund of that amount against the charge, keyed by our refund id.
    (sent,) = stripe_fake.requests_to("POST", "/v1/refunds")
    assert sent.params["amount"] == "100000"
    assert sent.params["charge"] == charge_id
    assert sent.idempotency_key == f"refund:{refund_id}"
    (made,) = stripe_fake.refunds.values()
    assert made["amount"] == 100_000

    refunded = [e for e in detail["ledger"] if e["kind"] == "refunded"]
    assert len(refunded) == 1
    assert refunded[0]["amount_minor"] == 100_000
    assert refunded[0]["entry_key"] == f"refund:{refund_id}"
    assert refunded[0]["provider_payment_id"] == charge_id

    audit = (
        (await db.execute(select(AuditEntry).where(AuditEntry.action == "order.refund")))
        .scalars()
        .all()
    )
    await db.commit()
    assert len(audit) == 1
    assert str(audit[0].actor_id) == admin_id
    assert (audit[0].entity_type, audit[0].entity_id) == ("order", order_id)
    assert audit[0].after is not None and audit[0].after["amount_minor"] == 100_000

    # The admin's request is sent again (a retry after a lost answer): the same refund, and
    # nothing more reaches Stripe, now or once the retried request's work has run.
    again = await _refund(api, admin, order_id, 100_000, key)
    assert again.status_code == 202, again.text
    assert again.json()["id"] == refund_id
    await temporal.get_workflow_handle(refund_workflow_id(uuid.UUID(refund_id))).result()
    assert len(stripe_fake.requests_to("POST", "/v1/refunds")) == 1
    assert len(stripe_fake.refunds) == 1
    detail = (await api.get(f"/admin/orders/{order_id}", headers=admin)).json()
    assert len(detail["refunds"]) == 1
    assert len([e for e in detail["ledger"] if e["kind"] == "refunded"]) == 1
    ledger = (
        (
            await db.execute(
                select(LedgerEntry).where(
                    LedgerEntry.order_id == uuid.UUID(order_id), LedgerEntry.kind == "refunded"
                )
            )
        )
        .scalars()
        .all()
    )
    await db.commit()
    assert len(ledger) == 1
    audit_count = len(
        (await db.execute(select(AuditEntry).where(AuditEntry.action == "order.refund"))).all()
    )
    await db.commit()
    assert audit_count == 1

    # More than what is left (2,999.00 - 1,000.00 = 1,999.00) is refused, naming the field.
    too_much = await _refund(api, admin, order_id, 199_901, f"refund-{uuid.uuid4()}")
    assert too_much.status_code == 422, too_much.text
    assert too_much.headers["content-type"].startswith(PROBLEM_JSON)
    assert [e["field"] for e in too_much.json()["errors"]] == ["amount_minor"]
    assert "1,999.00" in too_much.json()["detail"]
    assert len(stripe_fake.requests_to("POST", "/v1/refunds")) == 1

    # A customer cannot refund, not even their own order.
    customer = await _refund(api, buyer.headers, order_id, 1_000, f"refund-{uuid.uuid4()}")
    assert customer.status_code == 403, customer.text

    # An order not paid yet cannot be refunded.
    other = await buyer_with_cart(api, plan, "other@example.com")
    pending = await checkout(api, other)
    assert pending.status_code == 201, pending.text
    pending_id = pending.json()["order"]["id"]
    refused = await _refund(api, admin, pending_id, 1_000, f"refund-{uuid.uuid4()}")
    assert refused.status_code == 409, refused.text
    assert "pending_payment" in refused.json()["detail"]

    final = (await api.get(f"/admin/orders/{order_id}", headers=admin)).json()
    assert [r["status"] for r in final["refunds"]] == ["succeeded"]
    assert len(stripe_fake.refunds) == 1
    assert (await api.get(f"/admin/orders/{pending_id}", headers=admin)).json()["refunds"] == []


async def test_concurrent_retries_of_one_refund_request_make_one_refund(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe, temporal: Client
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    buyer = await buyer_with_cart(api, plan, "buyer@example.com")
    order_id, _ = await _paid_order(api, buyer, stripe_fake)

    key = f"refund-{uuid.uuid4()}"
    answers = await asyncio.gather(*(_refund(api, admin, order_id, 50_000, key) for _ in range(3)))
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    detail = await _refund_settled(api, admin, order_id, answers[0].json()["id"])
    assert len(detail["refunds"]) == 1


async def test_a_refund_the_provider_refuses_is_recorded_failed_not_left_in_progress(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe, temporal: Client
) -> None:
    """The charge was refunded at Stripe directly (its dashboard): our refund is refused there,
    and says so, instead of reading "in progress" for ever."""
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    buyer = await buyer_with_cart(api, plan, "refused@example.com")
    order_id, _ = await _paid_order(api, buyer, stripe_fake)
    (pi_id,) = stripe_fake.payment_intents
    intent = stripe_fake.payment_intents[pi_id]
    stripe_fake.refunds["re_dashboard"] = {"amount": intent["amount"], "payment_intent": pi_id}

    asked = await _refund(api, admin, order_id, 100_000, f"refund-{uuid.uuid4()}")
    assert asked.status_code == 202, asked.text
    detail = await _refund_settled(api, admin, order_id, asked.json()["id"])
    (refused,) = detail["refunds"]
    assert refused["status"] == "failed"
    assert refused["failure_reason"].startswith("the provider refused the refund: ")
    assert "greater than unrefunded amount" in refused["failure_reason"]
    assert [e for e in detail["ledger"] if e["kind"] == "refunded"] == []
    mine = (await api.get(f"/orders/{order_id}", headers=buyer.headers)).json()
    assert mine["refunds"][0]["status"] == "failed" and mine["refunded_minor"] == 0
