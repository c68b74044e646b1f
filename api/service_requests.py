"""How the API drives ServiceRequestWorkflow: start a request's workflow (update-with-start, so
the answer comes once its visit is reserved, or with the ledger's refusal), and every move as an
update.
A refused move is a 409 with the workflow's reason; a request whose workflow has ended takes
no more moves.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle

from core import workflow_calls
from core.settings import Settings
from domain import workflow_starts
from domain.service_requests.contracts import (
    Assign,
    Cancel,
    Complete,
    Rate,
    RequestInput,
    RequestPolicy,
    RequestState,
    Reschedule,
    Start,
    service_request_workflow_id,
)
from domain.workflow_labels import RequestFacts
from workflows.service_request import ServiceRequestWorkflow

ENDED = "this request's life is over: it takes no more changes"


def policy_from(settings: Settings) -> RequestPolicy:
    return RequestPolicy(
        escalate_after_seconds=settings.request_escalate_after_hours * 3600,
        overdue_margin_seconds=settings.request_overdue_margin_hours * 3600,
        rating_seconds=settings.request_rating_days * 86_400,
    )


def _handle(temporal: Client, request_id: uuid.UUID) -> WorkflowHandle[Any, RequestState]:
    return temporal.get_workflow_handle(
        service_request_workflow_id(request_id), result_type=RequestState
    )


async def start_request_workflow(
    temporal: Client, settings: Settings, inp: RequestInput, facts: RequestFacts
) -> RequestState:
    """Start the request's workflow (or find it: the same request again is the same workflow)
    and answer once its visit is reserved; Conflict with the ledger's reason when refused.
    `facts` is what the Web UI shows of it beside the window and postcode."""
    operation = WithStartWorkflowOperation(
        ServiceRequestWorkflow.run,
        inp,
        **workflow_starts.service_request(inp, settings.temporal_task_queue, facts),
    )
    return await workflow_calls.update_with_start(
        temporal, ServiceRequestWorkflow.opened, operation, gone=ENDED
    )


async def assign(temporal: Client, request_id: uuid.UUID, move: Assign) -> RequestState:
    return await workflow_calls.update(
        _handle(temporal, request_id), ServiceRequestWorkflow.assign, move, gone=ENDED
    )


async def start(temporal: Client, request_id: uuid.UUID, move: Start) -> RequestState:
    return await workflow_calls.update(
        _handle(temporal, request_id), ServiceRequestWorkflow.start, move, gone=ENDED
    )


async def complete(temporal: Client, request_id: uuid.UUID, move: Complete) -> RequestState:
    return await workflow_calls.update(
        _handle(temporal, request_id), ServiceRequestWorkflow.complete, move, gone=ENDED
    )


async def cancel(temporal: Client, request_id: uuid.UUID, move: Cancel) -> RequestState:
    return await workflow_calls.update(
        _handle(temporal, request_id), ServiceRequestWorkflow.cancel, move, gone=ENDED
    )


async def reschedule(temporal: Client, request_id: uuid.UUID, move: Reschedule) -> RequestState:
    return await workflow_calls.update(
        _handle(temporal, request_id), ServiceRequestWorkflow.reschedule, move, gone=ENDED
    )


async def rate(temporal: Client, request_id: uuid.UUID, move: Rate) -> RequestState:
    return await workflow_calls.update(
        _handle(temporal, request_id),
        ServiceRequestWorkflow.rate,
        move,
        gone="the time to rate this visit is over",
    )
