"""A subscription's whole life at its real lengths (365-day validity, reminders 30, 7 and 1 days
before the end, 7 days of grace) on the dev server with per-workflow time skipping: the test
fast-forwards the subscription's own clock and checks what the customer would have seen.

The purchase itself runs with time skipping off (the customer pays in real time); the
subscription's workflow then moves only when the test fast-forwards it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.subscriptions.contracts import SubscriptionStatus
from tests.support.subscription_helpers import (
    Bought,
    at_of,
    kinds,
    messages,
    renew,
    running,
    subscription_until,
    timeline,
)
from tests.support.waiting import eventually

DAY = timedelta(days=1)
SLACK = timedelta(minutes=1)


async def test_reminders_at_30_7_and_1_days_then_grace_then_expiry_each_once(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    handle = await running(env.client, sid)
    # The workflow publishes what it will do next as soon as it runs.
    mine = await subscription_until(
        skipping_api, who, sid, lambda s: s["next_reminder_at"] is not None
    )
    assert mine["status"] == "active"
    ends = mine["ends_at"]
    assert datetime.fromisoformat(mine["next_reminder_at"]) == (
        datetime.fromisoformat(ends) - 30 * DAY
    )

    # 334 days in: nothing sent yet; a day later the 30-day reminder is out.
    await env.fast_forward(handle, 334 * DAY)
    assert [m for m in await messages(db, sid) if "reminder" in m.idempotency_key] == []
    await env.fast_forward(handle, 2 * DAY)
    keys = [m.idempotency_key for m in await messages(db, sid)]
    assert keys == [f"sub:{sid}:period:1:reminder:30"]
    mine = (await skipping_api.get(f"/subscriptions/{sid}", headers=who.headers)).json()
    assert mine["status"] == "active"

    # To the end of grace and past it: the workflow ends, the subscription has expired.
    await env.fast_forward(handle, 60 * DAY)
    result = await handle.result()
    assert result.status == SubscriptionStatus.expired
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    events = await timeline(db, sid)
    assert kinds(events) == [
        "period:1:activated",
        "period:1:reminder:30",
        "period:1:reminder:7",
        "period:1:reminder:1",
        "period:1:grace_started",
        "period:1:expired",
    ]
    # Each at its offset from the end (give or take the moments a workflow task takes).
    end = datetime.fromisoformat(ends)
    for suffix, expected in (
        ("reminder:30", end - 30 * DAY),
        ("reminder:7", end - 7 * DAY),
        ("reminder:1", end - DAY),
        ("grace_started", end),
        (":expired", end + 7 * DAY),
    ):
        assert abs(at_of(events, suffix) - expected) < SLACK, suffix

    # One message per reminder and change, each once, to the customer.
    sent = await messages(db, sid)
    assert [m.idempotency_key.split(":", 2)[2] for m in sent] == [
        "period:1:reminder:30",
        "period:1:reminder:7",
        "period:1:reminder:1",
        "period:1:grace_started",
        "period:1:expired",
    ]
    assert {d for m in sent for d in m.destinations} == {"holder@example.com"}
    assert "ends in 30 days" in sent[0].subject
    mine = (await skipping_api.get(f"/subscriptions/{sid}", headers=who.headers)).json()
    assert mine["status"] == "expired"
    assert mine["next_reminder_at"] is None


async def test_a_renewal_in_grace_continues_from_the_old_end(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    handle = await running(env.client, sid)
    first = (await skipping_api.get(f"/subscriptions/{sid}", headers=who.headers)).json()
    await env.fast_forward(handle, 367 * DAY)  # two days into grace
    mine = await subscription_until(skipping_api, who, sid, lambda s: s["status"] == "grace")
    assert mine["status"] == "grace"
    assert mine["grace_ends_at"] is not None

    with env.with_time_skipping_disabled():
        order = await renew(skipping_api, who, sid)
    assert order["items"][0]["plan_name"] == first["plan"]["name"]
    renewed = await subscription_until(skipping_api, who, sid, lambda s: s["period"] == 2)
    assert renewed["status"] == "active"
    # No gap: the new period starts where the old one ended, and lasts a full year.
    assert renewed["starts_at"] == first["ends_at"]
    events = await timeline(db, sid)
    assert "period:2:renewed" in kinds(events)
    assert [p["number"] for p in renewed["periods"]] == [1, 2]
    # The renewal's message goes just after the period is recorded (the same activity, once
    # that is committed): the new period can be seen a moment before it.
    sent = await eventually(
        lambda: messages(db, sid),
        lambda told: any(m.idempotency_key.endswith("renewed") for m in told),
        "the renewal's message",
    )
    renewed_msgs = [m for m in sent if m.idempotency_key.endswith("renewed")]
    assert len(renewed_msgs) == 1
