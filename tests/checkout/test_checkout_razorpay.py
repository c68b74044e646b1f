"""Buying plans with Razorpay: the whole path through the API, the CheckoutWorkflow on a real
Temporal server and PostgreSQL, and the real `razorpay` SDK talking to a local fake Razorpay
(tests/support/fakes/razorpay_server.py) that records every request, plays the customer on Razorpay
Checkout and signs the handler response and webhooks with Razorpay's schemes.

What a customer or operator notices: the app's signed confirmation (or the webhook) completes the
order once Razorpay itself reports the payment captured, exactly once even when both arrive at the
same moment; anything that does not verify is refused and changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.notifications.models import Message
from domain.orders.models import LedgerEntry, WebhookEvent
from domain.subscriptions.models import Subscription
from tests.conftest import count_rows, rows_become
from tests.support.checkout_helpers import checkout, shop_with_cart, start_checkout, wait_for_order
from tests.support.fakes.razorpay_server import FakeRazorpay, hmac_hex
from tests.support.orders_helpers import Customer

# The API and worker here take payments through Razorpay (its local fake).
pytestmark = pytest.mark.payments("razorpay")

PROBLEM_JSON = "application/problem+json"


# --- helpers ------------------------------------------------------------------------------------


async def _confirm(
    api: httpx.AsyncClient, buyer: Customer, order_id: str, handler_response: dict[str, str]
) -> httpx.Response:
    return await api.post(
        f"/orders/{order_id}/confirm", json=handler_response, headers=buyer.headers
    )


async def _deliver(api: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await api.post("/webhooks/razorpay", content=body, headers=headers)


async def _activations(db: AsyncSession, order_id: str) -> tuple[int, int, int]:
    """(subscriptions, receipt messages, captured ledger entries) of the order."""
    oid = uuid.UUID(order_id)
    subscriptions = await count_rows(db, Subscription, Subscription.order_id == oid)
    return (
        subscriptions,
        # The receipt goes just after the settlement that made the subscription.
        await rows_become(
            db,
            subscriptions,
            Message,
            Message.kind == "order.receipt",
            Message.data["order_id"].astext == order_id,
        ),
        await count_rows(
            db, LedgerEntry, LedgerEntry.order_id == oid, LedgerEntry.kind == "captured"
        ),
    )


# --- tests --------------------------------------------------------------------------------------


async def test_buying_a_plan_with_razorpay_and_the_client_confirmation(
    api: httpx.AsyncClient, db: AsyncSession, razorpay_fake: FakeRazorpay
) -> None:
    buyer, plan = await shop_with_cart(api, db)
    started = await checkout(api, buyer)
    assert started.status_code == 201, started.text
    body = started.json()
    order_id = body["order"]["id"]
    payment = body["payment"]
    rzp_order = payment["provider_ref"]
    assert payment["provider"] == "razorpay"
    assert rzp_order.startswith("order_")
    assert payment["key_id"] == razorpay_fake.key_id
    assert (payment["amount_minor"], payment["currency"]) == (299900, "INR")

    creates = razorpay_fake.requests_to("POST", "/v1/orders")
    assert len(creates) == 1
    assert creates[0].params["amount"] == 299900
    assert creates[0].params["currency"] == "INR"
    assert creates[0].params["receipt"] == order_id
    assert creates[0].params["notes"]["order_id"] == order_id
    assert list(razorpay_fake.orders) == [rzp_order]

    # The customer pays with UPI on Razorpay Checkout (captured at once); the app gets the
    # handler response and sends it to us.
    payment_id = razorpay_fake.pay(rzp_order, "upi")
    confirmed = await _confirm(
        api, buyer, order_id, razorpay_fake.checkout_response(rzp_order, payment_id)
    )
    assert confirmed.status_code == 200, confirmed.text
    state = confirmed.json()
    assert state["order_id"] == order_id
    assert state["status"] == "completed"
    assert state["payment_state"] == "succeeded"
    assert state["receipt_number"] is not None
    assert len(state["subscription_ids"]) == 1

    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"
    assert order["receipt_number"] == state["receipt_number"]
    receipt = await api.get(f"/orders/{order_id}/receipt", headers=buyer.headers)
    assert receipt.status_code == 200
    assert str(order["receipt_number"]) in receipt.text

    subs = (
        (await db.execute(select(Subscription).where(Subscription.order_id == uuid.UUID(order_id))))
        .scalars()
        .all()
    )
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
    assert [str(s.plan_id) for s in subs] == [plan["id"]]
    assert len(captured) == 1
    assert (captured[0].provider, captured[0].provider_ref) == ("razorpay", rzp_order)
    assert captured[0].provider_payment_id == payment_id
    assert (captured[0].amount_minor, captured[0].currency) == (299900, "INR")
    assert captured[0].data.get("method") == "upi"
    assert await _activations(db, order_id) == (1, 1, 1)
    assert (await api.get("/cart", headers=buyer.headers)).json()["items"] == []
    assert len(razorpay_fake.requests_to("POST", "/v1/orders")) == 1


async def test_webhook_and_client_confirmation_at_the_same_moment_activate_once(
    api: httpx.AsyncClient, db: AsyncSession, razorpay_fake: FakeRazorpay
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, rzp_order = await start_checkout(api, buyer)
    payment_id = razorpay_fake.pay(rzp_order, "upi")
    webhook = razorpay_fake.webhook("payment.captured", payment_id=payment_id)
    handler_response = razorpay_fake.checkout_response(rzp_order, payment_id)

    delivered, confirmed = await asyncio.gather(
        _deliver(api, *webhook), _confirm(api, buyer, order_id, handler_response)
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json() == {"status": "accepted"}
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "completed"

    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"
    # Razorpay redelivers the webhook; the app retries its confirmation: still one activation.
    again, confirmed_again = await asyncio.gather(
        _deliver(api, *webhook), _confirm(api, buyer, order_id, handler_response)
    )
    assert again.json() == {"status": "duplicate"}
    assert confirmed_again.status_code == 200, confirmed_again.text
    assert confirmed_again.json()["status"] == "completed"
    assert confirmed_again.json()["receipt_number"] == order["receipt_number"]
    assert await _activations(db, order_id) == (1, 1, 1)
    assert await count_rows(db, WebhookEvent, WebhookEvent.provider_ref == rzp_order) == 1


async def test_confirmations_and_webhooks_that_do_not_verify_change_nothing(
    api: httpx.AsyncClient, db: AsyncSession, razorpay_fake: FakeRazorpay
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, rzp_order = await start_checkout(api, buyer)
    # Even with money captured at Razorpay, what does not verify moves nothing.
    payment_id = razorpay_fake.pay(rzp_order, "upi")
    genuine = razorpay_fake.checkout_response(rzp_order, payment_id)

    forged: list[dict[str, Any]] = [
        {
            **genuine,
            "razorpay_signature": hmac_hex("not-our-key-secret", f"{rzp_order}|{payment_id}"),
        },
        {**genuine, "razorpay_payment_id": "pay_someoneelse01"},
        razorpay_fake.checkout_response("order_anotherorder1", payment_id),
    ]
    for handler_response in forged:
        answer = await _confirm(api, buyer, order_id, handler_response)
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)
        assert "does not verify" in answer.json()["detail"], answer.json()

    body, headers = razorpay_fake.webhook("payment.captured", payment_id=payment_id)
    bad_webhooks = [
        (body, {**headers, "X-Razorpay-Signature": razorpay_fake.sign_webhook(body, "wrong")}),
        (body.replace(b'"captured"', b'"authorized"', 1), headers),
        (body, {k: v for k, v in headers.items() if k != "X-Razorpay-Signature"}),
    ]
    for delivery in bad_webhooks:
        answer = await _deliver(api, *delivery)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM_JSON)

    order = (await api.get(f"/orders/{order_id}", headers=buyer.headers)).json()
    assert order["status"] == "pending_payment"
    assert order["receipt_number"] is None
    state = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
    assert state["status"] == "awaiting_payment"
    assert state["payment_state"] is None  # nothing reached the workflow
    assert await count_rows(db, WebhookEvent) == 0
    assert await _activations(db, order_id) == (0, 0, 0)


async def test_ten_concurrent_checkouts_with_one_key_make_one_order_and_one_razorpay_order(
    api: httpx.AsyncClient, db: AsyncSession, razorpay_fake: FakeRazorpay
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    key = f"same-{uuid.uuid4()}"
    answers = await asyncio.gather(*(checkout(api, buyer, key) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    orders = {a.json()["order"]["id"] for a in answers}
    refs = {a.json()["payment"]["provider_ref"] for a in answers}
    assert len(orders) == 1
    assert len(refs) == 1
    (order_id,) = orders
    assert list(razorpay_fake.orders) == list(refs)
    creates = razorpay_fake.requests_to("POST", "/v1/orders")
    assert len(creates) == 1
    assert creates[0].params["receipt"] == order_id
    listed = (await api.get("/orders", headers=buyer.headers)).json()
    assert [o["id"] for o in listed["items"]] == [order_id]


async def test_an_authorised_but_uncaptured_payment_is_in_the_ledger_and_not_settled(
    api: httpx.AsyncClient, db: AsyncSession, razorpay_fake: FakeRazorpay
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    order_id, rzp_order = await start_checkout(api, buyer)
    # Razorpay holds the money but has not captured it (e.g. a capture delayed by the bank).
    payment_id = razorpay_fake.authorize(rzp_order, "card")
    handler_response = razorpay_fake.checkout_response(rzp_order, payment_id)
    confirmed = await _confirm(api, buyer, order_id, handler_response)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "awaiting_payment"
    assert confirmed.json()["payment_state"] == "processing"

    oid = uuid.UUID(order_id)
    kinds = (
        (await db.execute(select(LedgerEntry.kind).where(LedgerEntry.order_id == oid)))
        .scalars()
        .all()
    )
    await db.commit()
    assert sorted(kinds) == ["authorised", "created"]
    assert await _activations(db, order_id) == (0, 0, 0)
