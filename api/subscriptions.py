"""How the API drives SubscriptionWorkflow: updates (auto-renewal, cancellation with its quote,
extension, the visit ledger) and the live state. A refused update is a 409 with the workflow's
reason; a subscription whose workflow has ended (expired or cancelled) takes no more changes.

A subscription paid a moment ago is in the read model (live) just before its workflow starts (the
order's last step starts it after settling): a change to it waits for that start, briefly, rather
than answer that the plan has ended.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.workflow import UpdateMethodMultiParam

from core import workflow_calls
from core.errors import Unavailable
from domain.subscriptions.contracts import (
    LIVE,
    AutoRenewChange,
    CancellationQuote,
    CancelOutcome,
    CancelRequest,
    ExtendRequest,
    QuoteRequest,
    Reservation,
    SubscriptionState,
    SubscriptionStatus,
    VisitRef,
    VisitRequest,
    subscription_workflow_id,
)
from domain.subscriptions.models import Subscription
from workflows.subscription import SubscriptionWorkflow

ENDED = "this subscription has ended (expired or cancelled): it cannot be changed"
STARTING = "this plan is still being set up after its payment; try again in a moment"
# How long a change to a live subscription waits for its workflow to start (see the docstring).
STARTING_WAIT_S = 5.0

Arg = TypeVar("Arg")
Result = TypeVar("Result")


def _handle(temporal: Client, subscription_id: uuid.UUID) -> WorkflowHandle[Any, SubscriptionState]:
    return temporal.get_workflow_handle(
        subscription_workflow_id(subscription_id), result_type=SubscriptionState
    )


async def set_auto_renew(
    temporal: Client, subscription: Subscription, change: AutoRenewChange
) -> SubscriptionState:
    return await _change(temporal, subscription, SubscriptionWorkflow.set_auto_renew, change)


async def quote(
    temporal: Client, subscription: Subscription, request: QuoteRequest
) -> CancellationQuote:
    return await _change(temporal, subscription, SubscriptionWorkflow.quote_cancellation, request)


async def cancel(
    temporal: Client, subscription: Subscription, request: CancelRequest
) -> CancelOutcome:
    return await _change(temporal, subscription, SubscriptionWorkflow.cancel, request)


async def extend(
    temporal: Client, subscription: Subscription, request: ExtendRequest
) -> SubscriptionState:
    return await _change(temporal, subscription, SubscriptionWorkflow.extend, request)


async def _change(
    temporal: Client,
    subscription: Subscription,
    method: UpdateMethodMultiParam[[Any, Arg], Result],
    arg: Arg,
) -> Result:
    """The update, to the workflow of `subscription` (the read model's row). Not found: ended
    (409), unless the read model holds it as live: then it is starting, and is waited for."""
    handle = _handle(temporal, subscription.id)
    try:
        return await workflow_calls.update(handle, method, arg, gone=ENDED)
    except workflow_calls.WorkflowGone:
        if SubscriptionStatus(subscription.status) not in LIVE:
            raise
    await _started(handle)
    return await workflow_calls.update(handle, method, arg, gone=ENDED)


async def _started(handle: WorkflowHandle[Any, Any]) -> None:
    """Return once the workflow exists (running, or ended a moment before the read model heard);
    Unavailable (503, try again) if it has not started within STARTING_WAIT_S (its order's
    worker is down, say)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTING_WAIT_S
    pause = 0.05
    while await workflow_calls.or_none(handle.describe()) is None:
        if loop.time() >= deadline:
            raise Unavailable(STARTING, headers={"Retry-After": str(int(STARTING_WAIT_S))})
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


async def reserve_visit(
    temporal: Client, subscription_id: uuid.UUID, request: VisitRequest
) -> Reservation:
    return await workflow_calls.update(
        _handle(temporal, subscription_id),
        SubscriptionWorkflow.reserve_visit,
        request,
        gone="this subscription has ended: it has no visits to book",
    )


async def consume_visit(temporal: Client, subscription_id: uuid.UUID, ref: VisitRef) -> Reservation:
    return await workflow_calls.update(
        _handle(temporal, subscription_id), SubscriptionWorkflow.consume_visit, ref, gone=ENDED
    )


async def release_visit(temporal: Client, subscription_id: uuid.UUID, ref: VisitRef) -> Reservation:
    return await workflow_calls.update(
        _handle(temporal, subscription_id), SubscriptionWorkflow.release_visit, ref, gone=ENDED
    )
