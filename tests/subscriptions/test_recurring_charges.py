"""Automatic renewal: each provider charges the customer's saved method off-session.

Stripe and Razorpay run their real SDKs against the local fakes, so the assertions are about what
went over the wire (what was charged, on which method, under which key) and how many times the
customer was charged when the subscription activity retries. The sandbox runs on the test
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict
from core.settings import Settings
from domain.payments import (
    AUTHENTICATION_REQUIRED_REASON,
    PaymentRequest,
    PaymentState,
    ProviderDeclined,
    RecurringCharge,
    SavedMethod,
)
from providers.payments import payment_provider
from providers.payments import sandbox as sandbox_module
from providers.payments.razorpay import RazorpayProvider
from providers.payments.sandbox import SandboxProvider
from providers.payments.sandbox_models import SandboxPayment
from providers.payments.stripe import StripeProvider
from tests.conftest import bearer, count_rows, register
from tests.support.fakes.razorpay_server import FakeRazorpay
from tests.support.fakes.stripe_server import FakeStripe

# The Stripe SDK's httpx client posts raw bytes with `data=`, which httpx deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SUBSCRIPTION = uuid.UUID("8f9c1a52-3d4e-4b7a-9c21-5e6f7a8b9c0d")
KEY = f"sub:{SUBSCRIPTION}:period:2"  # what the subscription activity sends (~60 characters)
RETRY_KEY = f"{KEY}:retry:1"  # a dunning retry of the same renewal


def renewal(method_id: str, **overrides: Any) -> RecurringCharge:
    values: dict[str, Any] = {
        "reference": "6a1f0e2c-93b4-4d8e-a7f5-0c1d2e3f4a5b",  # the renewal order
        "amount_minor": 149_900,
        "currency": "INR",
        "description": "HomePlans renewal 6a1f0e2c",
        "provider_method_id": method_id,
        "customer_email": "asha@example.com",
        "customer_phone": "+919876543210",
    }
    values.update(overrides)
    return RecurringCharge(**values)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def sandbox(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], db: AsyncSession
) -> SandboxProvider:
    provider = payment_provider(settings, sessions=sessions)
    assert isinstance(provider, SandboxProvider)
    return provider


# --- Stripe -------------------------------------------------------------------------------------


async def _stripe_card(stripe_fake: FakeStripe, provider: StripeProvider) -> tuple[str, str]:
    """A customer with a card saved for renewals: (customer id, PaymentMethod id)."""
    customer = await provider.ensure_customer(
        "user-1", "asha@example.com", idempotency_key="customer:u1"
    )
    return customer, stripe_fake.save_card(customer, {"brand": "mastercard", "last4": "4444"})


async def test_stripe_renewal_charges_the_saved_card_off_session_once_per_key(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    customer, card = await _stripe_card(stripe_fake, stripe_provider)
    charge = renewal(card, provider_customer_id=customer)

    first = await stripe_provider.charge_saved_method(charge, idempotency_key=KEY)
    again = await stripe_provider.charge_saved_method(charge, idempotency_key=KEY)

    assert again == first
    charged = stripe_fake.off_session_charges()
    assert len(charged) == 1  # the retried activity did not charge the card a second time
    intent = charged[0]
    assert (first.state, first.provider_ref) == (PaymentState.succeeded, intent["id"])
    assert first.payment_id == intent["latest_charge"]
    assert (first.amount_minor, first.currency, first.method) == (149_900, "INR", "card")
    assert first.saved_method is None  # the card is saved already; nothing new to keep

    creates = stripe_fake.requests_to("POST", "/v1/payment_intents")
    assert [r.idempotency_key for r in creates] == [KEY, KEY]
    assert [r.replayed for r in creates] == [False, True]
    sent = creates[0].params
    assert (sent["customer"], sent["payment_method"]) == (customer, card)
    assert (sent["off_session"], sent["confirm"]) == ("true", "true")
    assert (sent["amount"], sent["currency"]) == ("149900", "inr")
    assert sent["metadata"] == {"order_id": charge.reference, "kind": "renewal"}
    assert sent["description"] == "HomePlans renewal 6a1f0e2c"

    fetched = await stripe_provider.fetch_payment(first.provider_ref)
    assert (fetched.state, fetched.payment_id) == (PaymentState.succeeded, first.payment_id)


async def test_stripe_declined_renewal_is_an_answer_and_a_retry_gets_the_same_one(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    customer, card = await _stripe_card(stripe_fake, stripe_provider)
    charge = renewal(card, provider_customer_id=customer)
    stripe_fake.next_off_session(card, "card_declined")

    declined = await stripe_provider.charge_saved_method(charge, idempotency_key=KEY)
    assert declined.state == PaymentState.failed
    assert declined.failure_reason == "Your card was declined."
    intent = stripe_fake.intent(declined.provider_ref)
    assert intent["status"] == "requires_payment_method"
    assert (declined.payment_id, intent["latest_charge"]) == (None, None)  # nothing was taken

    # The activity retried after a lost reply: Stripe replays the 402, no second attempt.
    assert await stripe_provider.charge_saved_method(charge, idempotency_key=KEY) == declined
    assert len(stripe_fake.off_session_charges()) == 1
    fetched = await stripe_provider.fetch_payment(declined.provider_ref)
    assert (fetched.state, fetched.failure_reason) == (PaymentState.failed, declined.failure_reason)

    # Dunning tries again later under its own key: a new attempt, and this time it goes through.
    retried = await stripe_provider.charge_saved_method(charge, idempotency_key=RETRY_KEY)
    assert retried.state == PaymentState.succeeded
    assert retried.provider_ref != declined.provider_ref
    outcomes = [pi["status"] for pi in stripe_fake.off_session_charges()]
    assert outcomes == ["requires_payment_method", "succeeded"]  # charged once in all


async def test_stripe_renewal_the_bank_wants_authenticated_tells_the_customer_to_use_the_app(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    customer, card = await _stripe_card(stripe_fake, stripe_provider)
    stripe_fake.next_off_session(card, "authentication_required")

    status = await stripe_provider.charge_saved_method(
        renewal(card, provider_customer_id=customer), idempotency_key=KEY
    )

    assert status.state == PaymentState.failed
    assert status.failure_reason == AUTHENTICATION_REQUIRED_REASON
    assert "confirm" in status.failure_reason and "app" in status.failure_reason
    assert status.provider_ref == stripe_fake.off_session_charges()[0]["id"]
    # Asking Stripe again later gives the customer the same words, not Stripe's.
    fetched = await stripe_provider.fetch_payment(status.provider_ref)
    assert fetched.failure_reason == AUTHENTICATION_REQUIRED_REASON


async def test_stripe_renewal_that_can_never_work_is_refused(
    stripe_fake: FakeStripe, stripe_provider: StripeProvider
) -> None:
    customer, _ = await _stripe_card(stripe_fake, stripe_provider)
    with pytest.raises(ProviderDeclined, match="No such PaymentMethod"):
        await stripe_provider.charge_saved_method(
            renewal("pm_gone", provider_customer_id=customer), idempotency_key=KEY
        )
    with pytest.raises(ProviderDeclined, match="customer"):
        await stripe_provider.charge_saved_method(renewal("pm_any"), idempotency_key="k2")
    assert stripe_fake.off_session_charges() == []


# --- Razorpay -----------------------------------------------------------------------------------


async def _razorpay_token(fake: FakeRazorpay, provider: RazorpayProvider) -> tuple[str, str]:
    """A customer with a card token confirmed for recurring debits: (customer id, token id)."""
    customer = await provider.ensure_customer(
        "user-1", "asha@example.com", idempotency_key="customer:u1"
    )
    assert customer is not None
    return customer, fake.save_token(customer, card={"last4": "5555", "network": "MasterCard"})


async def test_razorpay_renewal_debits_the_token_once_and_settles_later(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    customer, token = await _razorpay_token(razorpay_fake, razorpay_provider)
    charge = renewal(token, provider_customer_id=customer)

    first = await razorpay_provider.charge_saved_method(charge, idempotency_key=KEY)
    again = await razorpay_provider.charge_saved_method(charge, idempotency_key=KEY)

    debits = razorpay_fake.recurring_payments()
    assert len(debits) == 1 and len(razorpay_fake.orders) == 1  # the retry debited nothing more
    assert (first.state, first.payment_id) == (PaymentState.processing, debits[0]["id"])
    assert again == first
    assert first.provider_ref == debits[0]["order_id"]  # the caller asks about the order
    assert (first.amount_minor, first.currency) == (149_900, "INR")

    orders = razorpay_fake.requests_to("POST", "/v1/orders")
    assert len(orders) == 1
    assert orders[0].params == {
        "amount": 149_900,
        "currency": "INR",
        "receipt": charge.reference,
        "notes": {"order_id": charge.reference, "idempotency_key": KEY, "kind": "renewal"},
        "payment_capture": 1,
    }
    sent = razorpay_fake.requests_to("POST", "/v1/payments/create/recurring")
    assert len(sent) == 1
    assert sent[0].params == {
        "email": "asha@example.com",
        "contact": "+919876543210",
        "amount": 149_900,
        "currency": "INR",
        "order_id": first.provider_ref,
        "customer_id": customer,
        "token": token,
        "recurring": 1,
        "description": "HomePlans renewal 6a1f0e2c",
        "notes": {"order_id": charge.reference, "idempotency_key": KEY},
    }

    # Before the debit: still processing. Then Razorpay debits the card.
    assert (await razorpay_provider.fetch_payment(first.provider_ref)).state == (
        PaymentState.processing
    )
    razorpay_fake.capture_recurring(first.payment_id or "")
    paid = await razorpay_provider.fetch_payment(first.provider_ref)
    assert (paid.state, paid.payment_id) == (PaymentState.succeeded, first.payment_id)
    assert paid.saved_method == SavedMethod(
        provider_customer_id=customer,
        provider_method_id=token,
        kind="card",
        brand="MasterCard",
        last4="5555",
    )
    # A retry arriving after the debit answers with it and debits nothing more.
    late = await razorpay_provider.charge_saved_method(charge, idempotency_key=KEY)
    assert (late.state, late.payment_id) == (PaymentState.succeeded, first.payment_id)
    assert len(razorpay_fake.recurring_payments()) == 1


async def test_razorpay_renewal_that_fails_later_gives_the_reason_and_dunning_tries_anew(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    customer, token = await _razorpay_token(razorpay_fake, razorpay_provider)
    charge = renewal(token, provider_customer_id=customer)
    started = await razorpay_provider.charge_saved_method(charge, idempotency_key=KEY)
    assert started.state == PaymentState.processing

    razorpay_fake.fail_recurring(started.payment_id or "", "Insufficient balance in the account")
    failed = await razorpay_provider.fetch_payment(started.provider_ref)
    assert failed.state == PaymentState.failed
    assert failed.failure_reason == "Insufficient balance in the account"

    retried = await razorpay_provider.charge_saved_method(charge, idempotency_key=RETRY_KEY)
    assert retried.state == PaymentState.processing
    assert retried.provider_ref != started.provider_ref  # a new order for the new attempt
    assert len(razorpay_fake.recurring_payments()) == 2


async def test_razorpay_renewal_the_bank_refuses_at_once_is_an_answer(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    customer, token = await _razorpay_token(razorpay_fake, razorpay_provider)
    charge = renewal(token, provider_customer_id=customer)
    razorpay_fake.decline_next_recurring(token, "Payment declined by the issuing bank")

    declined = await razorpay_provider.charge_saved_method(charge, idempotency_key=KEY)
    assert declined.state == PaymentState.failed
    assert declined.failure_reason == "Payment declined by the issuing bank"
    assert declined.provider_ref in razorpay_fake.orders

    assert await razorpay_provider.charge_saved_method(charge, idempotency_key=KEY) == declined
    assert len(razorpay_fake.recurring_payments()) == 1


async def test_razorpay_renewal_that_can_never_work_is_refused(
    razorpay_fake: FakeRazorpay, razorpay_provider: RazorpayProvider
) -> None:
    customer, token = await _razorpay_token(razorpay_fake, razorpay_provider)
    other = razorpay_fake.save_token(customer)
    razorpay_fake.tokens[other]["customer_id"] = "cust_someone_else"
    with pytest.raises(ProviderDeclined, match="token"):
        await razorpay_provider.charge_saved_method(
            renewal(other, provider_customer_id=customer), idempotency_key=KEY
        )
    with pytest.raises(ProviderDeclined, match="email and phone"):
        await razorpay_provider.charge_saved_method(
            renewal(token, provider_customer_id=customer, customer_phone=None),
            idempotency_key="k2",
        )
    assert razorpay_fake.recurring_payments() == []
    assert len(razorpay_fake.orders) == 1  # the refused token's; none for the missing phone


# --- sandbox ------------------------------------------------------------------------------------


async def _approved_purchase(sandbox: SandboxProvider, db: AsyncSession) -> str:
    """A checkout approved on the sandbox page; returns the method token it saved."""
    session = await sandbox.create_session(
        PaymentRequest(
            reference="order-1", amount_minor=299_900, currency="INR", description="HomePlans"
        ),
        idempotency_key="order:o1:session",
    )
    await sandbox_module.approve(db, session.provider_ref, client_secret=str(session.client_secret))
    await db.commit()
    status = await sandbox.fetch_payment(session.provider_ref)
    assert status.saved_method is not None
    return status.saved_method.provider_method_id


async def test_sandbox_approved_payment_saves_a_card_for_renewals(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    pending = await sandbox.create_session(
        PaymentRequest(reference="o0", amount_minor=100, currency="INR", description="x"),
        idempotency_key="o0",
    )
    assert (await sandbox.fetch_payment(pending.provider_ref)).saved_method is None  # not paid

    token = await _approved_purchase(sandbox, db)
    assert re.fullmatch(r"sbx_pm_[0-9a-f]{24}", token)
    row = await db.execute(select(SandboxPayment).where(SandboxPayment.reference == "order-1"))
    status = await sandbox.fetch_payment(row.scalar_one().id)
    assert status.saved_method == SavedMethod(
        provider_customer_id=None,
        provider_method_id=token,  # the same token each time it is asked
        kind="card",
        brand="sandbox",
        last4="4242",
    )

    unsaved = await sandbox.create_session(
        PaymentRequest(
            reference="o2", amount_minor=100, currency="INR", description="x", save_method=False
        ),
        idempotency_key="o2",
    )
    await sandbox_module.approve(db, unsaved.provider_ref, client_secret=str(unsaved.client_secret))
    await db.commit()
    assert (await sandbox.fetch_payment(unsaved.provider_ref)).saved_method is None


async def test_sandbox_renewal_charges_the_saved_card_once_per_key(
    sandbox: SandboxProvider, db: AsyncSession
) -> None:
    token = await _approved_purchase(sandbox, db)
    charge = renewal(token)

    first, again = await asyncio.gather(
        sandbox.charge_saved_method(charge, idempotency_key=KEY),
        sandbox.charge_saved_method(charge, idempotency_key=KEY),
    )

    assert again == first
    assert (first.state, first.payment_id) == (PaymentState.succeeded, first.provider_ref)
    assert (first.amount_minor, first.currency, first.saved_method) == (149_900, "INR", None)
    row = await db.get(SandboxPayment, first.provider_ref)
    assert row is not None
    assert (row.reference, row.amount_minor, row.currency) == (charge.reference, 149_900, "INR")
    assert (row.idempotency_key, row.charged_method_id) == (KEY, token)
    assert await count_rows(db, SandboxPayment, SandboxPayment.reference == charge.reference) == 1
    assert (await sandbox.fetch_payment(first.provider_ref)).state == PaymentState.succeeded
    # What was charged off-session can be refunded like any payment.
    refund = await sandbox.refund(
        first.provider_ref, amount_minor=149_900, currency="INR", idempotency_key="r1"
    )
    assert refund.status == "succeeded"

    with pytest.raises(ProviderDeclined, match="different payment"):
        await sandbox.charge_saved_method(renewal(token, amount_minor=1_000), idempotency_key=KEY)
    with pytest.raises(ProviderDeclined, match="no sandbox payment method"):
        await sandbox.charge_saved_method(renewal("pm_1QabcDEF"), idempotency_key="k3")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("sbx_pm_decline", "Declined by the sandbox bank"),
        ("sbx_pm_decline_insufficient_funds", "Declined by the sandbox bank"),
        ("sbx_pm_auth", AUTHENTICATION_REQUIRED_REASON),
        ("sbx_pm_auth_3ds", AUTHENTICATION_REQUIRED_REASON),
    ],
)
async def test_sandbox_magic_tokens_fail_the_renewal(
    sandbox: SandboxProvider, db: AsyncSession, token: str, reason: str
) -> None:
    status = await sandbox.charge_saved_method(renewal(token), idempotency_key=KEY)
    assert (status.state, status.failure_reason, status.payment_id) == (
        PaymentState.failed,
        reason,
        None,
    )
    assert await sandbox.charge_saved_method(renewal(token), idempotency_key=KEY) == status
    assert await count_rows(db, SandboxPayment) == 1
    assert (await sandbox.fetch_payment(status.provider_ref)).failure_reason == reason
    # Decided as it was made: nobody can approve it on the sandbox page afterwards.
    row = await db.get(SandboxPayment, status.provider_ref)
    assert row is not None
    with pytest.raises(Conflict, match="declined"):
        await sandbox_module.approve(db, row.id, client_secret=row.client_secret)
    await db.rollback()


async def test_a_customer_saves_a_magic_sandbox_token_and_its_renewal_is_declined(
    api: httpx.AsyncClient, sandbox: SandboxProvider
) -> None:
    alice = bearer((await register(api, "alice@example.com", name="Alice"))["tokens"])
    saved = await api.post(
        "/me/payment-methods",
        headers=alice,
        json={"provider": "sandbox", "provider_method_id": "sbx_pm_decline_1", "kind": "card"},
    )
    assert saved.status_code == 201, saved.text

    status = await sandbox.charge_saved_method(renewal("sbx_pm_decline_1"), idempotency_key=KEY)
    assert (status.state, status.failure_reason) == (
        PaymentState.failed,
        "Declined by the sandbox bank",
    )
