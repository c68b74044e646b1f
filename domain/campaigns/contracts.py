"""What crosses the Temporal boundary for campaigns: the workflow's id, its input (the run's state,
carried across continue-as-new), the moves an admin makes and the rules that refuse them, the
activities' inputs and outputs.

The rules (`refusal`) are plain functions of a status, so the workflow's validators and the API
(for a campaign whose workflow has not started or has ended) give the same reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from domain.contracts import Contract

CAMPAIGN_WORKFLOW = "CampaignWorkflow"
# Every campaign message's key is `campaign:<id>:<user id>` (the Notifier adds the user).
KIND = "campaign.promotion"


def campaign_workflow_id(campaign_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}"


def campaign_key(campaign_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}"


class CampaignStatus(StrEnum):
    draft = "draft"  # created, not started: no audience yet
    running = "running"  # the audience is frozen; batches go out
    paused = "paused"  # no batch goes out until resumed
    cancelled = "cancelled"  # stopped for good; what went, went
    completed = "completed"  # everyone in the audience was sent their message


FINAL = (CampaignStatus.cancelled, CampaignStatus.completed)


class Move(StrEnum):
    start = "start"
    pause = "pause"
    resume = "resume"
    cancel = "cancel"


def refusal(move: Move, status: CampaignStatus) -> str | None:
    """Why `move` cannot be made to a campaign in `status` (None: it can)."""
    if status == CampaignStatus.completed:
        return f"this campaign has completed: everyone was sent it, there is nothing to {move}"
    if status == CampaignStatus.cancelled:
        what = {
            Move.resume: "it cannot be resumed",
            Move.start: "it cannot be started again; create a new campaign",
        }.get(move, f"there is nothing to {move}")
        return f"this campaign was cancelled: {what}"
    if move == Move.start:
        return None if status == CampaignStatus.draft else "this campaign has already started"
    if status == CampaignStatus.draft:
        return f"this campaign has not started: there is nothing to {move}; start it first"
    if move == Move.pause and status == CampaignStatus.paused:
        return "this campaign is already paused"
    if move == Move.resume and status == CampaignStatus.running:
        return "this campaign is running, not paused: there is nothing to resume"
    return None


class CampaignRun(Contract):
    """The workflow's input: the campaign and its pace, and where the previous run stopped (the
    keyset cursor: the last user id sent to) when it continued as new."""

    campaign_id: uuid.UUID
    batch_size: Annotated[int, Field(ge=1, le=5000)]
    rate_per_second: Annotated[float, Field(gt=0)]
    batches_per_run: Annotated[int, Field(ge=1)]
    # Carried over by continue-as-new.
    frozen: bool = False
    total: int = 0
    cursor: uuid.UUID | None = None
    sent: int = 0
    skipped: int = 0
    batches: int = 0
    runs: int = 1
    status: CampaignStatus = CampaignStatus.running
    next_batch_at: datetime | None = None


class CampaignProgress(Contract):
    campaign_id: uuid.UUID
    status: CampaignStatus
    total: int = Field(description="People in the frozen audience (0 until it is frozen)")
    sent: int = Field(description="People sent their message so far")
    skipped: int = Field(description="People no longer active when their batch came")
    batches: int
    runs: int = Field(description="Workflow runs so far (it continues as new every few batches)")


class MoveRequest(Contract):
    actor_id: uuid.UUID | None = None


# --- activities -------------------------------------------------------------------------------


class FreezeInput(Contract):
    campaign_id: uuid.UUID


class Frozen(Contract):
    total: int
    started_at: datetime


class BatchInput(Contract):
    campaign_id: uuid.UUID
    number: int  # 1-based, over the whole campaign
    after: uuid.UUID | None  # the keyset cursor: recipients with a greater user id
    limit: int
    # The progress before this batch, so the one written after it is the same on a retry.
    sent_before: int
    skipped_before: int


class BatchResult(Contract):
    last: uuid.UUID | None  # the greatest user id of the batch (None: it was empty)
    reached: int  # people sent their message (written now or by an earlier attempt)
    skipped: int  # recipients no longer active
    written: int  # messages written by this attempt
    done: bool  # nobody is left after this batch


class StatusChange(Contract):
    campaign_id: uuid.UUID
    status: CampaignStatus
    actor_id: uuid.UUID | None = None


# --- a test send: the campaign's message to the admin who asks, alone --------------------------

CAMPAIGN_TEST_WORKFLOW = "CampaignTestWorkflow"
# Staff's topic (their "jobs and alerts" choices), so it reaches the admin by email and push too,
# where an offer would reach them only if they had asked for offers.
TEST_KIND = "campaign.test"


def campaign_test_key(campaign_id: uuid.UUID, test_id: uuid.UUID) -> str:
    """The test's workflow id and its message's key (the Notifier adds the user)."""
    return f"campaign:{campaign_id}:test:{test_id}"


class TestSend(Contract):
    campaign_id: uuid.UUID
    staff_id: uuid.UUID
    test_id: uuid.UUID
