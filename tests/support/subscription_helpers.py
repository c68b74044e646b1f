"""Shared steps of the subscription tests: buy a plan through the API (on the sandbox page, or
with Stripe or Razorpay against their fakes) and find its workflow, pay a renewal, read the
timeline, the messages sent and the renewal orders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.notifications.models import Delivery, Message
from domain.orders.models import Order, OrderItem
from domain.subscriptions.contracts import SubscriptionState, subscription_workflow_id
from domain.subscriptions.models import SubscriptionEvent
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order
from tests.support.fakes import random_id
from tests.support.fakes.razorpay_server import FakeRazorpay
from tests.support.fakes.stripe_server import FakeStripe
from tests.support.orders_helpers import Customer
from tests.support.waiting import eventually

WAIT_S = 60.0  # a bound for slow machines, never an expectation

# How the buyer pays the checkout just started (the answer of POST /checkout); the order is then
# awaited until completed.
Payer = Callable[[httpx.AsyncClient, Customer, dict[str, Any]], Awaitable[None]]


async def approve_on_sandbox_page(
    api: httpx.AsyncClient, buyer: Customer, started: dict[str, Any]
) -> None:
    """The sandbox provider: Approve on its page (it saves a sandbox card)."""
    await sandbox_act(api, started["payment"])


def pays_with_stripe(fake: FakeStripe) -> Payer:
    """Stripe: the buyer pays the PaymentIntent with a card, which Stripe keeps on their customer
    (the checkout asked for `setup_future_usage`); Stripe's signed webhook nudges the checkout."""

    async def pay(api: httpx.AsyncClient, buyer: Customer, started: dict[str, Any]) -> None:
        pi_id = started["payment"]["provider_ref"]
        fake.succeed(pi_id)
        body, headers = fake.webhook("payment_intent.succeeded", fake.intent(pi_id))
        delivered = await api.post("/webhooks/stripe", content=body, headers=headers)
        assert delivered.status_code == 200, delivered.text

    return pay


def pays_with_razorpay(fake: FakeRazorpay, token_id: str | None = None) -> Payer:
    """Razorpay: the buyer pays by card on Checkout, which saves it as a token on their Razorpay
    customer (for recurring debits); the app sends us Checkout's signed handler response."""

    async def pay(api: httpx.AsyncClient, buyer: Customer, started: dict[str, Any]) -> None:
        rzp_order = started["payment"]["provider_ref"]
        payment_id = fake.pay(
            rzp_order,
            "card",
            token_id=token_id or random_id("token_"),
            customer_id=fake.customer_of(str(buyer.id)),
        )
        confirmed = await api.post(
            f"/orders/{started['order']['id']}/confirm",
            json=fake.checkout_response(rzp_order, payment_id),
            headers=buyer.headers,
        )
        assert confirmed.status_code == 200, confirmed.text

    return pay


@dataclass
class Bought:
    buyer: Customer
    admin: dict[str, str]
    plan: dict[str, Any]
    order_id: str
    subscription_id: uuid.UUID


async def buy_plan(
    api: httpx.AsyncClient,
    db: AsyncSession,
    email: str = "holder@example.com",
    *,
    plan: dict[str, Any] | None = None,
    admin: dict[str, str] | None = None,
    phone: str | None = None,
    pay: Payer = approve_on_sandbox_page,
    **plan_fields: Any,
) -> Bought:
    """A customer who bought a plan, paid by `pay` (by default approved on the sandbox page);
    its subscription's workflow is running."""
    if admin is None:
        admin = await make_admin(api, db)
        await add_categories(api, admin)
    if plan is None:
        plan = await add_active_plan(api, admin, **plan_fields)
    buyer = await buyer_with_cart(api, plan, email, phone=phone)
    started = await checkout(api, buyer)
    assert started.status_code == 201, started.text
    body = started.json()
    order_id = body["order"]["id"]
    await pay(api, buyer, body)
    await wait_for_order(api, buyer, order_id, {"completed"})
    state = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
    (subscription_id,) = state["subscription_ids"]
    return Bought(buyer, admin, plan, order_id, uuid.UUID(subscription_id))


