"""How the API drives CampaignWorkflow: start it (update-with-start: the answer comes once the
audience is frozen), pause, resume and cancel it (updates whose validators give the reason of a
refused move, a 409), and ask its live progress; and starts a test send (CampaignTestWorkflow).
A campaign is started once: its workflow id is never used again after it ends."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import UpdateMethodMultiParam

from core import workflow_calls
from core.errors import Conflict
from core.settings import Settings
from domain import workflow_starts
from domain.campaigns.contracts import (
    CampaignProgress,
    CampaignRun,
    Move,
    MoveRequest,
    TestSend,
    campaign_workflow_id,
)
from domain.display import Customer
from domain.workflow_labels import CampaignFacts
from workflows.campaign import CampaignWorkflow
from workflows.campaign_test import CampaignTestWorkflow

ENDED = "this campaign has ended (completed or cancelled): it takes no more moves"


def run_input(settings: Settings, campaign_id: uuid.UUID) -> CampaignRun:
    """The workflow's input: the pace from the settings as the campaign starts."""
    return CampaignRun(
        campaign_id=campaign_id,
        batch_size=settings.campaign_batch_size,
        rate_per_second=settings.campaign_rate_per_second,
        batches_per_run=settings.campaign_batches_per_run,
    )


async def start(
    temporal: Client, settings: Settings, campaign_id: uuid.UUID, facts: CampaignFacts
) -> CampaignProgress:
    """Start the campaign's workflow (or find it running) and answer once its audience is frozen.
    Conflict when its workflow already ended."""
    inp = run_input(settings, campaign_id)
    operation = WithStartWorkflowOperation(
        CampaignWorkflow.run,
        inp,
        **workflow_starts.campaign(inp, settings.temporal_task_queue, facts),
    )
    try:
        return await workflow_calls.update_with_start(
            temporal, CampaignWorkflow.started, operation, gone=ENDED
        )
    except WorkflowAlreadyStartedError as exc:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await operation.workflow_handle()
        raise Conflict(ENDED) from exc


def _handle(temporal: Client, campaign_id: uuid.UUID) -> WorkflowHandle[Any, CampaignProgress]:
    return temporal.get_workflow_handle(
        campaign_workflow_id(campaign_id), result_type=CampaignProgress
    )


MOVES: dict[Move, UpdateMethodMultiParam[[Any, MoveRequest], CampaignProgress]] = {
    Move.pause: CampaignWorkflow.pause,
    Move.resume: CampaignWorkflow.resume,
    Move.cancel: CampaignWorkflow.cancel,
}


async def move(
    temporal: Client, campaign_id: uuid.UUID, which: Move, actor_id: uuid.UUID
) -> CampaignProgress:
    """Pause, resume or cancel; Conflict with the workflow's reason when refused."""
    return await workflow_calls.update(
        _handle(temporal, campaign_id), MOVES[which], MoveRequest(actor_id=actor_id), gone=ENDED
    )


async def progress(temporal: Client, campaign_id: uuid.UUID) -> CampaignProgress:
    """The live progress of a campaign's workflow (its last run's state once it ended)."""
    return await _handle(temporal, campaign_id).query(CampaignWorkflow.progress)


async def start_test(
    temporal: Client, settings: Settings, test: TestSend, facts: CampaignFacts, staff: Customer
) -> str:
    """Start a test send (a retried request finds the one it started); its workflow id."""
    options = workflow_starts.campaign_test(test, settings.temporal_task_queue, facts, staff)
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await temporal.start_workflow(CampaignTestWorkflow.run, test, **options)
    return options["id"]
