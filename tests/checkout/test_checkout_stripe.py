"""Buying plans with Stripe: the whole path through the API, the CheckoutWorkflow on a real Temporal
server and PostgreSQL, and the real `stripe` SDK talking to a local fake Stripe
(tests/support/fakes/stripe_server.py) that records every request and signs webhooks with Stripe's
scheme.

What a customer or operator notices: the order completes once (one subscription, one receipt, one
captured ledger entry) only when Stripe itself says the PaymentIntent succeeded; webhooks are
verified, deduplicated, and never believed on their own.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.notifications.models import Message
from domain.orders.models import LedgerEntry, OrderStatusHistory, WebhookEvent
from domain.subscriptions.models import Subscription
from tests.conftest import count_rows, rows_become
from tests.support.checkout_helpers import checkout, shop_with_cart, start_checkout, wait_for_order
from tests.support.fakes.stripe_server import FakeStripe, sign
from tests.support.orders_helpers import Customer

# The Stripe SDK's httpx client posts raw bytes with `data=`, which httpx deprecates.
# The API and worker here take payments through Stripe (its local fake).
pytestmark = [
    pytest.mark.payments("stripe"),
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]

PROBLEM_JSON = "application/problem+json"


# --- helpers ------------------------------------------------------------------------------------


async def _deliver(api: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await api.post("/webhooks/stripe", content=body, headers=headers)


def _older_event(
    fake: FakeStripe, event_type: str, obj: dict[str, Any], age: int
) -> tuple[bytes, dict[str, str]]:
    """A correctly signed delivery (now) of an event Stripe created `age` seconds ago."""
    event = fake.event(event_type, obj)
    event["created"] = int(time.time()) - age
    body = json.dumps(event).encode()
    signature = sign(body, fake.webhook_secret, int(time.time()))
    return body, {"Content-Type": "application/json", "Stripe-Signature": signature}


async def _checked_state(
    api: httpx.AsyncClient, buyer: Customer, order_id: str, attempts: int = 200
) -> dict[str, Any]:
    """The checkout's live state once the workflow has asked Stripe at least once; bounded."""
    state: dict[str, Any] = {}
    for _ in range(attempts):
        state = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
        if state.get("payment_state") is not None:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the checkout of {order_id} never asked Stripe: {state}")


async def _checkout_status(
    api: httpx.AsyncClient, buyer: Customer, order_id: str, status: str, attempts: int = 200
) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for _ in range(attempts):
        state = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
        if state.get("status") == status:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the checkout of {order_id} never reached {status}: {state}")


# --- tests --------------------------------------------------------------------------------------


