"""CampaignWorkflow (`campaign:{id}`): one promotion sent to its audience in batches.

    start -> (audience frozen) running <-> paused -> completed | cancelled

The first step freezes the audience (`campaign_recipients`, by user id). Then batches of
`batch_size` people go out in user-id order, the keyset cursor (the last user id sent to) kept in
the workflow's state, no faster than `rate_per_second`: a batch starts no sooner than
batch_size / rate seconds after the one before (a durable timer when the batch was quicker).
Each batch is one activity that writes every person's message once (keys
`campaign:<id>:<user id>`) and hands it to the channels their choices allow, so a worker killed
mid-batch leaves a batch that runs again and finds what was written: nobody skipped, nobody twice.

Pause, resume and cancel are Workflow Updates with validators (a wrong move is refused at once
with the reason, see `contracts.refusal`); each writes the new status to the campaigns table
before it answers. A pause or cancel takes effect at the next batch boundary: the batch in
flight finishes. `progress` is a query. After `batches_per_run` batches (or when Temporal
suggests it) the workflow continues as new with its cursor and counts, so its history stays a
few hundred events however large the audience.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from workflows.policies import CAMPAIGN_STEP_TIMEOUT, DB_RETRY

with workflow.unsafe.imports_passed_through():
    from activities.campaigns import CampaignActivities
    from core.metrics import CAMPAIGN_RECIPIENTS, count
    from domain import workflow_timers as timers
    from domain.campaigns.contracts import (
        CAMPAIGN_WORKFLOW,
        CampaignProgress,
        CampaignRun,
        CampaignStatus,
        FreezeInput,
        Move,
        MoveRequest,
        StatusChange,
        refusal,
    )
    from domain.campaigns.contracts import BatchInput as Batch
    from domain.contracts import FLOW_STATUS

# A batch that met a provider's passing failure (429, 5xx) is tried again with this backoff; the
# Notifier records a delivery failed after NOTIFY_MAX_ATTEMPTS, then the batch completes.
BATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)
BATCH_TIMEOUT = timedelta(minutes=10)
# The batch heartbeats every 2 s: a worker that died is noticed after this, and the batch retried.
BATCH_HEARTBEAT = timedelta(seconds=10)


@workflow.defn(name=CAMPAIGN_WORKFLOW)
class CampaignWorkflow:
    @workflow.init
    def __init__(self, run: CampaignRun) -> None:
        self._run = run
        self._status = run.status
        self._frozen = run.frozen
        self._total = run.total
        self._cursor = run.cursor
        self._sent = run.sent
        self._skipped = run.skipped
        self._batches = run.batches
        self._next_at: datetime | None = run.next_batch_at
        self._recording = asyncio.Lock()

    @workflow.run
    async def run(self, run: CampaignRun) -> CampaignProgress:
        if not self._frozen:
            frozen = await workflow.execute_activity_method(
                CampaignActivities.freeze,
                FreezeInput(campaign_id=run.campaign_id),
                start_to_close_timeout=CAMPAIGN_STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            self._total, self._frozen = frozen.total, True
        interval = timedelta(seconds=run.batch_size / run.rate_per_second)
        in_this_run = 0
        while self._status != CampaignStatus.cancelled:
            if self._status == CampaignStatus.paused:
                await workflow.wait_condition(lambda: self._status != CampaignStatus.paused)
                continue
            if in_this_run >= run.batches_per_run or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._status == CampaignStatus.running:
                    workflow.continue_as_new(self._carried())
                continue
            if self._next_at is not None and workflow.now() < self._next_at:
                # The pace: woken early by a pause or a cancel.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._status != CampaignStatus.running,
                        timeout=self._next_at - workflow.now(),
                        timeout_summary=timers.campaign_pace(self._batches + 1, self._next_at),
                    )
                continue
            began = workflow.now()
            result = await workflow.execute_activity_method(
                CampaignActivities.send_batch,
                Batch(
                    campaign_id=run.campaign_id,
                    number=self._batches + 1,
                    after=self._cursor,
                    limit=run.batch_size,
                    sent_before=self._sent,
                    skipped_before=self._skipped,
                ),
                start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=BATCH_HEARTBEAT,
                retry_policy=BATCH_RETRY,
            )
            in_this_run += 1
            self._batches += 1
            self._sent += result.reached
            self._skipped += result.skipped
            count(CAMPAIGN_RECIPIENTS, result.reached, outcome="reached")
            count(CAMPAIGN_RECIPIENTS, result.skipped, outcome="skipped")
            self._cursor = result.last or self._cursor
            self._next_at = began + interval
            # The detail page's current details (metadata): progress, and the label it started
            # with (a continued run has no static summary of its own).
            workflow.set_current_details(
                timers.now_and_then(
                    timers.campaign_now(self._sent, self._total, self._batches),
                    workflow.memo(),
                )
            )
            if result.done:
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._status != CampaignStatus.cancelled:
            self._status = CampaignStatus.completed
            await self._record(None)
        return self.progress()

    def _carried(self) -> CampaignRun:
        return self._run.model_copy(
            update={
                "frozen": self._frozen,
                "total": self._total,
                "cursor": self._cursor,
                "sent": self._sent,
                "skipped": self._skipped,
                "batches": self._batches,
                "runs": self._run.runs + 1,
                "status": self._status,
                "next_batch_at": self._next_at,
            }
        )

    async def _record(self, actor_id: uuid.UUID | None) -> None:
        """Write the status as it is now (in order: a pause and a resume racing each other leave
        the table saying what the workflow does)."""
        await workflow.wait_condition(lambda: self._frozen)  # the row says running from then on
        async with self._recording:
            status = self._status
            workflow.upsert_search_attributes([FLOW_STATUS.value_set(status.value)])
            await workflow.execute_activity_method(
                CampaignActivities.record_status,
                StatusChange(
                    campaign_id=self._run.campaign_id,
                    status=status,
                    actor_id=actor_id,
                ),
                start_to_close_timeout=CAMPAIGN_STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )

    # --- the admin's moves --------------------------------------------------------------------

    @workflow.update
    async def started(self) -> CampaignProgress:
        """The campaign once its audience is frozen (its size known)."""
        await workflow.wait_condition(lambda: self._frozen)
        return self.progress()

    def _refuse(self, move: Move) -> None:
        problem = refusal(move, self._status)
        if problem is not None:
            raise ApplicationError(problem, type="MoveRefused", non_retryable=True)

    @workflow.update
    async def pause(self, request: MoveRequest) -> CampaignProgress:
        self._refuse(Move.pause)  # again: two updates may both pass the validator
        self._status = CampaignStatus.paused
        await self._record(request.actor_id)
        return self.progress()

    @pause.validator
    def _pause_allowed(self, request: MoveRequest) -> None:
        self._refuse(Move.pause)

    @workflow.update
    async def resume(self, request: MoveRequest) -> CampaignProgress:
        self._refuse(Move.resume)
        self._status = CampaignStatus.running
        await self._record(request.actor_id)
        return self.progress()

    @resume.validator
    def _resume_allowed(self, request: MoveRequest) -> None:
        self._refuse(Move.resume)

    @workflow.update
    async def cancel(self, request: MoveRequest) -> CampaignProgress:
        self._refuse(Move.cancel)
        self._status = CampaignStatus.cancelled
        await self._record(request.actor_id)
        return self.progress()

    @cancel.validator
    def _cancel_allowed(self, request: MoveRequest) -> None:
        self._refuse(Move.cancel)

    @workflow.query
    def progress(self) -> CampaignProgress:
        return CampaignProgress(
            campaign_id=self._run.campaign_id,
            status=self._status,
            total=self._total,
            sent=self._sent,
            skipped=self._skipped,
            batches=self._batches,
            runs=self._run.runs,
        )
