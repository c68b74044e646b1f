"""Automatic renewal with the real providers: the `stripe` and `razorpay` SDKs against the local
fakes (tests/support/fakes/), the subscription's workflow on the time-skipping dev server at its
real lengths (a year's period, the 72-hour lead, Razorpay's 24-hour pre-debit notice, the hourly
check of a debit still settling, the dunning days).

What a customer or operator notices: what the provider was asked to charge, on which saved method,
under which idempotency key and how many times; for Razorpay, that the customer was told before
the debit was asked for; what the customer was told when it failed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain import timefmt
from domain.orders.models import LedgerEntry
from tests.conftest import make_settings, skipping_client
from tests.support.fakes import Recorded
from tests.support.fakes.razorpay_server import FakeRazorpay
from tests.support.fakes.stripe_server import FakeStripe
from tests.support.orders_helpers import Customer
from tests.support.subscription_helpers import (
    Bought,
    buy_plan,
    kinds,
    messages,
    pays_with_razorpay,
    pays_with_stripe,
    renewal_orders,
    running,
    subscription_until,
    timeline,
)

# The Stripe SDK's httpx client posts raw bytes with `data=`, which httpx deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SLACK = MINUTE
PRICE = 299_900  # the plan of add_active_plan: 2,999.00 INR with GST, each period
PHONE = "+919812345678"  # Razorpay's recurring debit needs the customer's contact


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
async def stripe_api(
    time_skipping_env: WorkflowEnvironment,
    database_url: str,
    stripe_fake: FakeStripe,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """`skipping_api` with PAYMENTS_PROVIDER=stripe, on the fake Stripe."""
    settings = make_settings(database_url=database_url, **stripe_fake.provider_settings())
    async with skipping_client(time_skipping_env, settings, sessions) as client:
        yield client


@pytest.fixture
async def razorpay_api(
    time_skipping_env: WorkflowEnvironment,
    database_url: str,
    razorpay_fake: FakeRazorpay,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """`skipping_api` with PAYMENTS_PROVIDER=razorpay, on the fake Razorpay."""
    settings = make_settings(database_url=database_url, **razorpay_fake.provider_settings())
    async with skipping_client(time_skipping_env, settings, sessions) as client:
        yield client


@pytest.fixture
async def stripe_bought(
    stripe_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    stripe_fake: FakeStripe,
) -> Bought:
    """A plan bought with Stripe at checkout (a card Stripe keeps on the customer)."""
    with time_skipping_env.with_time_skipping_disabled():
        purchase = await buy_plan(stripe_api, db, pay=pays_with_stripe(stripe_fake))
        await running(time_skipping_env.client, purchase.subscription_id)
    return purchase


# --- helpers ------------------------------------------------------------------------------------


async def _saved_method(api: httpx.AsyncClient, who: Customer, provider: str) -> dict[str, Any]:
    """The customer's one saved method of `provider` (as the app lists them)."""
    listed = await api.get("/me/payment-methods", headers=who.headers)
    assert listed.status_code == 200, listed.text
    (method,) = [m for m in listed.json() if m["provider"] == provider]
    return dict(method)


async def _auto_renew_on(
    api: httpx.AsyncClient, who: Customer, subscription_id: uuid.UUID, method_id: str
) -> dict[str, Any]:
    on = await api.put(
        f"/subscriptions/{subscription_id}/auto-renew",
        json={"enabled": True, "payment_method_id": method_id},
        headers=who.headers,
    )
    assert on.status_code == 200, on.text
    body: dict[str, Any] = on.json()
    assert body["auto_renew"] is True
    assert body["payment_method"]["id"] == method_id
    return body


def _off_session_creates(fake: FakeStripe) -> list[Recorded]:
    """The PaymentIntent creates that charge a saved card off-session (not the checkout's)."""
    return [
        r
        for r in fake.requests_to("POST", "/v1/payment_intents")
        if r.params.get("off_session") == "true"
    ]


def _debits_asked(fake: FakeRazorpay) -> list[Recorded]:
    """The recurring debits of a saved token Razorpay was asked for."""
    return fake.requests_to("POST", "/v1/payments/create/recurring")


async def _ledger(db: AsyncSession, order_id: uuid.UUID, kind: str) -> list[LedgerEntry]:
    rows = await db.execute(
        select(LedgerEntry).where(LedgerEntry.order_id == order_id, LedgerEntry.kind == kind)
    )
    out = list(rows.scalars().all())
    await db.commit()
    return out


