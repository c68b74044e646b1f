"""How the API drives SubscriptionWorkflow: updates (auto-renewal, cancellation with its quote,
extension, the visit ledger) and the live state. A refused update is a 409 with the workflow's
reason; a subscription whose workflow has ended (expired or cancelled) takes no more changes.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client, WorkflowHandle

from core import workflow_calls
from domain.subscriptions.contracts import (
    AutoRenewChange,
    CancellationQuote,
    CancelOutcome,
    CancelRequest,
    ExtendRequest,
    QuoteRequest,
    Reservation,
    SubscriptionState,
    VisitRef,
    VisitRequest,
    subscription_workflow_id,
)
from workflows.subscription import SubscriptionWorkflow

ENDED = "this subscription has ended (expired or cancelled): it cannot be changed"


def _handle(temporal: Client, subscription_id: uuid.UUID) -> WorkflowHandle[Any, SubscriptionState]:
    return temporal.get_workflow_handle(
        subscription_workflow_id(subscription_id), result_type=SubscriptionState
    )


async def set_auto_renew(
    temporal: Client, subscription_id: uuid.UUID, change: AutoRenewChange
) -> SubscriptionState:
    return await workflow_calls.update(
        _handle(temporal, subscription_id), SubscriptionWorkflow.set_auto_renew, change, gone=ENDED
    )


async def quote(
    temporal: Client, subscription_id: uuid.UUID, request: QuoteRequest
) -> CancellationQuote:
    return await workflow_calls.update(
        _handle(temporal, subscription_id),
        SubscriptionWorkflow.quote_cancellation,
        request,
        gone=ENDED,
    )


async def cancel(
    temporal: Client, subscription_id: uuid.UUID, request: CancelRequest
) -> CancelOutcome:
    return await workflow_calls.update(
        _handle(temporal, subscription_id), SubscriptionWorkflow.cancel, request, gone=ENDED
    )


async def extend(
    temporal: Client, subscription_id: uuid.UUID, request: ExtendRequest
) -> SubscriptionState:
    return await workflow_calls.update(
        _handle(temporal, subscription_id), SubscriptionWorkflow.extend, request, gone=ENDED
    )


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
