"""The issue's Done-when: a campaign to 10,000 customers through the outbox sends exactly one
message each although its worker is killed mid-way.

The worker runs as a process of its own (`python worker.py`) and is SIGKILLed (no cleanup runs,
nothing is said to Temporal) once a few thousand people have been sent the campaign, usually in
the middle of a batch. A second worker takes the workflow over from its history: the batch that
was cut off runs again (its heartbeat stopped) and finds the messages already written, and the
rest follow. Every customer was opted in to offers by email, so each message also has one email
delivery, handed to the outbox once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from domain.campaigns.contracts import campaign_workflow_id
from domain.campaigns.models import Campaign
from domain.notifications.models import Delivery, Message
from tests.conftest import make_settings
from tests.support.campaign_helpers import create, finished, seed_customers, start
from tests.support.catalog_helpers import make_admin
from tests.support.waiting import eventually
from tests.support.worker_process import WorkerProcess, survivors, worker_environment

CUSTOMERS = 10_000
KILL_AFTER = 3_000  # people sent the campaign when the worker is killed
WAIT_S = 60.0  # a bound for slow machines, never an expectation


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Batches of 500 at up to 2,000 a second, continuing as new every 5 batches."""
    return make_settings(
        database_url=database_url,
        campaign_batch_size=500,
        campaign_rate_per_second=2000.0,
        campaign_batches_per_run=5,
    )


@pytest.fixture
async def api_alone(
    settings: Settings, temporal_env: WorkflowEnvironment, db: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """The API without an in-process worker: the workers are processes."""
    application = create_app(settings, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as api:
            yield api


@pytest.fixture
def workers(settings: Settings, temporal_env: WorkflowEnvironment, tmp_path: Path) -> Iterator[Any]:
    started: list[WorkerProcess] = []
    env = worker_environment(settings, temporal_env.client)

    def start_worker() -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    yield start_worker
    for worker in started:
        worker.kill()
    assert survivors(started, settings.temporal_task_queue) == []


async def _sent(db: AsyncSession, campaign_id: uuid.UUID) -> int:
    found = await db.scalar(select(Campaign.sent).where(Campaign.id == campaign_id))
    await db.commit()
    return int(found or 0)


async def _histories(temporal: Client, campaign_id: uuid.UUID, *, at_least: int) -> list[Any]:
    """Every run's history, the first run first (continue-as-new chains them), once visibility
    lists `at_least` runs (it lists a run a moment after the run has started)."""
    workflow_id = campaign_workflow_id(campaign_id)

    async def listed() -> list[Any]:
        return [run async for run in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]

    runs = await eventually(listed, lambda runs: len(runs) >= at_least, f"{at_least} runs listed")
    runs.sort(key=lambda run: run.start_time)
    return [
        await temporal.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        for run in runs
    ]


async def test_a_worker_killed_mid_campaign_skips_and_repeats_nobody(
    api_alone: httpx.AsyncClient, db: AsyncSession, temporal: Client, workers: Any
) -> None:
    api = api_alone
    first = workers()  # signing the admin up sends a code: a worker is needed from the start
    admin = await make_admin(api, db)
    customers = set(await seed_customers(db, CUSTOMERS, prefix="bulk", opt_in_email=True))
    campaign = await create(api, admin)
    cid = uuid.UUID(campaign["id"])
    try:
        started = await asyncio.wait_for(start(api, admin, campaign["id"]), timeout=WAIT_S)
    except TimeoutError:
        raise AssertionError(f"not started\n{first.output()}") from None
    assert started["total"] == CUSTOMERS

    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while (sent := await _sent(db, cid)) < KILL_AFTER:
        assert first.alive(), first.output()
        assert loop.time() < deadline, f"only {sent} sent\n{first.output()}"
        await asyncio.sleep(0.02)
    assert first.kill() == -9
    assert (sent_when_killed := await _sent(db, cid)) < CUSTOMERS

    second = workers()
    outcome = await finished(temporal, cid)
    assert (outcome.status, outcome.sent, outcome.total) == ("completed", CUSTOMERS, CUSTOMERS)
    assert second.alive(), second.output()

    # Exactly one message each, and one email each, delivered by the outbox.
    per_user = dict(
        (
            await db.execute(
                select(Message.user_id, func.count())
                .where(Message.campaign_id == cid)
                .group_by(Message.user_id)
            )
        ).all()
    )
    assert set(per_user) == customers
    assert set(per_user.values()) == {1}
    emails = (
        await db.execute(
            select(Delivery.status, func.count())
            .join(Message, Message.id == Delivery.message_id)
            .where(Message.campaign_id == cid)
            .group_by(Delivery.status)
        )
    ).all()
    assert dict(emails) == {"delivered": CUSTOMERS}
    row = await db.get(Campaign, cid)
    assert row is not None
    assert (row.status, row.sent, row.total, row.batches) == ("completed", CUSTOMERS, CUSTOMERS, 20)

    # Both workers ran it: the first until it died, the second from then on.
    histories = await _histories(temporal, cid, at_least=4)
    identities = {
        event.workflow_task_completed_event_attributes.identity
        for history in histories
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    }
    assert len(identities) == 2, (sent_when_killed, identities)
    assert len(histories) == 4  # 20 batches, continuing as new every 5