async def _sent(db: AsyncSession, subscription_id: uuid.UUID, kind: str) -> list[str]:
    """The bodies of the messages of `kind` (`period:1:pre_debit`, ...) sent about it."""
    key = f"sub:{subscription_id}:{kind}"
    return [m.body for m in await messages(db, subscription_id) if m.idempotency_key == key]


# --- Stripe -------------------------------------------------------------------------------------


async def test_stripe_renewal_charges_the_saved_card_off_session_once_per_period(
    stripe_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    stripe_fake: FakeStripe,
    stripe_bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, stripe_bought.subscription_id, stripe_bought.buyer
    (checkout_pi,) = stripe_fake.payment_intents
    paid_at_checkout = stripe_fake.intent(checkout_pi)
    card, customer = paid_at_checkout["payment_method"], paid_at_checkout["customer"]
    assert card and customer
    method = await _saved_method(stripe_api, who, "stripe")
    assert (method["kind"], method["brand"], method["last4"]) == ("card", "visa", "4242")

    on = await _auto_renew_on(stripe_api, who, sid, method["id"])
    first_end = datetime.fromisoformat(on["ends_at"])
    mine = await subscription_until(stripe_api, who, sid, lambda s: s["next_charge_at"] is not None)
    assert datetime.fromisoformat(mine["next_charge_at"]) == first_end - 3 * DAY
    assert _off_session_creates(stripe_fake) == []

    handle = await running(env.client, sid)
    await env.fast_forward(handle, 365 * DAY + DAY)  # past the charge, into the second period

    mine = await subscription_until(stripe_api, who, sid, lambda s: s["period"] == 2)
    assert (mine["status"], mine["auto_renew"]) == ("active", True)
    assert [p["kind"] for p in mine["periods"]] == ["initial", "auto_renewal"]
    assert mine["periods"][1]["starts_at"] == mine["periods"][0]["ends_at"]

    # One off-session PaymentIntent, confirmed in the request, on the card kept at checkout,
    # under the key of the period it pays for.
    (create,) = _off_session_creates(stripe_fake)
    assert create.idempotency_key == f"sub:{sid}:period:2"
    assert not create.replayed
    sent = create.params
    assert (sent["off_session"], sent["confirm"]) == ("true", "true")
    assert (sent["customer"], sent["payment_method"]) == (customer, card)
    assert (sent["amount"], sent["currency"]) == (str(PRICE), "inr")
    (renewal,) = await renewal_orders(db, sid)
    assert (renewal.idempotency_key, renewal.status) == (f"sub:{sid}:period:2", "completed")
    assert sent["metadata"] == {"order_id": str(renewal.id), "kind": "renewal"}
    assert mine["periods"][1]["order_id"] == str(renewal.id)

    (intent,) = stripe_fake.off_session_charges()
    assert intent["status"] == "succeeded"
    (captured,) = await _ledger(db, renewal.id, "captured")
    assert (captured.provider, captured.provider_ref) == ("stripe", intent["id"])
    assert captured.provider_payment_id == intent["latest_charge"]
    assert (captured.amount_minor, captured.currency) == (PRICE, "INR")
    assert len(await _sent(db, sid, "period:2:renewed")) == 1

    await env.fast_forward(handle, 365 * DAY)  # through the next year, into the third period

    mine = await subscription_until(stripe_api, who, sid, lambda s: s["period"] == 3)
    assert mine["status"] == "active"
    # One charge per period: period 3's under its own key, nothing charged twice.
    creates = _off_session_creates(stripe_fake)
    assert [c.idempotency_key for c in creates] == [f"sub:{sid}:period:{n}" for n in (2, 3)]
    assert [c.replayed for c in creates] == [False, False]
    assert [(c.params["customer"], c.params["payment_method"]) for c in creates] == [
        (customer, card)
    ] * 2
    assert [pi["status"] for pi in stripe_fake.off_session_charges()] == ["succeeded"] * 2
    orders = await renewal_orders(db, sid)
    assert [o.idempotency_key for o in orders] == [f"sub:{sid}:period:{n}" for n in (2, 3)]
    assert [o.status for o in orders] == ["completed", "completed"]
    assert [len(await _ledger(db, o.id, "captured")) for o in orders] == [1, 1]


async def test_stripe_declined_renewal_is_past_due_then_retried_under_its_own_keys(
    stripe_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    stripe_fake: FakeStripe,
    stripe_bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, stripe_bought.subscription_id, stripe_bought.buyer
    (checkout_pi,) = stripe_fake.payment_intents
    card = stripe_fake.intent(checkout_pi)["payment_method"]
    for _ in range(4):  # the bank declines every charge of the card: the first and 3 retries
        stripe_fake.next_off_session(card, "card_declined")
    method = await _saved_method(stripe_api, who, "stripe")
    end = datetime.fromisoformat(
        (await _auto_renew_on(stripe_api, who, sid, method["id"]))["ends_at"]
    )

    handle = await running(env.client, sid)
    await env.fast_forward(handle, 362 * DAY + 12 * HOUR)  # half a day after the first charge

    mine = await subscription_until(stripe_api, who, sid, lambda s: s["status"] == "past_due")
    assert abs(datetime.fromisoformat(mine["next_charge_at"]) - (end - 2 * DAY)) < SLACK
    (first,) = _off_session_creates(stripe_fake)
    assert first.idempotency_key == f"sub:{sid}:period:2"
    (declined,) = await renewal_orders(db, sid)
    assert (declined.status, declined.failure_reason) == ("failed", "Your card was declined.")
    (notice,) = await _sent(db, sid, "period:1:renewal_failed:1")
    assert "Your card was declined." in notice
    assert f"We will try again on {timefmt.day(end - 2 * DAY)}." in notice

    await env.fast_forward(handle, 30 * DAY)
    assert (await handle.result()).status == "expired"

    # Each attempt is a new PaymentIntent under its own key (a dunning retry is not a replay of
    # the declined one), and none of them took any money.
    creates = _off_session_creates(stripe_fake)
    keys = [f"sub:{sid}:period:2"] + [f"sub:{sid}:period:2:retry:{k}" for k in (1, 2, 3)]
    assert [c.idempotency_key for c in creates] == keys
    assert [c.replayed for c in creates] == [False] * 4
    assert {c.params["payment_method"] for c in creates} == {card}
    charged = stripe_fake.off_session_charges()
    assert len({pi["id"] for pi in charged}) == 4
    assert {(pi["status"], pi["latest_charge"]) for pi in charged} == {
        ("requires_payment_method", None)
    }
    orders = await renewal_orders(db, sid)
    assert [o.idempotency_key for o in orders] == keys
    assert {(o.status, o.failure_reason) for o in orders} == {("failed", "Your card was declined.")}
    assert [len(await _ledger(db, o.id, "captured")) for o in orders] == [0] * 4

    for n in (1, 2, 3, 4):
        (body,) = await _sent(db, sid, f"period:1:renewal_failed:{n}")
        assert "Your card was declined." in body
    (last,) = await _sent(db, sid, "period:1:renewal_failed:4")
    assert "We will not try again." in last
    mine = await subscription_until(stripe_api, who, sid, lambda s: s["status"] == "expired")
    assert mine["period"] == 1


# --- Razorpay -----------------------------------------------------------------------------------


async def test_razorpay_renewal_sends_the_pre_debit_notice_first_and_settles_once_captured(
    razorpay_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    razorpay_fake: FakeRazorpay,
) -> None:
    env = time_skipping_env
    token = "token_HomePlans0001"
    with env.with_time_skipping_disabled():
        bought = await buy_plan(
            razorpay_api, db, phone=PHONE, pay=pays_with_razorpay(razorpay_fake, token)
        )
        await running(env.client, bought.subscription_id)
    sid, who = bought.subscription_id, bought.buyer
    customer = razorpay_fake.customer_of(str(who.id))
    (bought_order,) = razorpay_fake.orders  # the checkout's
    assert razorpay_fake.tokens[token]["customer_id"] == customer
    method = await _saved_method(razorpay_api, who, "razorpay")
    assert method["kind"] == "card"
    end = datetime.fromisoformat(
        (await _auto_renew_on(razorpay_api, who, sid, method["id"]))["ends_at"]
    )
    mine = await subscription_until(
        razorpay_api, who, sid, lambda s: s["next_charge_at"] is not None
    )
    charge_at = end - 3 * DAY
    assert datetime.fromisoformat(mine["next_charge_at"]) == charge_at

    # Just after the notice is due (24 hours before the charge): the customer has been told,
    # and nothing has been asked of Razorpay yet.
    handle = await running(env.client, sid)
    await env.fast_forward(handle, 361 * DAY + HOUR)
    (notice,) = await _sent(db, sid, "period:1:pre_debit")
    assert "2,999.00 INR" in notice and "Turn automatic renewal off" in notice
    assert "period:1:pre_debit" in kinds(await timeline(db, sid))
    assert _debits_asked(razorpay_fake) == []
    assert list(razorpay_fake.orders) == [bought_order]
    assert await renewal_orders(db, sid) == []

    # Past the charge: one recurring debit of the saved token, on an order of its own for the
    # renewal's amount; Razorpay settles it later, so nothing is renewed yet.
    await env.fast_forward(handle, 23 * HOUR + 30 * MINUTE)
    (request,) = _debits_asked(razorpay_fake)
    (renewal,) = await renewal_orders(db, sid)
    assert renewal.idempotency_key == f"sub:{sid}:period:2"
    rzp_order = request.params["order_id"]
    assert rzp_order != bought_order
    assert razorpay_fake.order(rzp_order)["amount"] == PRICE
    assert razorpay_fake.order(rzp_order)["receipt"] == str(renewal.id)
    assert razorpay_fake.order(rzp_order)["notes"]["idempotency_key"] == f"sub:{sid}:period:2"
    sent = request.params
    assert (sent["token"], sent["customer_id"], sent["recurring"]) == (token, customer, 1)
    assert (sent["amount"], sent["currency"]) == (PRICE, "INR")
    assert (sent["email"], sent["contact"]) == ("holder@example.com", PHONE)
    assert sent["notes"]["idempotency_key"] == f"sub:{sid}:period:2"
    (debit,) = razorpay_fake.recurring_payments()
    assert debit["status"] == "created"
    assert renewal.status == "pending_payment"

    # The workflow asks again every hour; while Razorpay has not debited, nothing changes.
    await env.fast_forward(handle, 2 * HOUR)
    assert razorpay_fake.requests_to("GET", f"/v1/orders/{rzp_order}")  # it did ask
    (renewal,) = await renewal_orders(db, sid)
    assert renewal.status == "pending_payment"
    mine = (await razorpay_api.get(f"/subscriptions/{sid}", headers=who.headers)).json()
    assert (mine["status"], mine["period"], mine["renewed_until"]) == ("active", 1, None)

    # Razorpay debits the card: the next hourly check settles the renewal.
    razorpay_fake.capture_recurring(debit["id"])
    await env.fast_forward(handle, HOUR)
    mine = await subscription_until(
        razorpay_api, who, sid, lambda s: s["renewed_until"] is not None
    )
    assert datetime.fromisoformat(mine["renewed_until"]) == end + 365 * DAY
    (renewal,) = await renewal_orders(db, sid)
    assert renewal.status == "completed"
    (captured,) = await _ledger(db, renewal.id, "captured")
    assert (captured.provider, captured.provider_ref) == ("razorpay", rzp_order)
    assert (captured.provider_payment_id, captured.amount_minor) == (debit["id"], PRICE)

    await env.fast_forward(handle, 3 * DAY)  # the period rolls over
    mine = await subscription_until(razorpay_api, who, sid, lambda s: s["period"] == 2)
    assert mine["status"] == "active"
    assert [p["kind"] for p in mine["periods"]] == ["initial", "auto_renewal"]
    assert mine["periods"][1]["order_id"] == str(renewal.id)
    assert len(_debits_asked(razorpay_fake)) == 1  # debited once for the period
    assert len(await _sent(db, sid, "period:2:renewed")) == 1


async def test_razorpay_auto_renewal_is_refused_without_a_phone_to_debit(
    razorpay_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    razorpay_fake: FakeRazorpay,
) -> None:
    """Razorpay debits a saved token only for a customer with an email and a phone: without a
    phone, turning automatic renewal on is refused with the reason, before any debit is tried."""
    env = time_skipping_env
    with env.with_time_skipping_disabled():
        bought = await buy_plan(
            razorpay_api, db, pay=pays_with_razorpay(razorpay_fake, "token_NoPhone0001")
        )
        await running(env.client, bought.subscription_id)
    method = await _saved_method(razorpay_api, bought.buyer, "razorpay")
    refused = await razorpay_api.put(
        f"/subscriptions/{bought.subscription_id}/auto-renew",
        json={"enabled": True, "payment_method_id": method["id"]},
        headers=bought.buyer.headers,
    )
    assert refused.status_code == 409
    assert "phone number" in refused.json()["detail"]
    mine = (
        await razorpay_api.get(
            f"/subscriptions/{bought.subscription_id}", headers=bought.buyer.headers
        )
    ).json()
    assert mine["auto_renew"] is False
