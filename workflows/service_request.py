"""ServiceRequestWorkflow (`service-request:{id}`): one visit a customer asked for, from the
reservation of a visit on their subscription to its completion and rating.

    (visit reserved) pending -> assigned -> in_progress -> completed (-> rated)
                     pending | assigned -> cancelled (the visit is released)

Every move is a Workflow Update with a validator, so a wrong one (complete before start, a
technician without the skill, outside the zone, inactive or booked then) is refused at once with
the reason and nothing changes; the booking step checks the technician again under the
database's guard (bookings never overlap), so a race is refused too. Completion consumes the
visit; cancellation releases it.

SLA timers, lengths in the policy: unassigned `escalate_after_seconds` after it was asked for ->
escalated (admins told, flagged); not completed by the end of its window plus
`overdue_margin_seconds` -> overdue. Both flags are in the read model and search attributes.

The database is the read model: every change is written by an activity with its time, actor and
note, keyed `request:{id}:{n}:{kind}` (n counts the request's changes), so a retried activity
writes and announces nothing twice. The writes and messages are in
`workflows/service_request_writes.py`.

Patches (the rule is the one in workflows/subscription.py: `deprecate_patch` once no open run can
take the old branch and no stored history needs it; deleted once no open run started under
`patched`). A request's run lasts until it is completed (and rated, or its rating window passed)
or cancelled. Nothing was ever deployed, so what holds a patch is the histories in tests/histories.
    messages-through-notifications: patched. service_request_{rated,moved_then_cancelled}.json,
        recorded before it, schedule `service_request.notify` (kept by name as RETIRED_NOTIFY for
        their replay alone: no worker registers it) and fail to replay on the new branch alone.
        Retired when those two histories are dropped on purpose.
    ended-before-flags: deprecated (`deprecate_patch`, the old branch gone). No history recorded
        before it has a flag's timer fire once the request had ended, so every stored history
        replays on the new branch; service_request_cancelled_as_escalation_fell_due_*.json,
        recorded under `patched`, holds its marker and replays too. The call is deleted once no
        run started under `patched` is open, with that history re-recorded.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.notify import Outgoing
from workflows.policies import DB_RETRY, STEP_TIMEOUT
from workflows.service_request_writes import RequestWrites

with workflow.unsafe.imports_passed_through():
    from activities.service_requests import ServiceRequestActivities
    from core.metrics import SERVICE_REQUEST_EVENTS, SLA_BREACHES, count
    from domain import workflow_timers as timers
    from domain.contracts import REQUEST_STATUS
    from domain.service_requests.contracts import (
        FINAL,
        NOT_STARTED,
        Assign,
        Booking,
        Cancel,
        Complete,
        MoveBooking,
        Opened,
        Rate,
        RequestInput,
        RequestState,
        Reschedule,
        Start,
        VisitCall,
    )
    from domain.service_requests.models import RequestStatus

LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["VisitRefused"],
)
# Deprecated patch id: a flag (escalated, overdue) whose timer fires once a move has ended the
# request (a cancellation or a completion, in the same task or still recording) is not raised
# (before: the admins were told that a request cancelled or completed that moment was escalated
# or overdue).
ENDED_FIRST = "ended-before-flags"


def _reason(exc: BaseException) -> str:
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    return getattr(cause, "message", None) or str(cause)


@workflow.defn
class ServiceRequestWorkflow(RequestWrites):
    @workflow.init
    def __init__(self, inp: RequestInput) -> None:
        self._inp = inp
        self._status = RequestStatus.pending
        self._technician: uuid.UUID | None = None
        self._window = (inp.window_start, inp.window_end)
        self._escalated = False
        self._overdue = False
        self._rated = False
        self._opened = False
        self._refused: str | None = None
        self._assigning = False
        self._asked_at: datetime | None = None
        self._count = 0  # changes recorded: part of every change's key
        self._changes = 0  # bumped by the updates that change what is due
        self._outgoing = Outgoing()

    @workflow.run
    async def run(self, inp: RequestInput) -> RequestState:
        self._asked_at = workflow.now()
        try:
            await workflow.execute_activity_method(
                ServiceRequestActivities.reserve_visit,
                VisitCall(
                    subscription_id=inp.subscription_id,
                    request_id=inp.request_id,
                    category_id=inp.category_id,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=LEDGER_RETRY,
            )
        except ActivityError as exc:
            # The subscription's ledger said no (not covered, no visits left, ended): nothing
            # was recorded; the API answers with the reason.
            self._refused = _reason(exc)
            workflow.upsert_search_attributes([REQUEST_STATUS.value_set("refused")])
            count(SERVICE_REQUEST_EVENTS, event="refused")
            return self.state()
        await workflow.execute_local_activity_method(
            ServiceRequestActivities.open_request,
            Opened(request=inp, at=workflow.now()),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._opened = True
        count(SERVICE_REQUEST_EVENTS, event="opened")
        await self._notify("received")
        while self._status not in FINAL:
            due = self._sla_due()
            seen = self._changes
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self._changes != seen,  # type: ignore[misc]
                    timeout=max(due[0] - workflow.now(), timedelta(0)) if due else None,
                    timeout_summary=timers.request_sla(due, self._inp.policy),
                )
            except TimeoutError:
                assert due is not None
                if self._status in FINAL:
                    workflow.deprecate_patch(ENDED_FIRST)
                    continue  # ended by a message meanwhile: nothing to flag
                await self._flag(due[1])
        if self._status == RequestStatus.completed:
            with contextlib.suppress(TimeoutError):  # not rated: the request stays completed
                await workflow.wait_condition(
                    lambda: self._rated,
                    timeout=timedelta(seconds=inp.policy.rating_seconds),
                    timeout_summary=timers.rating_window(workflow.now(), inp.policy),
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outgoing.drain()
        return self.state()

    # --- SLA ---------------------------------------------------------------------------------

    def _sla_due(self) -> tuple[datetime, str] | None:
        policy, due = self._inp.policy, []
        if self._status == RequestStatus.pending and not self._escalated:
            assert self._asked_at is not None
            due.append(
                (self._asked_at + timedelta(seconds=policy.escalate_after_seconds), "escalated")
            )
        if not self._overdue:
            due.append(
                (self._window[1] + timedelta(seconds=policy.overdue_margin_seconds), "overdue")
            )
        return min(due) if due else None

    async def _flag(self, kind: str) -> None:
        if kind == "escalated":
            self._escalated = True
            note = f"not assigned within {self._inp.policy.escalate_after_seconds // 3600} h"
        else:
            self._overdue = True
            note = "not completed by the end of its window"
        count(SLA_BREACHES, breach=kind)
        self._sync_search_attributes()
        await self._record(kind, self._status, self._status, note=note, fields={kind: True})
        await self._notify(kind, to_customer=False, to_admins=True, note=note)

    # --- opening -------------------------------------------------------------------------------

    @workflow.update
    async def opened(self) -> RequestState:
        """The request once its visit is reserved and it is recorded, or the ledger's refusal."""
        await workflow.wait_condition(lambda: self._opened or self._refused is not None)
        if self._refused is not None:
            raise ApplicationError(self._refused, type="VisitRefused", non_retryable=True)
        return self.state()

    # --- assignment ----------------------------------------------------------------------------

    @workflow.update
    async def assign(self, request: Assign) -> RequestState:
        # Checked again here: two admins' updates both pass the validator before either runs.
        problem = self._cannot_assign(request)
        if problem is None and self._assigning:
            problem = "someone is assigning this request right now; look at it again"
        if problem is not None:
            raise ApplicationError(problem, type="MoveRefused", non_retryable=True)
        self._assigning = True
        try:
            self._count += 1
            booked = await workflow.execute_local_activity_method(
                ServiceRequestActivities.book,
                Booking(
                    request_id=self._inp.request_id,
                    technician_id=request.technician_id,
                    at=workflow.now(),
                    actor=request.actor,
                    reason=request.reason,
                    suggested=request.suggested,
                    key=self._key("assigned"),
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if not booked.booked:
                raise ApplicationError(
                    booked.problem or "the technician cannot take it", type="MoveRefused"
                )
            was, previous = self._status, self._technician
            self._status, self._technician = RequestStatus.assigned, request.technician_id
            self._sync_search_attributes()
            kind = "reassigned" if previous is not None else "assigned"
            note = f"assigned to {booked.technician_name}"
            if request.reason:
                note += f": {request.reason}"
            await self._record(
                kind,
                was,
                self._status,
                actor=request.actor,
                note=note,
                fields={"technician_id": str(request.technician_id), "assigned_at": "now"},
                counted=False,
            )
            await self._notify(kind, to_technician=request.technician_id, note=note)
            if previous is not None and previous != request.technician_id:
                await self._notify("unassigned", to_customer=False, to_technician=previous)
        finally:
            self._assigning = False
        self._changes += 1
        return self.state()

    @assign.validator
    def _validate_assign(self, request: Assign) -> None:
        problem = self._cannot_assign(request)
        if problem is not None:
            raise ValueError(problem)

    def _cannot_assign(self, request: Assign) -> str | None:
        if self._status not in NOT_STARTED:
            return f"this request is {self._label()}: it cannot be assigned"
        if request.technician_id == self._technician:
            return "it is assigned to this technician already"
        if not request.reassign and self._status == RequestStatus.assigned:
            return "it has been assigned meanwhile; reassign it if you mean to change who goes"
        if request.reassign and self._status == RequestStatus.pending:
            return "it is not assigned yet: assign it"
        if not request.fit.eligible:
            return "; ".join(request.fit.problems) or "the technician cannot take it"
        return None

    # --- the visit ---------------------------------------------------------------------------

    @workflow.update
    async def start(self, request: Start) -> RequestState:
        self._status = RequestStatus.in_progress
        self._sync_search_attributes()
        await self._record(
            "started",
            RequestStatus.assigned,
            self._status,
            actor=request.actor,
            note=request.note,
            fields={"started_at": "now"},
        )
        await self._notify("started")
        self._changes += 1
        return self.state()

    @start.validator
    def _validate_start(self, request: Start) -> None:
        if self._status != RequestStatus.assigned:
            raise ValueError(f"only an assigned visit can start; this one is {self._label()}")
        self._ensure_technician(request.technician_id)

    @workflow.update
    async def complete(self, request: Complete) -> RequestState:
        self._status = RequestStatus.completed
        self._sync_search_attributes()
        await workflow.execute_activity_method(
            ServiceRequestActivities.consume_visit,
            self._visit(),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        await self._record(
            "completed",
            RequestStatus.in_progress,
            self._status,
            actor=request.actor,
            note=request.notes,
            fields={
                "completed_at": "now",
                "completion_notes": request.notes,
                "parts_used": [p.model_dump() for p in request.parts_used],
            },
        )
        await self._notify("completed")
        self._changes += 1
        return self.state()

    @complete.validator
    def _validate_complete(self, request: Complete) -> None:
        if self._status != RequestStatus.in_progress:
            raise ValueError(
                f"a visit is completed once it has started; this one is {self._label()}"
            )
        self._ensure_technician(request.technician_id)

    def _ensure_technician(self, technician_id: uuid.UUID | None) -> None:
        if technician_id is not None and technician_id != self._technician:
            raise ValueError("this visit is assigned to another technician")

    # --- before work starts: cancel, reschedule -------------------------------------------------

    @workflow.update
    async def cancel(self, request: Cancel) -> RequestState:
        was, technician = self._status, self._technician
        self._status = RequestStatus.cancelled
        self._sync_search_attributes()
        if technician is not None:
            await self._release_booking()
        await workflow.execute_activity_method(
            ServiceRequestActivities.release_visit,
            self._visit(),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        await self._record(
            "cancelled",
            was,
            self._status,
            actor=request.actor,
            note=request.reason,
            fields={"cancelled_at": "now"},
        )
        await self._notify("cancelled", to_technician=technician, note=request.reason)
        self._changes += 1
        return self.state()

    @cancel.validator
    def _validate_cancel(self, request: Cancel) -> None:
        if self._status not in NOT_STARTED:
            raise ValueError(
                f"this visit is {self._label()}: it can be cancelled only before work starts"
            )

    @workflow.update
    async def reschedule(self, request: Reschedule) -> RequestState:
        was, technician = self._status, self._technician
        self._window = (request.window_start, request.window_end)
        self._overdue = False
        # The timeline says "moved to <window>" in the business's zone (the activity writes the
        # words: no time is formatted in a workflow); the note adds only what else happened.
        note: str | None = None
        if technician is not None:
            moved = await workflow.execute_local_activity_method(
                ServiceRequestActivities.move_booking,
                MoveBooking(
                    request_id=self._inp.request_id,
                    window_start=request.window_start,
                    window_end=request.window_end,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if not moved.booked:
                # The technician cannot come then: the request needs someone else.
                await self._release_booking()
                self._status, self._technician = RequestStatus.pending, None
                self._asked_at = workflow.now()  # the escalation clock starts again
                note = f"the technician cannot come then ({moved.problem}): to be reassigned"
        self._sync_search_attributes()
        await self._record(
            "rescheduled",
            was,
            self._status,
            actor=request.actor,
            note=note,
            fields={
                "window_start": request.window_start.isoformat(),
                "window_end": request.window_end.isoformat(),
                "overdue": False,
                "technician_id": str(self._technician) if self._technician else None,
            },
        )
        await self._notify("rescheduled", to_technician=technician, note=note)
        self._changes += 1
        return self.state()

    @reschedule.validator
    def _validate_reschedule(self, request: Reschedule) -> None:
        if self._status not in NOT_STARTED:
            raise ValueError(
                f"this visit is {self._label()}: it can be moved only before work starts"
            )
        if (request.window_start, request.window_end) == self._window:
            raise ValueError("that is the window it has already")

    # --- after completion: the rating ------------------------------------------------------------

    @workflow.update
    async def rate(self, request: Rate) -> RequestState:
        self._rated = True
        await self._record(
            "rated",
            self._status,
            self._status,
            actor=request.actor,
            note=f"{request.stars}/5" + (f": {request.comment}" if request.comment else ""),
            fields={"rating": request.stars, "rating_comment": request.comment, "rated_at": "now"},
        )
        return self.state()

    @rate.validator
    def _validate_rate(self, request: Rate) -> None:
        if self._status != RequestStatus.completed:
            raise ValueError(f"a visit is rated once it is completed; this one is {self._label()}")
        if self._rated:
            raise ValueError("this visit has been rated already")
        if not 1 <= request.stars <= 5:
            raise ValueError("a rating is 1 to 5 stars")

    # --- the state -----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> RequestState:
        return RequestState(
            request_id=self._inp.request_id,
            status=self._status,
            technician_id=self._technician,
            window_start=self._window[0],
            window_end=self._window[1],
            escalated=self._escalated,
            overdue=self._overdue,
            rated=self._rated,
        )

    def _label(self) -> str:
        return self._status.value.replace("_", " ")
