"""Renewals at their real lengths under time skipping: automatic renewal across three periods (one
charge per period, each period a new run of the workflow), a declined automatic renewal through
its dunning retries (1, 3 and 5 days) to expiry, and a manual renewal after expiry.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.testing import WorkflowEnvironment

from domain.catalog.models import PlanVersion
from domain.subscriptions.contracts import CancelRequest, RefundChoice, subscription_workflow_id
from providers.payments.sandbox_models import SandboxPayment
from tests.support.subscription_helpers import (
    Bought,
    kinds,
    messages,
    renew,
    renewal_orders,
    running,
    subscription_until,
    timeline,
)
from tests.support.waiting import eventually
from workflows.subscription import SubscriptionWorkflow

DAY = timedelta(days=1)
SLACK = timedelta(minutes=1)


async def _auto_renew_with(
    api: httpx.AsyncClient, bought: Bought, provider_method_id: str
) -> dict[str, Any]:
    """The buyer saves a sandbox card (`provider_method_id` says how its charges go) and turns
    automatic renewal on with it: the subscription as the answer gives it."""
    who, sid = bought.buyer, bought.subscription_id
    card = await api.post(
        "/me/payment-methods",
        json={"provider": "sandbox", "provider_method_id": provider_method_id, "kind": "card"},
        headers=who.headers,
    )
    assert card.status_code == 201, card.text
    on = await api.put(
        f"/subscriptions/{sid}/auto-renew",
        json={"enabled": True, "payment_method_id": card.json()["id"]},
        headers=who.headers,
    )
    assert on.status_code == 200, on.text
    return dict(on.json())


async def _runs(env: WorkflowEnvironment, subscription_id: uuid.UUID, *, at_least: int) -> int:
    """How many runs the workflow has had, once visibility lists `at_least` (it lists a run a
    moment after the run has started)."""
    query = f"WorkflowId = '{subscription_workflow_id(subscription_id)}'"

    async def listed() -> int:
        return len([run async for run in env.client.list_workflows(query)])

    return await eventually(listed, lambda n: n >= at_least, f"{at_least} runs listed")


async def test_automatic_renewal_charges_once_per_period_across_three_periods(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    on = await skipping_api.put(
        f"/subscriptions/{sid}/auto-renew", json={"enabled": True}, headers=who.headers
    )
    assert on.status_code == 200, on.text
    body = on.json()
    assert body["auto_renew"] is True
    assert body["payment_method"]["brand"] == "sandbox"  # the card saved at checkout
    first_end = datetime.fromisoformat(body["ends_at"])
    mine = await subscription_until(
        skipping_api, who, sid, lambda s: s["next_charge_at"] is not None
    )
    assert datetime.fromisoformat(mine["next_charge_at"]) == first_end - 3 * DAY

    handle = await running(env.client, sid)
    await env.fast_forward(handle, 3 * 365 * DAY + DAY)  # into the fourth period

    mine = await subscription_until(skipping_api, who, sid, lambda s: s["period"] == 4)
    assert mine["status"] == "active"
    assert [p["number"] for p in mine["periods"]] == [1, 2, 3, 4]
    assert [p["kind"] for p in mine["periods"]] == ["initial"] + ["auto_renewal"] * 3
    # Each period starts where the one before ended: no gap, no overlap.
    for before, after in zip(mine["periods"], mine["periods"][1:], strict=False):
        assert after["starts_at"] == before["ends_at"]

    # One charge per period, each with its period's key, each a paid renewal order.
    orders = await renewal_orders(db, sid)
    assert [o.idempotency_key for o in orders] == [f"sub:{sid}:period:{n}" for n in (2, 3, 4)]
    assert {o.status for o in orders} == {"completed"}
    charges = (
        (
            await db.execute(
                select(SandboxPayment.idempotency_key).where(
                    SandboxPayment.idempotency_key.like(f"sub:{sid}:%")
                )
            )
        )
        .scalars()
        .all()
    )
    await db.commit()
    assert sorted(charges) == [f"sub:{sid}:period:{n}" for n in (2, 3, 4)]
    # A period per run of the workflow: the history of each stays small.
    assert await _runs(env, sid, at_least=4) == 4
    # The latest run has no static summary (continue-as-new does not carry it): its memo does,
    # and its current details in the Web UI say where it is and what it is.
    latest = env.client.get_workflow_handle(subscription_workflow_id(sid))
    summary = await (await latest.describe()).memo_value("summary")
    assert "…@…" in summary and "example.com" not in summary and " · until " in summary
    metadata = await latest.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert metadata.current_details.startswith("**Now:** active · period 4 ")
    assert "**Subscription to " in metadata.current_details

    events = kinds(await timeline(db, sid))
    assert events.count("period:1:reminder:1") == 0  # renewed 3 days before: no "ends tomorrow"
    assert [e for e in events if e.endswith(":renewed")] == [
        f"period:{n}:renewed" for n in (2, 3, 4)
    ]
    receipts = [m for m in await messages(db, sid) if m.idempotency_key.endswith(":renewed")]
    assert len(receipts) == 3


async def test_a_declined_renewal_is_retried_on_the_dunning_days_then_the_plan_expires(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    on = await _auto_renew_with(skipping_api, bought, "sbx_pm_decline_always")
    end = datetime.fromisoformat(on["ends_at"])

    handle = await running(env.client, sid)
    await env.fast_forward(handle, 363 * DAY)  # a day after the first charge
    mine = await subscription_until(skipping_api, who, sid, lambda s: s["status"] == "past_due")
    assert datetime.fromisoformat(mine["next_charge_at"]) - (end - 2 * DAY) < SLACK

    await env.fast_forward(handle, 30 * DAY)
    result = await handle.result()
    assert result.status == "expired"

    # The first charge 3 days before the end, then retries 1, 3 and 5 days after it.
    orders = await renewal_orders(db, sid)
    assert [o.idempotency_key for o in orders] == [
        f"sub:{sid}:period:2",
        f"sub:{sid}:period:2:retry:1",
        f"sub:{sid}:period:2:retry:2",
        f"sub:{sid}:period:2:retry:3",
    ]
    assert {o.status for o in orders} == {"failed"}
    assert {o.failure_reason for o in orders} == {"Declined by the sandbox bank"}
    first = orders[0].created_at
    assert all(o.created_at >= first for o in orders)

    events = await timeline(db, sid)
    keyed = {e.event_key.split(":", 2)[2]: e.at for e in events}
    charge = end - 3 * DAY
    assert abs(keyed["period:1:renewal_failed:1"] - charge) < SLACK
    assert abs(keyed["period:1:renewal_failed:2"] - (charge + DAY)) < SLACK
    assert abs(keyed["period:1:renewal_failed:3"] - (charge + 3 * DAY)) < SLACK
    assert abs(keyed["period:1:renewal_failed:4"] - (charge + 5 * DAY)) < SLACK
    assert abs(keyed["period:1:grace_started"] - end) < SLACK
    assert abs(keyed["period:1:expired"] - (end + 7 * DAY)) < SLACK
    sent = [m.idempotency_key.split(":", 2)[2] for m in await messages(db, sid)]
    for n in (1, 2, 3, 4):
        assert sent.count(f"period:1:renewal_failed:{n}") == 1
    notice = next(m for m in await messages(db, sid) if m.idempotency_key.endswith("failed:1"))
    assert "Declined by the sandbox bank" in notice.body and "We will try again on" in notice.body
    last = next(m for m in await messages(db, sid) if m.idempotency_key.endswith("failed:4"))
    assert "We will not try again." in last.body


async def test_a_renewal_after_expiry_starts_a_new_period_now(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    handle = await running(env.client, sid)
    await env.fast_forward(handle, 400 * DAY)
    assert (await handle.result()).status == "expired"

    with env.with_time_skipping_disabled():
        await renew(skipping_api, who, sid)
        mine = await subscription_until(skipping_api, who, sid, lambda s: s["period"] == 2)
    assert mine["status"] == "active"
    # A new run of the workflow took the renewal; the period starts when it was paid.
    new_run = await running(env.client, sid)
    now = await env.get_current_time(new_run)
    assert abs(datetime.fromisoformat(mine["starts_at"]) - now) < SLACK
    assert (
        datetime.fromisoformat(mine["ends_at"]) - datetime.fromisoformat(mine["starts_at"])
        == 365 * DAY
    )
    assert await _runs(env, sid, at_least=2) >= 2


async def test_a_charge_the_provider_refuses_outright_is_a_declined_renewal_not_a_crash(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    """A saved method the provider does not know any more: the renewal is declined with the
    provider's reason and goes through dunning; the subscription's workflow does not fail."""
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    await _auto_renew_with(skipping_api, bought, "tok_from_elsewhere")
    handle = await running(env.client, sid)
    await env.fast_forward(handle, 363 * DAY)
    mine = await subscription_until(skipping_api, who, sid, lambda s: s["status"] == "past_due")
    (first, *_) = await renewal_orders(db, sid)
    assert first.status == "failed" and first.failure_reason
    await env.fast_forward(handle, 30 * DAY)
    assert (await handle.result()).status == "expired"
    assert mine["auto_renew"] is True


async def test_a_renewal_declined_after_the_customer_cancelled_announces_no_retry(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    """The automatic renewal's charge is out (held by a lock the test takes on the plan's
    version, which the renewal order's insert must wait for) when the subscription is cancelled;
    the bank then declines. The customer was told of the cancellation, and is not told "we will
    try again": nothing is tried again."""
    env, sid = time_skipping_env, bought.subscription_id
    await _auto_renew_with(skipping_api, bought, "sbx_pm_decline_always")
    handle = await running(env.client, sid)

    # The renewal order's item refers to the plan version it renews: its insert waits for this.
    await db.execute(select(PlanVersion.id).with_for_update())
    try:
        moved = asyncio.create_task(env.fast_forward(handle, 363 * DAY))  # past the charge
        await _until_a_session_waits_on_a_lock(sessions)
        cancel = handle.execute_update(
            SubscriptionWorkflow.cancel,
            CancelRequest(actor="admin", actor_id=None, reason="moving", refund=RefundChoice.none),
        )
        outcome = await asyncio.wait_for(cancel, timeout=60)
        assert outcome.status == "cancelled"
    finally:
        await db.commit()  # the charge goes on: declined
    await asyncio.wait_for(moved, timeout=60)
    assert (await asyncio.wait_for(handle.result(), timeout=60)).status == "cancelled"

    (order,) = await renewal_orders(db, sid)
    assert order.status == "failed"
    sent = [m.idempotency_key.split(":", 2)[2] for m in await messages(db, sid)]
    assert sent == ["period:1:reminder:30", "period:1:reminder:7", "period:1:cancelled"]
    assert "period:1:renewal_failed:1" not in kinds(await timeline(db, sid))


async def _until_a_session_waits_on_a_lock(sessions: async_sessionmaker[AsyncSession]) -> None:
    for _ in range(1200):  # 60 s: a bound for slow machines
        async with sessions() as other:
            waiting = await other.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the renewal charge never started")
