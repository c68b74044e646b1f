"""Shared steps of the subscription tests: buy a plan through the API and find its workflow, pay
a renewal, read the timeline and the messages sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from domain.notifications.models import Notification
from domain.subscriptions.contracts import SubscriptionState, subscription_workflow_id
from domain.subscriptions.models import SubscriptionEvent
from tests.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order
from tests.orders_helpers import Customer

WAIT_S = 60.0  # a bound for slow machines, never an expectation


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
    **plan_fields: Any,
) -> Bought:
    """A customer who bought a plan (the sandbox provider, approved on its page); its
    subscription's workflow is running."""
    if admin is None:
        admin = await make_admin(api, db)
        await add_categories(api, admin)
    if plan is None:
        plan = await add_active_plan(api, admin, **plan_fields)
    buyer = await buyer_with_cart(api, plan, email)
    body = (await checkout(api, buyer)).json()
    order_id = body["order"]["id"]
    await sandbox_act(api, body["payment"])
    await wait_for_order(api, buyer, order_id, {"completed"})
    state = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
    (subscription_id,) = state["subscription_ids"]
    return Bought(buyer, admin, plan, order_id, uuid.UUID(subscription_id))


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


async def messages(db: AsyncSession, subscription_id: uuid.UUID) -> list[Notification]:
    """Every message sent about the subscription (outbox rows keyed `sub:<id>:...`)."""
    rows = (
        await db.execute(
            select(Notification)
            .where(Notification.idempotency_key.like(f"sub:{subscription_id}:%"))
            .order_by(Notification.created_at)
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
    attempts: int = 400,
) -> dict[str, Any]:
    """Poll the subscription (as the app does) until `done` says so; bounded."""
    body: dict[str, Any] = {}
    for _ in range(attempts):
        body = (await api.get(f"/subscriptions/{subscription_id}", headers=who.headers)).json()
        if done(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the subscription never got there: {body}")
