"""Payment providers against what a payer or an operator would notice.

Stripe and Razorpay run their real SDKs against local fakes (tests/support/fakes) that record every
request, so the assertions are about what actually went over the wire: amounts, currencies,
idempotency keys, and that a retried call never charges or refunds twice. Webhooks are signed with
each provider's real scheme. The sandbox runs on the test PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, NotFound
from core.settings import Settings
from domain.payments import (
    InvalidSignature,
    PaymentRequest,
    PaymentState,
    ProviderDeclined,
    SavedMethod,
)
from providers.payments import payment_provider
from providers.payments import sandbox as sandbox_module
from providers.payments.razorpay import RazorpayProvider
from providers.payments.sandbox import SandboxProvider
from providers.payments.sandbox_models import SandboxPayment, SandboxRefund
from providers.payments.stripe import StripeProvider
from tests.conftest import count_rows, make_settings
from tests.support.fakes.razorpay_server import FakeRazorpay
from tests.support.fakes.stripe_server import FakeStripe

# The Stripe SDK's httpx client posts raw bytes with `data=`, which httpx deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def payment_request(**overrides: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "reference": "order-1",
        "amount_minor": 149_900,
        "currency": "INR",
        "description": "HomePlans order order-1",
        "customer_email": "asha@example.com",
    }
    values.update(overrides)
    return PaymentRequest(**values)


# --- fixtures -----------------------------------------------------------------------------------


def razorpay_settings(fake: FakeRazorpay, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "payments_provider": "razorpay",
        "razorpay_key_id": fake.key_id,
        "razorpay_key_secret": fake.key_secret,
        "razorpay_webhook_secret": fake.webhook_secret,
        "razorpay_base_url": fake.url,
    }
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
def sandbox(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncSession
) -> SandboxProvider:
    provider = payment_provider(settings, sessions=sessions)
    assert isinstance(provider, SandboxProvider)
    return provider


def test_settings_choose_the_provider(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    stripe_provider: StripeProvider,
    razorpay_provider: RazorpayProvider,
) -> None:
    assert payment_provider(settings, sessions=sessions).name == "sandbox"
    assert stripe_provider.name == "stripe"
    assert razorpay_provider.name == "razorpay"
    with pytest.raises(ValueError, match="needs database sessions"):
        payment_provider(settings)


# --- Stripe -------------------------------------------------------------------------------------


async def test_stripe_session_sends_amount_currency_and_key_and_a_retry_creates_nothing(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    request = payment_request()
    first = await stripe_provider.create_session(request, idempotency_key="order:o1:session")
    again = await stripe_provider.create_session(request, idempotency_key="order:o1:session")

    assert again == first
    assert len(stripe_fake.payment_intents) == 1  # one PaymentIntent: nobody can pay twice
    creates = stripe_fake.requests_to("POST", "/v1/payment_intents")
    assert [r.idempotency_key for r in creates] == ["order:o1:session", "order:o1:session"]
    assert [r.replayed for r in creates] == [False, True]
    sent = creates[0].params
    assert sent["amount"] == "149900"
    assert sent["currency"] == "inr"
    assert sent["automatic_payment_methods"] == {"enabled": "true"}
    assert sent["metadata"] == {"order_id": "order-1"}
    assert sent["receipt_email"] == "asha@example.com"
    assert "customer" not in sent and "setup_future_usage" not in sent

    intent = stripe_fake.intent(first.provider_ref)
    assert first.provider == "stripe"
    assert first.client_secret == intent["client_secret"]
    assert (first.amount_minor, first.currency) == (149_900, "INR")


async def test_stripe_key_reused_for_another_amount_is_refused(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    await stripe_provider.create_session(payment_request(), idempotency_key="order:o1:session")
    with pytest.raises(ProviderDeclined, match="same parameters"):
        await stripe_provider.create_session(
            payment_request(amount_minor=99_900), idempotency_key="order:o1:session"
        )
    assert len(stripe_fake.payment_intents) == 1


async def test_stripe_fetch_maps_what_the_customer_did(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    session = await stripe_provider.create_session(payment_request(), idempotency_key="k1")
    ref = session.provider_ref

    status = await stripe_provider.fetch_payment(ref)
    assert (status.state, status.failure_reason, status.payment_id) == (
        PaymentState.pending,
        None,
        None,
    )

    stripe_fake.require_action(ref)  # 3-D Secure pending
    assert (await stripe_provider.fetch_payment(ref)).state == PaymentState.pending

    stripe_fake.decline(ref, "Your card has insufficient funds.")
    status = await stripe_provider.fetch_payment(ref)
    assert status.state == PaymentState.failed
    assert status.failure_reason == "Your card has insufficient funds."

    stripe_fake.process(ref)
    assert (await stripe_provider.fetch_payment(ref)).state == PaymentState.processing

    charge = stripe_fake.succeed(ref)
    status = await stripe_provider.fetch_payment(ref)
    assert status.state == PaymentState.succeeded
    assert (status.payment_id, status.method) == (charge, "card")
    assert (status.amount_minor, status.currency) == (149_900, "INR")
    assert status.saved_method is None  # no customer, nothing kept for renewals
    fetches = stripe_fake.requests_to("GET", f"/v1/payment_intents/{ref}")
    assert fetches[-1].params == {"expand": ["payment_method"]}


async def test_stripe_saves_the_card_on_the_customer_for_renewals(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    customer = await stripe_provider.ensure_customer(
        "user-1", "asha@example.com", idempotency_key="user:u1:customer"
    )
    again = await stripe_provider.ensure_customer(
        "user-1", "asha@example.com", idempotency_key="user:u1:customer"
    )
    assert again == customer and len(stripe_fake.customers) == 1
    assert stripe_fake.customers[customer]["metadata"] == {"user_id": "user-1"}

    session = await stripe_provider.create_session(
        payment_request(provider_customer_id=customer), idempotency_key="order:o1:session"
    )
    sent = stripe_fake.requests_to("POST", "/v1/payment_intents")[0].params
    assert (sent["customer"], sent["setup_future_usage"]) == (customer, "off_session")

    stripe_fake.succeed(
        session.provider_ref,
        {"brand": "mastercard", "last4": "4444", "exp_month": 3, "exp_year": 2031},
    )
    status = await stripe_provider.fetch_payment(session.provider_ref)
    assert status.saved_method == SavedMethod(
        provider_customer_id=customer,
        provider_method_id=stripe_fake.intent(session.provider_ref)["payment_method"],
        kind="card",
        brand="mastercard",
        last4="4444",
        exp_month=3,
        exp_year=2031,
    )


async def test_stripe_cancel_stops_a_session_but_never_loses_a_payment(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    unpaid = await stripe_provider.create_session(payment_request(), idempotency_key="o1")
    status = await stripe_provider.cancel_session(unpaid.provider_ref, idempotency_key="o1:cancel")
    assert status.state == PaymentState.cancelled
    again = await stripe_provider.cancel_session(unpaid.provider_ref, idempotency_key="o1:cancel")
    assert again.state == PaymentState.cancelled
    cancels = stripe_fake.requests_to("POST", f"/v1/payment_intents/{unpaid.provider_ref}/cancel")
    assert [r.idempotency_key for r in cancels] == ["o1:cancel", "o1:cancel"]
    assert cancels[0].params == {"cancellation_reason": "abandoned"}

    paid = await stripe_provider.create_session(
        payment_request(reference="order-2"), idempotency_key="o2"
    )
    charge = stripe_fake.succeed(paid.provider_ref)  # the customer paid just before expiry
    status = await stripe_provider.cancel_session(paid.provider_ref, idempotency_key="o2:cancel")
    assert (status.state, status.payment_id) == (PaymentState.succeeded, charge)
    assert stripe_fake.intent(paid.provider_ref)["status"] == "succeeded"

    settling = await stripe_provider.create_session(
        payment_request(reference="order-3"), idempotency_key="o3"
    )
    stripe_fake.process(settling.provider_ref)
    status = await stripe_provider.cancel_session(
        settling.provider_ref, idempotency_key="o3:cancel"
    )
    assert status.state == PaymentState.processing


async def test_stripe_refunds_partly_then_fully_once_per_key(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    session = await stripe_provider.create_session(payment_request(), idempotency_key="o1")
    stripe_fake.succeed(session.provider_ref)
    paid = await stripe_provider.fetch_payment(session.provider_ref)
    assert paid.payment_id is not None

    part = await stripe_provider.refund(
        paid.payment_id,
        amount_minor=50_000,
        currency="INR",
        idempotency_key="refund:r1",
        reason="visit not needed",
    )
    retried = await stripe_provider.refund(
        paid.payment_id,
        amount_minor=50_000,
        currency="INR",
        idempotency_key="refund:r1",
        reason="visit not needed",
    )
    assert retried == part
    assert (part.amount_minor, part.status) == (50_000, "succeeded")
    assert len(stripe_fake.refunds) == 1  # the customer is refunded once
    sent = stripe_fake.requests_to("POST", "/v1/refunds")
    assert [r.idempotency_key for r in sent] == ["refund:r1", "refund:r1"]
    assert sent[0].params == {
        "amount": "50000",
        "charge": paid.payment_id,
        "metadata": {"reason": "visit not needed"},
    }

    rest = await stripe_provider.refund(
        paid.payment_id, amount_minor=99_900, currency="INR", idempotency_key="refund:r2"
    )
    assert rest.amount_minor == 99_900
    with pytest.raises(ProviderDeclined, match="greater than unrefunded"):
        await stripe_provider.refund(
            paid.payment_id, amount_minor=1, currency="INR", idempotency_key="refund:r3"
        )
    # A refund by PaymentIntent id (what fetch reports when there is no charge id) works too.
    other = await stripe_provider.create_session(
        payment_request(reference="order-2"), idempotency_key="o2"
    )
    stripe_fake.succeed(other.provider_ref)
    by_intent = await stripe_provider.refund(
        other.provider_ref, amount_minor=100, currency="INR", idempotency_key="refund:r4"
    )
    assert stripe_fake.refunds[by_intent.provider_refund_id]["payment_intent"] == (
        other.provider_ref
    )


def _intent_object(pi_id: str = "pi_123") -> dict[str, Any]:
    return {
        "id": pi_id,
        "object": "payment_intent",
        "status": "succeeded",
        "metadata": {"order_id": "order-1"},
    }


def test_stripe_signed_webhook_parses(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    body, headers = stripe_fake.webhook("payment_intent.succeeded", _intent_object())
    event = stripe_provider.parse_webhook(headers, body)
    assert event.provider == "stripe"
    assert event.event_id == json.loads(body)["id"]
    assert event.event_type == "payment_intent.succeeded"
    assert (event.provider_ref, event.reference) == ("pi_123", "order-1")

    # Header names as a framework hands them over (lower case); a charge event names its PI.
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_123", "metadata": {}}
    body, headers = stripe_fake.webhook("charge.refunded", charge)
    lowered = {name.lower(): value for name, value in headers.items()}
    event = stripe_provider.parse_webhook(lowered, body)
    assert (event.provider_ref, event.reference) == ("pi_123", None)


def test_stripe_webhook_with_a_bad_stale_or_tampered_signature_is_refused(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    obj = _intent_object()
    body, headers = stripe_fake.webhook("payment_intent.succeeded", obj, secret="whsec_other")
    with pytest.raises(InvalidSignature):
        stripe_provider.parse_webhook(headers, body)

    stale = int(time.time()) - 600  # older than Stripe's 300 s tolerance: a replay
    body, headers = stripe_fake.webhook("payment_intent.succeeded", obj, timestamp=stale)
    with pytest.raises(InvalidSignature):
        stripe_provider.parse_webhook(headers, body)

    body, headers = stripe_fake.webhook("payment_intent.succeeded", obj)
    with pytest.raises(InvalidSignature):
        stripe_provider.parse_webhook(headers, body.replace(b"order-1", b"order-9"))
    with pytest.raises(InvalidSignature):
        stripe_provider.parse_webhook({}, body)
    assert stripe_provider.parse_webhook(headers, body).reference == "order-1"


def test_stripe_client_confirmation_names_the_intent(stripe_provider: StripeProvider) -> None:
    assert stripe_provider.verify_client_confirmation("pi_1", {}) == "pi_1"
    assert stripe_provider.verify_client_confirmation("pi_1", {"payment_intent": "pi_1"}) == "pi_1"
    with pytest.raises(InvalidSignature):
        stripe_provider.verify_client_confirmation("pi_1", {"payment_intent": "pi_2"})


# --- Razorpay -----------------------------------------------------------------------------------


async def test_razorpay_order_carries_amount_currency_and_receipt_and_a_retry_creates_nothing(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    first = await razorpay_provider.create_session(
        payment_request(), idempotency_key="order:o1:session"
    )
    again = await razorpay_provider.create_session(
        payment_request(), idempotency_key="order:o1:session"
    )

    assert again == first
    assert len(razorpay_fake.orders) == 1
    creates = razorpay_fake.requests_to("POST", "/v1/orders")
    assert len(creates) == 1
    assert creates[0].params == {
        "amount": 149_900,  # paise
        "currency": "INR",
        "receipt": "order-1",
        "notes": {"order_id": "order-1", "idempotency_key": "order:o1:session"},
        "payment_capture": 1,
    }
    lookups = razorpay_fake.requests_to("GET", "/v1/orders")
    assert [r.params["receipt"] for r in lookups] == ["order-1", "order-1"]
    assert first.provider == "razorpay"
    assert first.key_id == razorpay_fake.key_id
    assert first.provider_ref in razorpay_fake.orders
    assert (first.amount_minor, first.currency) == (149_900, "INR")


async def test_razorpay_keys_tell_attempts_apart(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    first = await razorpay_provider.create_session(payment_request(), idempotency_key="o1:a")
    second = await razorpay_provider.create_session(payment_request(), idempotency_key="o1:b")
    assert first.provider_ref != second.provider_ref  # same order id, a new attempt
    assert (
        await razorpay_provider.create_session(payment_request(), idempotency_key="o1:a")
    ).provider_ref == first.provider_ref
    with pytest.raises(ProviderDeclined, match="different payment"):
        await razorpay_provider.create_session(
            payment_request(amount_minor=99_900), idempotency_key="o1:a"
        )
    assert len(razorpay_fake.orders) == 2

    # A reference longer than Razorpay's 40-character receipt still finds its order again.
    long_ref = "order-" + "x" * 60
    one = await razorpay_provider.create_session(
        payment_request(reference=long_ref), idempotency_key="long"
    )
    two = await razorpay_provider.create_session(
        payment_request(reference=long_ref), idempotency_key="long"
    )
    assert one == two
    order = razorpay_fake.order(one.provider_ref)
    assert len(order["receipt"]) <= 40
    assert order["notes"]["order_id"] == long_ref


async def test_razorpay_refuses_wrong_credentials(razorpay_fake: FakeRazorpay) -> None:
    provider = payment_provider(razorpay_settings(razorpay_fake, razorpay_key_secret="wrong"))
    with pytest.raises(ProviderDeclined, match="api key provided is invalid"):
        await provider.create_session(payment_request(), idempotency_key="o1")
    assert razorpay_fake.orders == {}


async def test_razorpay_fetch_maps_the_orders_payments(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    session = await razorpay_provider.create_session(payment_request(), idempotency_key="o1")
    ref = session.provider_ref
    assert (await razorpay_provider.fetch_payment(ref)).state == PaymentState.pending

    razorpay_fake.fail(ref, "Payment was cancelled by the customer at the bank page")
    status = await razorpay_provider.fetch_payment(ref)
    assert status.state == PaymentState.failed
    assert status.failure_reason == "Payment was cancelled by the customer at the bank page"

    payment_id = razorpay_fake.pay(ref, method="upi")  # a retry on Checkout succeeds
    status = await razorpay_provider.fetch_payment(ref)
    assert status.state == PaymentState.succeeded
    assert (status.payment_id, status.method) == (payment_id, "upi")
    assert (status.amount_minor, status.currency) == (149_900, "INR")
    assert status.failure_reason is None and status.saved_method is None
    assert razorpay_fake.payments[payment_id]["captured"]  # auto-capture asked at creation

    other = await razorpay_provider.create_session(
        payment_request(reference="order-2"), idempotency_key="o2"
    )
    authorized = razorpay_fake.authorize(other.provider_ref)
    status = await razorpay_provider.fetch_payment(other.provider_ref)
    assert (status.state, status.payment_id) == (PaymentState.processing, authorized)


async def test_razorpay_saved_card_token_is_reported(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    customer = await razorpay_provider.ensure_customer(
        "user-1", "asha@example.com", idempotency_key="user:u1:customer"
    )
    again = await razorpay_provider.ensure_customer(
        "user-1", "asha@example.com", idempotency_key="user:u1:customer"
    )
    assert customer is not None and again == customer and len(razorpay_fake.customers) == 1

    session = await razorpay_provider.create_session(payment_request(), idempotency_key="o1")
    razorpay_fake.pay(
        session.provider_ref,
        method="card",
        token_id="token_abc",
        customer_id=customer,
        card={"last4": "5555", "network": "MasterCard"},
    )
    status = await razorpay_provider.fetch_payment(session.provider_ref)
    assert status.method == "card"
    assert status.saved_method == SavedMethod(
        provider_customer_id=customer,
        provider_method_id="token_abc",
        kind="card",
        brand="MasterCard",
        last4="5555",
    )


async def test_razorpay_cancel_reports_our_view_but_never_loses_a_payment(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    unpaid = await razorpay_provider.create_session(payment_request(), idempotency_key="o1")
    razorpay_fake.fail(unpaid.provider_ref, "Card declined")
    status = await razorpay_provider.cancel_session(unpaid.provider_ref, idempotency_key="c1")
    assert status.state == PaymentState.cancelled
    assert status.failure_reason == "Card declined"

    paid = await razorpay_provider.create_session(
        payment_request(reference="order-2"), idempotency_key="o2"
    )
    payment_id = razorpay_fake.pay(paid.provider_ref)
    status = await razorpay_provider.cancel_session(paid.provider_ref, idempotency_key="c2")
    assert (status.state, status.payment_id) == (PaymentState.succeeded, payment_id)


async def test_razorpay_refunds_partly_then_fully_once_per_key(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    session = await razorpay_provider.create_session(payment_request(), idempotency_key="o1")
    payment_id = razorpay_fake.pay(session.provider_ref)

    part = await razorpay_provider.refund(
        payment_id,
        amount_minor=50_000,
        currency="INR",
        idempotency_key="refund:r1",
        reason="visit not needed",
    )
    retried = await razorpay_provider.refund(
        payment_id, amount_minor=50_000, currency="INR", idempotency_key="refund:r1"
    )
    assert retried == part
    assert (part.amount_minor, part.status) == (50_000, "succeeded")
    assert len(razorpay_fake.refunds) == 1  # the customer is refunded once
    sent = razorpay_fake.requests_to("POST", f"/v1/payments/{payment_id}/refund")
    assert len(sent) == 1
    assert sent[0].params == {
        "amount": 50_000,
        "speed": "normal",
        "notes": {"idempotency_key": "refund:r1", "reason": "visit not needed"},
    }

    with pytest.raises(ProviderDeclined, match="different refund"):
        await razorpay_provider.refund(
            payment_id, amount_minor=1_000, currency="INR", idempotency_key="refund:r1"
        )
    with pytest.raises(ProviderDeclined, match="not USD"):
        await razorpay_provider.refund(
            payment_id, amount_minor=1_000, currency="USD", idempotency_key="refund:usd"
        )
    rest = await razorpay_provider.refund(
        payment_id, amount_minor=99_900, currency="INR", idempotency_key="refund:r2"
    )
    assert rest.amount_minor == 99_900
    assert razorpay_fake.payments[payment_id]["refund_status"] == "full"
    with pytest.raises(ProviderDeclined, match="left to refund"):
        await razorpay_provider.refund(
            payment_id, amount_minor=1, currency="INR", idempotency_key="refund:r3"
        )
    assert len(razorpay_fake.refunds) == 2


async def test_razorpay_signed_webhook_parses(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    session = await razorpay_provider.create_session(payment_request(), idempotency_key="o1")
    payment_id = razorpay_fake.pay(session.provider_ref)

    body, headers = razorpay_fake.webhook("payment.captured", payment_id=payment_id)
    event = razorpay_provider.parse_webhook(headers, body)
    assert event.provider == "razorpay"
    assert event.event_id == headers["X-Razorpay-Event-Id"]
    assert event.event_type == "payment.captured"
    assert event.provider_ref == session.provider_ref

    body, headers = razorpay_fake.webhook(
        "order.paid", payment_id=payment_id, order_id=session.provider_ref
    )
    lowered = {name.lower(): value for name, value in headers.items()}
    event = razorpay_provider.parse_webhook(lowered, body)
    assert (event.provider_ref, event.reference) == (session.provider_ref, "order-1")


async def test_razorpay_webhook_with_a_bad_or_tampered_signature_is_refused(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    session = await razorpay_provider.create_session(payment_request(), idempotency_key="o1")
    payment_id = razorpay_fake.pay(session.provider_ref)

    body, headers = razorpay_fake.webhook("payment.captured", payment_id=payment_id, secret="x")
    with pytest.raises(InvalidSignature):
        razorpay_provider.parse_webhook(headers, body)

    body, headers = razorpay_fake.webhook("payment.captured", payment_id=payment_id)
    tampered = body.replace(b'"amount": 149900', b'"amount": 100')
    assert tampered != body
    with pytest.raises(InvalidSignature):
        razorpay_provider.parse_webhook(headers, tampered)
    without = {k: v for k, v in headers.items() if k != "X-Razorpay-Signature"}
    with pytest.raises(InvalidSignature):
        razorpay_provider.parse_webhook(without, body)
    with pytest.raises(InvalidSignature):
        razorpay_provider.parse_webhook(headers, b"\xff" + body)


def test_razorpay_client_confirmation(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    good = razorpay_fake.checkout_response("order_A", "pay_A")
    assert razorpay_provider.verify_client_confirmation("order_A", good) == "pay_A"

    forged = {**good, "razorpay_payment_id": "pay_B"}  # signature of another payment
    with pytest.raises(InvalidSignature):
        razorpay_provider.verify_client_confirmation("order_A", forged)
    with pytest.raises(InvalidSignature):  # a genuine response, but for another order
        razorpay_provider.verify_client_confirmation(
            "order_A", razorpay_fake.checkout_response("order_B", "pay_B")
        )
    with pytest.raises(InvalidSignature):
        razorpay_provider.verify_client_confirmation(
            "order_A", {"razorpay_order_id": "order_A", "razorpay_payment_id": "pay_A"}
        )


# --- sandbox ------------------------------------------------------------------------------------


async def test_sandbox_session_is_created_once_per_key(
    sandbox: SandboxProvider, settings: Settings, db: AsyncSession
) -> None:
    first, again = await asyncio.gather(
        sandbox.create_session(payment_request(), idempotency_key="order:o1:session"),
        sandbox.create_session(payment_request(), idempotency_key="order:o1:session"),
    )
    assert again == first
    assert await count_rows(db, SandboxPayment) == 1
    assert re.fullmatch(r"sbx_[A-Za-z0-9_-]{24}", first.provider_ref)
    # Stripe's shape; the retry above got the same one back.
    assert first.client_secret is not None
    assert re.fullmatch(rf"{first.provider_ref}_secret_[A-Za-z0-9_-]{{32}}", first.client_secret)
    assert first.approve_url == (
        f"{settings.public_base_url}/api/v1/sandbox/payments/{first.provider_ref}"
        f"#client_secret={first.client_secret}"
    )
    assert (first.provider, first.amount_minor, first.currency) == ("sandbox", 149_900, "INR")
    status = await sandbox.fetch_payment(first.provider_ref)
    assert status.state == PaymentState.pending

    with pytest.raises(ProviderDeclined, match="different payment"):
        await sandbox.create_session(
            payment_request(amount_minor=1), idempotency_key="order:o1:session"
        )


async def test_sandbox_approved_payment_cannot_flip(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    session = await sandbox.create_session(payment_request(), idempotency_key="o1")
    ref, secret = session.provider_ref, str(session.client_secret)
    await sandbox_module.approve(db, ref, client_secret=secret)
    await db.commit()

    status = await sandbox.fetch_payment(ref)
    assert (status.state, status.payment_id) == (PaymentState.succeeded, ref)
    again = await sandbox_module.approve(db, ref, client_secret=secret)
    assert again.state == PaymentState.succeeded  # no-op
    with pytest.raises(Conflict, match="approved"):
        await sandbox_module.decline(db, ref, "too late", client_secret=secret)
    await db.rollback()
    # Expiry right after the customer approved: the payment stands.
    cancelled = await sandbox.cancel_session(ref, idempotency_key="o1:cancel")
    assert cancelled.state == PaymentState.succeeded


async def test_sandbox_declined_payment_shows_its_reason(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    session = await sandbox.create_session(payment_request(), idempotency_key="o1")
    ref, secret = session.provider_ref, str(session.client_secret)
    await sandbox_module.decline(db, ref, "Insufficient funds", client_secret=secret)
    await db.commit()

    status = await sandbox.fetch_payment(ref)
    assert (status.state, status.failure_reason) == (PaymentState.failed, "Insufficient funds")
    with pytest.raises(Conflict, match="declined"):
        await sandbox_module.approve(db, ref, client_secret=secret)
    await db.rollback()
    assert (await sandbox.cancel_session(ref, idempotency_key="c")).state == PaymentState.failed


async def test_sandbox_cancelled_payment_cannot_be_paid(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    session = await sandbox.create_session(payment_request(), idempotency_key="o1")
    ref, secret = session.provider_ref, str(session.client_secret)
    assert (await sandbox.cancel_session(ref, idempotency_key="c")).state == PaymentState.cancelled
    assert (await sandbox.cancel_session(ref, idempotency_key="c")).state == PaymentState.cancelled
    with pytest.raises(Conflict, match="cancelled"):
        await sandbox_module.approve(db, ref, client_secret=secret)
    await db.rollback()
    with pytest.raises(Conflict, match="cancelled"):
        await sandbox_module.decline(db, ref, client_secret=secret)
    await db.rollback()
    assert (await sandbox.fetch_payment(ref)).state == PaymentState.cancelled


async def test_sandbox_unknown_session(sandbox: SandboxProvider, db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await sandbox_module.approve(db, "sbx_" + "a" * 24, client_secret="x")
    await db.rollback()
    with pytest.raises(NotFound):
        await sandbox_module.decline(db, "../../etc/passwd", client_secret="x")
    await db.rollback()
    assert await sandbox_module.get_payment(db, "sbx_" + "a" * 24) is None
    with pytest.raises(ProviderDeclined):
        await sandbox.fetch_payment("sbx_" + "a" * 24)


async def test_sandbox_acts_only_with_the_sessions_client_secret(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    """A wrong secret gets exactly the unknown session's answer, whatever state the session is in
    (no Conflict that would tell it was decided), and changes nothing."""
    session = await sandbox.create_session(payment_request(), idempotency_key="o1")
    other = await sandbox.create_session(payment_request(reference="o2"), idempotency_key="o2")
    ref, secret = session.provider_ref, str(session.client_secret)
    wrong_secrets = (
        "",
        "wrong",
        secret[:-1],
        secret.upper(),
        str(other.client_secret),
        "s\u00e9cret",
    )
    for wrong in wrong_secrets:
        with pytest.raises(NotFound, match=r"^No such sandbox payment$"):
            await sandbox_module.approve(db, ref, client_secret=wrong)
        await db.rollback()
        with pytest.raises(NotFound, match=r"^No such sandbox payment$"):
            await sandbox_module.decline(db, ref, client_secret=wrong)
        await db.rollback()
    assert (await sandbox.fetch_payment(ref)).state == PaymentState.pending

    await sandbox_module.decline(db, ref, client_secret=secret)
    await db.commit()
    with pytest.raises(NotFound):
        await sandbox_module.approve(db, ref, client_secret="wrong")
    await db.rollback()
    assert (await sandbox.fetch_payment(ref)).state == PaymentState.failed


async def test_sandbox_refunds_never_exceed_what_was_paid(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    session = await sandbox.create_session(payment_request(), idempotency_key="o1")
    ref = session.provider_ref
    with pytest.raises(ProviderDeclined, match="not paid"):
        await sandbox.refund(ref, amount_minor=100, currency="INR", idempotency_key="r0")
    await sandbox_module.approve(db, ref, client_secret=str(session.client_secret))
    await db.commit()
    payment_id = (await sandbox.fetch_payment(ref)).payment_id
    assert payment_id is not None

    part = await sandbox.refund(
        payment_id, amount_minor=50_000, currency="INR", idempotency_key="r1"
    )
    assert (
        await sandbox.refund(payment_id, amount_minor=50_000, currency="INR", idempotency_key="r1")
        == part
    )
    assert (part.amount_minor, part.status) == (50_000, "succeeded")
    with pytest.raises(ProviderDeclined, match="different refund"):
        await sandbox.refund(payment_id, amount_minor=10, currency="INR", idempotency_key="r1")
    with pytest.raises(ProviderDeclined, match="not USD"):
        await sandbox.refund(payment_id, amount_minor=10, currency="USD", idempotency_key="ru")

    # Two refunds of what is left, at once, under different keys: only one goes through.
    results = await asyncio.gather(
        sandbox.refund(payment_id, amount_minor=99_900, currency="INR", idempotency_key="r2"),
        sandbox.refund(payment_id, amount_minor=99_900, currency="INR", idempotency_key="r3"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ProviderDeclined", "RefundResult"]
    assert await count_rows(db, SandboxRefund) == 2
    with pytest.raises(ProviderDeclined, match="left to refund"):
        await sandbox.refund(payment_id, amount_minor=1, currency="INR", idempotency_key="r4")


def test_sandbox_has_no_webhooks_and_signs_no_confirmation(sandbox: SandboxProvider) -> None:
    with pytest.raises(InvalidSignature):
        sandbox.parse_webhook({"X-Anything": "1"}, b"{}")
    ref = "sbx_" + "b" * 24
    assert sandbox.verify_client_confirmation(ref, {}) == ref
    assert sandbox.verify_client_confirmation(ref, {"session_id": ref}) == ref
    with pytest.raises(InvalidSignature):
        sandbox.verify_client_confirmation(ref, {"session_id": "sbx_" + "c" * 24})
    with pytest.raises(InvalidSignature):
        sandbox.verify_client_confirmation("pi_123", {})
