"""A subscription's workflow starts exactly once: a settled order's announcement may run again (an
activity retry) and the operator's `start-subscriptions` may run any time; neither starts a
second run, even after the first has ended. Until it starts, a change to the plan waits for it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from activities.subscriptions import SubscriptionActivities
from api import subscriptions as lifecycle
from core.settings import Settings
from domain.contracts import OrderRef
from domain.orders.models import Order
from domain.subscriptions.contracts import SubscriptionStatus, subscription_workflow_id
from providers.payments import payment_provider
from tests.conftest import outbox_notifier
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.orders_helpers import Customer, add_to_cart, customer, pay, place_order
from tests.support.waiting import eventually


def _starter(settings: Settings, sessions: Any, temporal: Client) -> SubscriptionActivities:
    return SubscriptionActivities(
        sessions=sessions,
        settings=settings,
        provider=payment_provider(settings, sessions=sessions),
        notifier=outbox_notifier(sessions, settings),
        temporal=temporal,
        task_queue=settings.temporal_task_queue,
    )


async def _runs(temporal: Client, workflow_id: str) -> list[Any]:
    return [r async for r in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]


async def _listed(temporal: Client, workflow_id: str) -> list[Any]:
    """The runs' statuses as visibility lists them, once it lists the newest run as it is now (a
    start or an end reaches the list a moment after it happened)."""
    now = await temporal.get_workflow_handle(workflow_id).describe()
    runs = await eventually(
        lambda: _runs(temporal, workflow_id),
        lambda runs: any(r.run_id == now.run_id and r.status == now.status for r in runs),
        f"run {now.run_id} listed as {now.status}",
    )
    return [r.status for r in runs]


async def _paid_directly(
    api: httpx.AsyncClient, db: AsyncSession, email: str
) -> tuple[Customer, Order, uuid.UUID]:
    """A customer who paid for a plan through the orders domain directly: no checkout, so
    nothing has started the subscription's workflow yet. (Who, the order, the subscription.)"""
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    who = await customer(api, email)
    await add_to_cart(api, who, plan["id"])
    order = await place_order(db, who)
    (subscription_id,) = (await pay(db, order)).subscription_ids
    return who, order, subscription_id


async def test_a_subscription_is_started_once_however_often_it_is_announced(
    api: httpx.AsyncClient,
    db: AsyncSession,
    temporal: Client,
    settings: Settings,
    sessions: Any,
    worker: Worker,
) -> None:
    who, order, subscription_id = await _paid_directly(api, db, "direct@example.com")
    workflow_id = subscription_workflow_id(subscription_id)
    assert await _runs(temporal, workflow_id) == []

    starter = _starter(settings, sessions, temporal)
    await starter.start_existing(subscription_id)  # what `manage.py start-subscriptions` does
    for _ in range(3):  # the settled order's announcement, retried
        await starter.announce_order(OrderRef(order_id=order.id))
    assert await _listed(temporal, workflow_id) == [WorkflowExecutionStatus.RUNNING]

    # Even after the run has ended, another announcement starts nothing.
    handle = temporal.get_workflow_handle(workflow_id)
    await handle.terminate(reason="ended for this test")
    await starter.announce_order(OrderRef(order_id=order.id))
    await starter.start_existing(subscription_id)
    assert await _listed(temporal, workflow_id) == [WorkflowExecutionStatus.TERMINATED]
    mine = (await api.get(f"/subscriptions/{subscription_id}", headers=who.headers)).json()
    assert mine["status"] == SubscriptionStatus.active


async def test_a_plan_paid_a_moment_ago_takes_changes_once_its_workflow_starts(
    api: httpx.AsyncClient,
    db: AsyncSession,
    temporal: Client,
    settings: Settings,
    sessions: Any,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Paid, and so listed as active, but its workflow not started yet: the moment between the
    # order's settlement and its last step on a busy machine, held open here.
    monkeypatch.setattr(lifecycle, "STARTING_WAIT_S", 0.5)
    who, order, subscription_id = await _paid_directly(api, db, "early@example.com")
    asking = f"/subscriptions/{subscription_id}/cancellation-quote"

    # Never started (its worker down, say): "try again", not "this plan has ended".
    early = await api.post(asking, headers=who.headers)
    assert early.status_code == 503, early.text
    assert "still being set up" in early.json()["detail"]
    assert early.headers["Retry-After"]

    # Started while the customer's change waits for it: the change is made.
    monkeypatch.setattr(lifecycle, "STARTING_WAIT_S", 30.0)
    starter = _starter(settings, sessions, temporal)

    async def start_soon() -> None:
        await asyncio.sleep(0.2)
        await starter.announce_order(OrderRef(order_id=order.id))

    quoted, _ = await asyncio.gather(api.post(asking, headers=who.headers), start_soon())
    assert quoted.status_code == 200, quoted.text
    cancelled = await api.post(
        f"/subscriptions/{subscription_id}/cancel",
        json={"quote_id": quoted.json()["quote_id"]},
        headers=who.headers,
    )
    assert cancelled.status_code == 200, cancelled.text

    # Ended, and the read model knows it: refused at once, with the reason.
    await eventually(
        lambda: api.get(f"/subscriptions/{subscription_id}", headers=who.headers),
        lambda r: r.json()["status"] == SubscriptionStatus.cancelled,
        "the cancellation in the read model",
    )
    again = await api.post(asking, headers=who.headers)
    assert again.status_code == 409, again.text
    assert "has ended" in again.json()["detail"]