async def bought_and_running(
    api: httpx.AsyncClient, db: AsyncSession, env: WorkflowEnvironment, **plan_fields: Any
) -> Bought:
    """`buy_plan` on the time-skipping server, with time standing still until the subscription's
    workflow runs (so no reminder fires while the purchase is being made)."""
    with env.with_time_skipping_disabled():
        purchase = await buy_plan(api, db, **plan_fields)
        await running(env.client, purchase.subscription_id)
    return purchase


def handle(client: Client, subscription_id: uuid.UUID) -> WorkflowHandle[Any, SubscriptionState]:
    return client.get_workflow_handle(
        subscription_workflow_id(subscription_id), result_type=SubscriptionState
    )


async def running(client: Client, subscription_id: uuid.UUID) -> WorkflowHandle[Any, Any]:
    """The subscription's workflow, once it has started (the settlement starts it just after
    the order completes)."""
    h = handle(client, subscription_id)
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        try:
            await h.describe()
            return h
        except RPCError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def timeline(db: AsyncSession, subscription_id: uuid.UUID) -> list[SubscriptionEvent]:
    rows = (
        await db.execute(
            select(SubscriptionEvent)
            .where(SubscriptionEvent.subscription_id == subscription_id)
            .order_by(SubscriptionEvent.at, SubscriptionEvent.id)
        )
    ).scalars()
    out = list(rows.all())
    await db.commit()
    return out


def kinds(events: list[SubscriptionEvent]) -> list[str]:
    return [e.event_key.split(":", 2)[2] for e in events]


def at_of(events: list[SubscriptionEvent], key_suffix: str) -> datetime:
    (event,) = [e for e in events if e.event_key.endswith(key_suffix)]
    return event.at


@dataclass(frozen=True)
class Told:
    """A message the customer got: its business key (`sub:<id>:period:<n>:<step>`) and words."""

    idempotency_key: str
    subject: str
    body: str
    destinations: tuple[str, ...]  # where it went (email address, device tokens)


async def messages(db: AsyncSession, subscription_id: uuid.UUID) -> list[Told]:
    """Every message sent about the subscription (keyed `sub:<id>:...:<user id>`), oldest first."""
    rows = (
        await db.execute(
            select(Message)
            .where(Message.key.like(f"sub:{subscription_id}:%"))
            .order_by(Message.created_at)
        )
    ).scalars()
    found = list(rows.all())
    where: dict[uuid.UUID, list[str]] = {}
    for message_id, destination in await db.execute(
        select(Delivery.message_id, Delivery.destination).where(
            Delivery.message_id.in_([m.id for m in found])
        )
    ):
        where.setdefault(message_id, []).append(destination)
    out = [
        Told(m.key.rsplit(":", 1)[0], m.subject, m.text, tuple(sorted(where.get(m.id, []))))
        for m in found
    ]
    await db.commit()
    return out


async def renewal_orders(db: AsyncSession, subscription_id: uuid.UUID) -> list[Order]:
    """The orders that renew the subscription (automatic or manual), oldest first, as they are
    now (an order read before is refreshed: the session keeps its objects across commits)."""
    rows = (
        await db.execute(
            select(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(OrderItem.renews_subscription_id == subscription_id)
            .order_by(Order.created_at)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    out = list(rows.all())
    await db.commit()
    return out


async def renew(
    api: httpx.AsyncClient, who: Customer, subscription_id: uuid.UUID
) -> dict[str, Any]:
    """Renew from the app and pay on the sandbox page; the renewal order once completed."""
    started = await api.post(
        f"/subscriptions/{subscription_id}/renew",
        headers={**who.headers, "Idempotency-Key": f"renew-{uuid.uuid4()}"},
    )
    assert started.status_code == 201, started.text
    body = started.json()
    await sandbox_act(api, body["payment"])
    return await wait_for_order(api, who, body["order"]["id"], {"completed"})


async def subscription_until(
    api: httpx.AsyncClient,
    who: Customer,
    subscription_id: uuid.UUID,
    done: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    """Poll the subscription (as the app does) until `done` says so; bounded."""

    async def read() -> dict[str, Any]:
        answer = await api.get(f"/subscriptions/{subscription_id}", headers=who.headers)
        return dict(answer.json())

    return await eventually(read, done, f"subscription {subscription_id}")