async def test_buying_a_plan_with_stripe_end_to_end(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe
) -> None:
    buyer, plan = await shop_with_cart(api, db)
    started = await checkout(api, buyer)
    assert started.status_code == 201, started.text
    body = started.json()
    order_id = body["order"]["id"]
    payment = body["payment"]
    pi_id = payment["provider_ref"]
    assert body["order"]["status"] == "pending_payment"
    assert payment["provider"] == "stripe"
    assert pi_id.startswith("pi_")
    assert payment["client_secret"] == stripe_fake.intent(pi_id)["client_secret"]
    assert payment["client_secret"].startswith(f"{pi_id}_secret_")
    assert (payment["amount_minor"], payment["currency"]) == (299900, "INR")

    creates = stripe_fake.requests_to("POST", "/v1/payment_intents")
    assert len(creates) == 1
    create = creates[0]
    assert create.params["amount"] == "299900"
    assert create.params["currency"] == "inr"
    assert create.params["metadata"] == {"order_id": order_id}
    assert create.idempotency_key == f"order:{order_id}:session"
    assert len(stripe_fake.payment_intents) == 1

    charge_id = stripe_fake.succeed(pi_id)
    delivered = await _deliver(
        api, *stripe_fake.webhook("payment_intent.succeeded", stripe_fake.intent(pi_id))
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json() == {"status": "accepted"}

    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"
    assert order["receipt_number"] is not None
    receipt = await api.get(f"/orders/{order_id}/receipt", headers=buyer.headers)
    assert receipt.status_code == 200
    assert str(order["receipt_number"]) in receipt.text

    subs = (
        (await db.execute(select(Subscription).where(Subscription.order_id == uuid.UUID(order_id))))
        .scalars()
        .all()
    )
    await db.commit()
    assert len(subs) == 1
    assert subs[0].status == "active"
    assert str(subs[0].plan_id) == plan["id"]

    captured = (
        (
            await db.execute(
                select(LedgerEntry).where(
                    LedgerEntry.order_id == uuid.UUID(order_id), LedgerEntry.kind == "captured"
                )
            )
        )
        .scalars()
        .all()
    )
    await db.commit()
    assert len(captured) == 1
    assert captured[0].provider == "stripe"
    assert captured[0].provider_ref == pi_id
    assert captured[0].provider_payment_id == charge_id
    assert captured[0].amount_minor == 299900
    assert captured[0].currency == "INR"
    assert await rows_become(db, 1, Message, Message.kind == "order.receipt") == 1
    assert (await api.get("/cart", headers=buyer.headers)).json()["items"] == []


async def test_redelivered_and_out_of_order_webhooks_activate_once(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, pi_id = await start_checkout(api, buyer)
    created_obj = stripe_fake.intent(pi_id)
    stripe_fake.succeed(pi_id)
    succeeded = stripe_fake.webhook("payment_intent.succeeded", stripe_fake.intent(pi_id))

    # Stripe retries a delivery it thinks was lost: the same event three times, at once.
    answers = await asyncio.gather(*(_deliver(api, *succeeded) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert sorted(a.json()["status"] for a in answers) == ["accepted", "duplicate", "duplicate"]

    # Then older events arrive late: processing and created, after succeeded.
    processing_obj = {**stripe_fake.intent(pi_id), "status": "processing", "latest_charge": None}
    late = [
        _older_event(stripe_fake, "payment_intent.processing", processing_obj, age=5),
        _older_event(stripe_fake, "payment_intent.created", created_obj, age=10),
    ]
    for delivery in late:
        answer = await _deliver(api, *delivery)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "accepted"

    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"

    # Redelivering any of them again changes nothing either.
    for delivery in (succeeded, *late):
        again = await _deliver(api, *delivery)
        assert again.status_code == 200
        assert again.json() == {"status": "duplicate"}

    state = await _checkout_status(api, buyer, order_id, "completed")
    assert state["receipt_number"] == order["receipt_number"]
    assert len(state["subscription_ids"]) == 1
    order = (await api.get(f"/orders/{order_id}", headers=buyer.headers)).json()
    assert order["status"] == "completed"
    oid = uuid.UUID(order_id)
    assert (
        await count_rows(
            db, LedgerEntry, LedgerEntry.order_id == oid, LedgerEntry.kind == "captured"
        )
        == 1
    )
    assert await count_rows(db, Subscription, Subscription.order_id == oid) == 1
    assert await rows_become(db, 1, Message, Message.kind == "order.receipt") == 1
    assert await count_rows(db, WebhookEvent, WebhookEvent.provider_ref == pi_id) == 3
    history = (
        await db.execute(
            select(OrderStatusHistory.to_status)
            .where(OrderStatusHistory.order_id == oid)
            .order_by(OrderStatusHistory.id)
        )
    ).scalars()
    assert list(history) == ["pending_payment", "paid", "completed"]
    await db.commit()


async def test_a_signed_webhook_alone_does_not_complete_the_order(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, pi_id = await start_checkout(api, buyer)
    # The event claims success, correctly signed; Stripe itself still waits for a payment method.
    claimed = {**stripe_fake.intent(pi_id), "status": "succeeded", "amount_received": 299900}
    answer = await _deliver(api, *stripe_fake.webhook("payment_intent.succeeded", claimed))
    assert answer.status_code == 200, answer.text
    assert stripe_fake.intent(pi_id)["status"] == "requires_payment_method"

    state = await _checked_state(api, buyer, order_id)
    assert state["payment_state"] == "pending"
    assert state["status"] == "awaiting_payment"
    assert state["receipt_number"] is None
    assert stripe_fake.requests_to("GET", f"/v1/payment_intents/{pi_id}")  # it did ask Stripe
    order = (await api.get(f"/orders/{order_id}", headers=buyer.headers)).json()
    assert order["status"] == "pending_payment"
    assert order["receipt_number"] is None
    oid = uuid.UUID(order_id)
    assert (
        await count_rows(
            db, LedgerEntry, LedgerEntry.order_id == oid, LedgerEntry.kind == "captured"
        )
        == 0
    )
    assert await count_rows(db, Subscription, Subscription.order_id == oid) == 0


async def test_webhooks_that_do_not_verify_are_refused_and_change_nothing(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, pi_id = await start_checkout(api, buyer)
    stripe_fake.succeed(pi_id)  # even a paid intent is not looked at on a bad delivery
    obj = stripe_fake.intent(pi_id)

    wrong_secret = stripe_fake.webhook("payment_intent.succeeded", obj, secret="whsec_not_ours")
    stale = stripe_fake.webhook("payment_intent.succeeded", obj, timestamp=int(time.time()) - 301)
    body, headers = stripe_fake.webhook("payment_intent.succeeded", obj)
    at = body.index(b'"amount": ') + len(b'"amount": ')
    tampered = (body[:at] + (b"1" if body[at : at + 1] != b"1" else b"2") + body[at + 1 :], headers)
    assert tampered[0] != body and len(tampered[0]) == len(body)

    for name, delivery in (
        ("bad signature", wrong_secret),
        ("stale", stale),
        ("tampered", tampered),
    ):
        answer = await _deliver(api, *delivery)
        assert answer.status_code == 400, (name, answer.text)
        assert answer.headers["content-type"].startswith(PROBLEM_JSON), name
        problem = answer.json()
        assert problem["status"] == 400
        assert "signature" in problem["detail"], (name, problem)

    unsigned = await api.post(
        "/webhooks/stripe", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 400

    assert await count_rows(db, WebhookEvent) == 0
    order = (await api.get(f"/orders/{order_id}", headers=buyer.headers)).json()
    assert order["status"] == "pending_payment"
    state = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
    assert state["status"] == "awaiting_payment"
    assert state["payment_state"] is None  # nothing nudged the workflow
    assert await count_rows(db, Subscription) == 0


async def test_a_declined_payment_fails_the_order_keeps_the_cart_and_cancels_the_intent(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, pi_id = await start_checkout(api, buyer)
    stripe_fake.decline(pi_id, message="Your card was declined.")
    answer = await _deliver(
        api, *stripe_fake.webhook("payment_intent.payment_failed", stripe_fake.intent(pi_id))
    )
    assert answer.status_code == 200, answer.text

    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "failed"
    assert order["failure_reason"] == "Your card was declined."
    assert order["receipt_number"] is None
    cart = (await api.get("/cart", headers=buyer.headers)).json()
    assert len(cart["items"]) == 1

    state = await _checkout_status(api, buyer, order_id, "failed")
    assert state["failure_reason"] == "Your card was declined."
    # The declined intent can no longer be paid: it was cancelled at Stripe, once, with our key.
    assert stripe_fake.intent(pi_id)["status"] == "canceled"
    cancels = stripe_fake.requests_to("POST", f"/v1/payment_intents/{pi_id}/cancel")
    assert [c.idempotency_key for c in cancels] == [f"order:{order_id}:cancel"]
    assert await count_rows(db, Subscription) == 0
    assert await count_rows(db, Message, Message.kind == "order.receipt") == 0


async def test_ten_concurrent_checkouts_with_one_key_make_one_order_and_one_intent(
    api: httpx.AsyncClient, db: AsyncSession, stripe_fake: FakeStripe
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    key = f"same-{uuid.uuid4()}"
    answers = await asyncio.gather(*(checkout(api, buyer, key) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    orders = {a.json()["order"]["id"] for a in answers}
    refs = {a.json()["payment"]["provider_ref"] for a in answers}
    secrets = {a.json()["payment"]["client_secret"] for a in answers}
    assert len(orders) == 1
    assert len(refs) == 1
    assert len(secrets) == 1
    (order_id,) = orders

    assert list(stripe_fake.payment_intents) == list(refs)
    creates = stripe_fake.requests_to("POST", "/v1/payment_intents")
    assert creates
    assert {c.idempotency_key for c in creates} == {f"order:{order_id}:session"}
    listed = (await api.get("/orders", headers=buyer.headers)).json()
    assert [o["id"] for o in listed["items"]] == [order_id]
