"""A worker killed in the worst moment of a checkout: Stripe has created the PaymentIntent, the
worker has not recorded it (its answer is still on the way). After a restart the customer is asked
to pay exactly once and the order completes.

Real parts throughout: the API in-process, the worker as a separate `python worker.py` process
(killed with SIGKILL: no cleanup code runs, nothing is said to Temporal), the session's Temporal dev
server and PostgreSQL, the real `stripe` SDK talking to the local fake Stripe, which keeps back the
answer to the PaymentIntent create (`FakeStripe.hold_next`) until the worker is dead.

What brings the step back is the production configuration, untouched: `create_payment_session`
runs as a local activity inside the workflow task, and that task has Temporal's default 10 s
timeout. Once it is over, the server hands the workflow task to the other worker, whose replay
runs the step again with the same Idempotency-Key. The recovery is asserted from the workflow
history (a timed-out workflow task, then one recorded session, recorded by the second worker), not
from the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from domain.contracts import checkout_workflow_id
from domain.orders.models import LedgerEntry, Order
from domain.subscriptions.models import Subscription
from tests.conftest import count_rows
from tests.support.checkout_helpers import checkout, shop_with_cart, wait_for_order
from tests.support.fakes.stripe_server import FakeStripe
from tests.support.worker_process import WorkerProcess, survivors, worker_environment

# The Stripe SDK's httpx client posts raw bytes with `data=`, which httpx deprecates.
# The API and worker here take payments through Stripe (its local fake).
pytestmark = [
    pytest.mark.payments("stripe"),
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]

# Upper bounds of the waits (never expected to be reached; a wait that reaches one fails the test).
WORKER_REACHES_STRIPE_S = 60.0  # a worker process boots, takes the workflow and activity tasks
RETRY_ANSWERS_S = 90.0  # the 10 s workflow task timeout, a second worker booting, the retry


@pytest.fixture
async def app(
    settings: Settings, temporal_env: WorkflowEnvironment, db: AsyncSession
) -> AsyncIterator[Any]:
    """The API without conftest's in-process worker: here the worker is a process of its own."""
    application = create_app(settings, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        yield application


async def until(
    done: Callable[[], bool], *, within: float, what: str, why_not: Callable[[], str]
) -> None:
    """Poll `done` (bounded): fail with `why_not()` when a worker died or time ran out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not done():
        reason = why_not()
        if reason or loop.time() > deadline:
            raise AssertionError(f"{what}: {reason or f'not within {within:.0f} s'}")
        await asyncio.sleep(0.02)


# --- reading the outcome ------------------------------------------------------------------------


async def _the_order(db: AsyncSession, user_id: uuid.UUID) -> Order:
    orders = (await db.execute(select(Order).where(Order.user_id == user_id))).scalars().all()
    await db.commit()
    assert len(orders) == 1, orders
    return orders[0]


@dataclass(frozen=True)
class Recovery:
    timed_out: list[Any]  # WorkflowTaskTimedOut attributes, in order
    session_markers: list[dict[str, Any]]  # local-activity markers of create_payment_session
    recorded_by: str  # identity of the worker whose workflow task recorded the session


async def _recovery(temporal: Client, order_id: uuid.UUID) -> Recovery:
    """How the checkout got its payment session, from the workflow history: the workflow tasks
    that timed out, the local-activity markers of `create_payment_session`, and which worker
    completed the workflow task that recorded it."""
    history = await temporal.get_workflow_handle(checkout_workflow_id(order_id)).fetch_history()
    timed_out, markers, recorded_by = [], [], ""
    last_completed = ""
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            timed_out.append(event.workflow_task_timed_out_event_attributes)
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_completed = event.workflow_task_completed_event_attributes.identity
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            attributes = event.marker_recorded_event_attributes
            if "data" not in attributes.details:
                continue  # a patch marker
            data = json.loads(attributes.details["data"].payloads[0].data)
            if data.get("activity_type") == "create_payment_session":
                markers.append(data)
                recorded_by = last_completed
    return Recovery(timed_out=timed_out, session_markers=markers, recorded_by=recorded_by)


# --- the test -----------------------------------------------------------------------------------


async def test_a_worker_killed_between_the_stripe_call_and_recording_it_charges_once(
    api: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    stripe_fake: FakeStripe,
    temporal: Client,
    tmp_path: Path,
) -> None:
    env = worker_environment(settings, temporal)
    workers: list[WorkerProcess] = []
    pending: asyncio.Task[httpx.Response] | None = None

    def logs() -> str:
        return "\n".join(w.output() for w in workers)

    def died(worker: WorkerProcess) -> Callable[[], str]:
        return lambda: "" if worker.alive() else f"the worker exited\n{logs()}"

    try:
        # 1. A worker process; Stripe will process the PaymentIntent create but keep its answer.
        hold = stripe_fake.hold_next("POST", "/v1/payment_intents")
        first = WorkerProcess(env, tmp_path / "worker-1.log")
        workers.append(first)

        # 2. A customer (registering runs a verification workflow: the worker is serving), a plan
        # in the cart; the customer checks out and POST /checkout waits for the payment session.
        try:
            async with asyncio.timeout(WORKER_REACHES_STRIPE_S):
                buyer, _ = await shop_with_cart(api, db)
        except TimeoutError:
            raise AssertionError(f"no worker served the registration\n{logs()}") from None
        pending = asyncio.create_task(checkout(api, buyer))

        # 3. Stripe has the PaymentIntent, the worker is waiting for the answer: kill it there.
        await until(
            hold.arrived.is_set,
            within=WORKER_REACHES_STRIPE_S,
            what="the worker never asked Stripe for a PaymentIntent",
            why_not=died(first),
        )
        assert hold.request is not None
        pi_id = hold.body["id"]
        assert list(stripe_fake.payment_intents) == [pi_id]
        assert first.kill() == -signal.SIGKILL
        hold.release()  # the answer is written to a dead peer

        # 4. The crash fell between the provider call and the recording: nothing recorded.
        order = await _the_order(db, buyer.id)
        key = f"order:{order.id}:session"
        assert hold.request.idempotency_key == key
        assert order.provider_ref is None
        assert order.status == "pending_payment"
        assert not pending.done()  # the customer has no payment session yet

        # 5. A new worker. Once the first worker's workflow task has timed out, the new worker
        # replays and runs the step again: the same Idempotency-Key, Stripe replays the
        # PaymentIntent it created.
        second = WorkerProcess(env, tmp_path / "worker-2.log")
        workers.append(second)
        await until(
            pending.done,
            within=RETRY_ANSWERS_S,
            what="POST /checkout never answered after the restart",
            why_not=died(second),
        )
        started = pending.result()
        assert started.status_code == 201, started.text
        payment = started.json()["payment"]
        assert payment["provider_ref"] == pi_id
        assert payment["client_secret"] == stripe_fake.intent(pi_id)["client_secret"]
        assert payment["client_secret"] == hold.body["client_secret"]
        await db.refresh(order)
        await db.commit()
        assert order.provider_ref == pi_id

        # The first worker's workflow task (it was running the step) timed out; the second
        # worker's replay ran the step again and recorded it, once.
        recovery = await _recovery(temporal, order.id)
        assert [t.timeout_type for t in recovery.timed_out][:1] == [
            TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
        ]
        assert len(recovery.session_markers) == 1, recovery.session_markers
        assert recovery.recorded_by.startswith(f"{second.pid}@"), recovery.recorded_by

        # 6. The customer pays that PaymentIntent; Stripe's signed webhook completes the order.
        charge_id = stripe_fake.succeed(pi_id)
        body, headers = stripe_fake.webhook("payment_intent.succeeded", stripe_fake.intent(pi_id))
        delivered = await api.post("/webhooks/stripe", content=body, headers=headers)
        assert delivered.status_code == 200, delivered.text
        done = await wait_for_order(api, buyer, str(order.id), {"completed", "failed", "expired"})
        assert done["status"] == "completed", done

        # 7. One PaymentIntent, asked for twice with one key (the second answered from Stripe's
        # idempotency store); one customer; one subscription; one captured ledger entry.
        creates = stripe_fake.requests_to("POST", "/v1/payment_intents")
        assert [c.idempotency_key for c in creates] == [key, key]
        assert [c.replayed for c in creates] == [False, True]
        assert [c.extra.get("held", False) for c in creates] == [True, False]
        assert creates[0].params == creates[1].params
        assert list(stripe_fake.payment_intents) == [pi_id]
        assert len(stripe_fake.requests_to("POST", "/v1/customers")) == 1
        assert len(stripe_fake.customers) == 1
        assert await count_rows(db, Subscription, Subscription.order_id == order.id) == 1
        captured = (
            (
                await db.execute(
                    select(LedgerEntry).where(
                        LedgerEntry.order_id == order.id, LedgerEntry.kind == "captured"
                    )
                )
            )
            .scalars()
            .all()
        )
        await db.commit()
        assert [(c.provider_ref, c.provider_payment_id, c.amount_minor) for c in captured] == [
            (pi_id, charge_id, 299900)
        ]
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        for worker in workers:
            worker.kill()
        left = survivors(workers, settings.temporal_task_queue)
        assert not left, f"worker processes survived the test: {left}"
