"""A subscription's workflow starts exactly once: a settled order's announcement may run again (an
activity retry) and the operator's `start-subscriptions` may run any time; neither starts a
second run, even after the first has ended."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from activities.subscriptions import SubscriptionActivities
from core.settings import Settings
from domain.contracts import OrderRef
from domain.subscriptions.contracts import SubscriptionStatus, subscription_workflow_id
from providers.payments import payment_provider
from tests.conftest import outbox_notifier
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.orders_helpers import add_to_cart, customer, pay, place_order
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


async def test_a_subscription_is_started_once_however_often_it_is_announced(
    api: httpx.AsyncClient,
    db: AsyncSession,
    temporal: Client,
    settings: Settings,
    sessions: Any,
    worker: Worker,
) -> None:
    # Paid through the orders domain directly: no checkout, so nothing has started it yet.
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    who = await customer(api, "direct@example.com")
    await add_to_cart(api, who, plan["id"])
    order = await place_order(db, who)
    (subscription_id,) = (await pay(db, order)).subscription_ids
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
