"""A renewal paid while the subscription's run is ending is applied, not dropped with the run.

Found by `make chaos`: a plan renewed by hand in its last moments of grace expired; the renewal's
`renewal_paid` signal reached the run while it sent its last messages (the expiry's), and the run
completed: the money captured, no period added, no refund. Staged here with real parts: the
expiry's email is held at the SendGrid fake (the real SDK posting to it) while the customer renews
and pays on the sandbox page, so the signal is certain to arrive while the run drains.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from core.settings import Settings
from tests.conftest import make_settings
from tests.support.fake_sendgrid import FakeSendGrid
from tests.support.subscription_helpers import Bought, renew, running, subscription_until
from tests.support.waiting import eventually
from workflows.registry import STRICT, WORKFLOWS
from workflows.subscription import LATE_RENEWAL

DAY = timedelta(days=1)
HOLD_S = 120.0  # a bound: the test releases the mail long before


class HeldExpiry(FakeSendGrid):
    """SendGrid, holding the email that says a plan has expired until released."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Any:
        if b"has expired" in body and not self.release.is_set():
            self.holding.set()
            self.release.wait(timeout=HOLD_S)
        return super().dispatch(method, path, query, headers, body)


@pytest.fixture
def mail() -> Iterator[HeldExpiry]:
    fake = HeldExpiry().start()
    try:
        yield fake
    finally:
        fake.release.set()
        fake.stop()


@pytest.fixture
def settings(database_url: str, payment_settings: dict[str, Any], mail: HeldExpiry) -> Settings:
    return make_settings(database_url=database_url, **payment_settings, **mail.settings())


async def test_a_renewal_paid_while_the_run_ends_starts_a_new_period(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
    mail: HeldExpiry,
) -> None:
    env, sid, who = time_skipping_env, bought.subscription_id, bought.buyer
    handle = await running(env.client, sid)
    # Past the year and its 7 days of grace: the plan expires and the run sends that, held.
    forward = asyncio.create_task(env.fast_forward(handle, 373 * DAY))
    await eventually(
        lambda: asyncio.to_thread(mail.holding.wait, 0.1), bool, "the expiry's email is held"
    )
    with env.with_time_skipping_disabled():
        order = await renew(skipping_api, who, sid)

        async def signalled() -> bool:
            history = await handle.fetch_history()
            return any(
                e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
                for e in history.events
            )

        await eventually(signalled, bool, "the renewal reached the ending run")
        mail.release.set()
        mine = await subscription_until(
            skipping_api, who, sid, lambda s: s["status"] == "active" and s["period"] == 2
        )
    await forward
    assert mine["period"] == 2
    paid_for = (
        await db.execute(
            text(
                "SELECT order_id FROM subscription_periods "
                "WHERE subscription_id = :s AND number = 2"
            ),
            {"s": sid},
        )
    ).scalar_one()
    await db.commit()
    assert paid_for == uuid.UUID(order["id"])

    # The run that took the late renewal replays on today's code: the patched branch is
    # deterministic (its marker is in this history; tests/histories holds none of it yet).
    runs = [
        await env.client.get_workflow_handle(handle.id, run_id=run.run_id).fetch_history()
        async for run in env.client.list_workflows(f"WorkflowId = '{handle.id}'")
    ]

    def took_it(history: Any) -> bool:
        patches = [
            e.marker_recorded_event_attributes.details["patch-data"].payloads
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == "core_patch"
        ]
        return any(f'"id":"{LATE_RENEWAL}"'.encode() in p.data for ps in patches for p in ps)

    (ended,) = [h for h in runs if took_it(h)]
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=STRICT
    )
    await replayer.replay_workflow(ended)
