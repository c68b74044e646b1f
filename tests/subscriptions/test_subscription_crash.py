"""A worker killed in the middle of a subscription's year: the reminders still come, each once.

The worker runs as a process of its own (`python worker.py`) on the time-skipping dev server and
is SIGKILLed after the 30-day reminder. The subscription's clock is then fast-forwarded while no
worker is alive (its 7-day timer fires with nobody to run it), and a new worker picks it up from
its history: the 7-day and 1-day reminders, grace and expiry follow, and no message is sent twice.

The same gap stages a race: a reminder's timer fires with no worker alive and a cancellation
arrives before one is back, so the next worker gets both in one workflow task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from domain.subscriptions.contracts import CancelRequest, RefundChoice, SubscriptionStatus
from tests.support.subscription_helpers import buy_plan, kinds, messages, running, timeline
from tests.support.worker_process import (
    WorkerProcess,
    survivors,
    until_timer_fired,
    until_update_admitted,
    worker_environment,
)
from workflows.subscription import SubscriptionWorkflow

DAY = timedelta(days=1)
WAIT_S = 60.0  # a bound for slow machines, never an expectation


@pytest.fixture
async def skipping_app_alone(
    settings: Settings, time_skipping_env: WorkflowEnvironment, db: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the time-skipping server without an in-process worker: workers are processes."""
    application = create_app(settings, temporal=time_skipping_env.client)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as api:
            yield api


@pytest.fixture
def workers(
    settings: Settings, time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> Iterator[Any]:
    started: list[WorkerProcess] = []
    env = worker_environment(settings, time_skipping_env.client)

    def start() -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
    assert survivors(started, settings.temporal_task_queue) == []


async def _until_sent(db: AsyncSession, sid: Any, suffix: str, worker: WorkerProcess) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not any(m.idempotency_key.endswith(suffix) for m in await messages(db, sid)):
        assert worker.alive(), worker.output()
        assert loop.time() < deadline, f"{suffix} never sent\n{worker.output()}"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_year_loses_and_repeats_no_reminder(
    skipping_app_alone: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    workers: Any,
) -> None:
    env, api = time_skipping_env, skipping_app_alone
    first = workers()
    with env.with_time_skipping_disabled():
        bought = await buy_plan(api, db)
        handle = await running(env.client, bought.subscription_id)
    sid = bought.subscription_id

    await env.fast_forward(handle, 336 * DAY)  # past the 30-day reminder
    await _until_sent(db, sid, ":reminder:30", first)
    assert first.kill() == -9

    # With no worker alive, the subscription's clock moves past the 7-day reminder; the timer
    # fires and waits. A new worker takes the workflow over from its history.
    moved = asyncio.create_task(env.fast_forward(handle, 60 * DAY))
    await until_timer_fired(handle)
    second = workers()
    await asyncio.wait_for(moved, timeout=WAIT_S * 2)
    result = await asyncio.wait_for(handle.result(), timeout=WAIT_S)
    assert result.status == "expired", second.output()

    assert kinds(await timeline(db, sid)) == [
        "period:1:activated",
        "period:1:reminder:30",
        "period:1:reminder:7",
        "period:1:reminder:1",
        "period:1:grace_started",
        "period:1:expired",
    ]
    sent = [m.idempotency_key.split(":", 2)[2] for m in await messages(db, sid)]
    assert sent == [
        "period:1:reminder:30",
        "period:1:reminder:7",
        "period:1:reminder:1",
        "period:1:grace_started",
        "period:1:expired",
    ]
    # The worker that died sent the first reminder; the one after it, the rest.
    history = await handle.fetch_history()
    identities = {
        e.workflow_task_completed_event_attributes.identity
        for e in history.events
        if e.HasField("workflow_task_completed_event_attributes")
    }
    assert len(identities) == 2, identities


async def test_a_cancellation_arriving_as_a_reminder_falls_due_sends_no_reminder(
    skipping_app_alone: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    workers: Any,
) -> None:
    """The reminder's timer fires while no worker runs, and an admin cancels before one comes
    back: the next worker runs both in one workflow task. The customer, who has cancelled, gets
    the cancellation, not "your plan ends in 30 days"."""
    env, api = time_skipping_env, skipping_app_alone
    first = workers()
    with env.with_time_skipping_disabled():
        bought = await buy_plan(api, db)
        handle = await running(env.client, bought.subscription_id)
    sid = bought.subscription_id
    await env.fast_forward(handle, 334 * DAY)  # a day before the 30-day reminder
    assert first.kill() == -9

    moved = asyncio.create_task(env.fast_forward(handle, 2 * DAY))
    await until_timer_fired(handle)
    cancel = asyncio.create_task(
        handle.execute_update(
            SubscriptionWorkflow.cancel,
            CancelRequest(
                actor="admin", actor_id=None, reason="moved away", refund=RefundChoice.none
            ),
            id="cancel-as-the-reminder-falls-due",
        )
    )
    # The update has reached the server before a worker is there.
    await until_update_admitted(env.client, handle, "cancel-as-the-reminder-falls-due")
    second = workers()
    outcome = await asyncio.wait_for(cancel, timeout=WAIT_S)
    assert outcome.status == SubscriptionStatus.cancelled, second.output()
    await asyncio.wait_for(moved, timeout=WAIT_S)
    assert (await asyncio.wait_for(handle.result(), timeout=WAIT_S)).status == "cancelled"

    # The race was staged: the fired timer and the update were in one workflow task.
    events = (await handle.fetch_history()).events
    fired = next(i for i, e in enumerate(events) if e.HasField("timer_fired_event_attributes"))
    accepted = max(  # the cancellation's
        i
        for i, e in enumerate(events)
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    )
    tasks_between = [
        e for e in events[fired:accepted] if e.HasField("workflow_task_completed_event_attributes")
    ]
    assert len(tasks_between) == 1, "the update came in a task of its own: not the race"

    sent = [m.idempotency_key.split(":", 2)[2] for m in await messages(db, sid)]
    assert sent == ["period:1:cancelled"], second.output()
    assert kinds(await timeline(db, sid)) == ["period:1:activated", "cancelled"]
