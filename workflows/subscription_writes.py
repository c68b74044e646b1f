"""SubscriptionWorkflow's writes: the read model, refunds, the customer's messages, the search
attributes.

A base of the workflow class (it has no handlers of its own): `workflows/subscription.py` reads as
the lifecycle and calls these for the how. The order of the writes, and why they take turns, is in
that module's docstring ("One writer at a time"); the patch ids and their retirement plan too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.workflow import ParentClosePolicy

from workflows.notify import Outgoing
from workflows.policies import DB_RETRY, STEP_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.subscriptions import SubscriptionActivities
    from domain import workflow_labels as labels
    from domain import workflow_timers as timers
    from domain.contracts import FLOW_STATUS, SUBSCRIPTION_ENDS_AT, RefundInput, refund_workflow_id
    from domain.notifications.contracts import To
    from domain.subscriptions import keys, notices, policy
    from domain.subscriptions.contracts import (
        LIVE,
        LateRenewal,
        Notice,
        PeriodTerms,
        Policy,
        RefundMade,
        RenewalPaid,
        Reservation,
        ReservationChange,
        Schedule,
        StatusChange,
        SubscriptionInput,
        SubscriptionStatus,
    )
    from workflows.refund import RefundWorkflow

# Patch ids (workflow.patched), oldest first; see the plan in workflows/subscription.py.
# Messages go through the notifications activity (before: inside notify and record_change).
MESSAGES = "messages-through-notifications"
# The schedule (what is due next) written with the change that moved it, in the same local
# activity (before: a second local activity after it, one more transaction per reminder).
SCHEDULE_WITH_CHANGE = "schedule-with-change"
# The read model written one local activity at a time, each input made when its turn comes, and
# a handler's change seen by the main loop at once: a due it had been waiting for is acted on only
# if no message changed what is due (before: a handler's write could run beside the main loop's
# and land after a newer one, and a reminder whose timer fired in the task of a cancellation was
# still sent). Also: a renewal declined once the subscription has ended announces no retry.
IN_ORDER = "writes-in-order"
# The activity the runs from before MESSAGES sent their reminders and notices with. Its
# implementation is gone (no such run is open: nothing was deployed before MESSAGES); the
# histories recorded before it still schedule it, so replay needs the command, by this name.
RETIRED_NOTIFY = "notify"
WORKFLOW = "workflow"


class SubscriptionWrites:
    """What the workflow writes and sends, from the state it keeps (set by the workflow)."""

    _inp: SubscriptionInput
    _policy: Policy
    _status: SubscriptionStatus
    _period: PeriodTerms
    _upcoming: list[PeriodTerms]
    _auto_renew: bool
    _method: uuid.UUID | None
    _done: set[str]  # what was done in this period (reminder:30, pre_debit, charge, retry:1...)
    _attempt: int  # charges made for the next period: 1 the first, 2 the first retry...
    _first_failure: datetime | None
    _processing: uuid.UUID | None  # a renewal order the provider still settles
    _changes: int  # bumped by every message that changes what is due: the main loop wakes on it
    _published: Schedule | None
    _writes: asyncio.Lock
    _outgoing: Outgoing

    def _charges(self) -> list[policy.Due]:
        """The automatic renewal's charges still due (none when it is not automatic, the next
        period is bought already, or the subscription has ended)."""
        if (
            self._status not in LIVE
            or self._upcoming
            or not self._auto_renew
            or self._method is None
        ):
            return []
        charging = policy.Charging(self._attempt, self._first_failure, self._processing is not None)
        return policy.charges_due(
            self._period, self._policy, charging, done=self._done, now=workflow.now()
        )

    def _schedule(self) -> Schedule:
        reminder, charge = policy.schedule(
            self._period,
            self._policy,
            status=self._status,
            renewed=bool(self._upcoming),
            done=self._done,
            charges=self._charges(),
        )
        return Schedule(
            subscription_id=self._inp.subscription_id,
            next_reminder_at=reminder,
            next_charge_at=charge,
        )

    # --- the read model, one write at a time -----------------------------------------------------

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """A write to the read model, in its turn: one at a time, in the order they were asked
        for, each input made once its turn has come, so the last written is the newest (patch
        IN_ORDER; the runs from before it wrote at once, beside each other)."""
        if not workflow.patched(IN_ORDER):
            yield
            return
        async with self._writes:
            yield

    def _wake(self) -> bool:
        """A handler has changed what is due: wake the main loop now (patch IN_ORDER), so a
        timer that fires in this same task is not acted on (its write waits its turn behind the
        handler's). False in the runs from before it, whose handlers wake the loop after their
        write."""
        if not workflow.patched(IN_ORDER):
            return False
        self._changes += 1
        return True

    async def _record(
        self,
        kind: str,
        *,
        actor: str,
        detail: str | None = None,
        from_status: SubscriptionStatus | None = None,
        notify: bool = True,
        retry_at: datetime | None = None,
    ) -> None:
        """Write a change to the read model (and announce it), once per period and kind."""
        # Runs from before the patch announced inside record_change (they replay; no such run is
        # open); later ones send the message through the notifications activity.
        through_notifications = workflow.patched(MESSAGES)
        async with self._turn():
            schedule = self._schedule() if workflow.patched(SCHEDULE_WITH_CHANGE) else None
            await workflow.execute_local_activity_method(
                SubscriptionActivities.record_change,
                StatusChange(
                    subscription_id=self._inp.subscription_id,
                    period=self._period.number,
                    kind=kind,
                    at=workflow.now(),
                    actor=actor,
                    from_status=from_status,
                    to_status=self._status,
                    detail=detail,
                    retry_at=retry_at,
                    ends_at=self._period.ends_at,
                    grace_ends_at=policy.grace_end(self._period, self._policy),
                    auto_renew=self._auto_renew,
                    payment_method_id=self._method,
                    schedule=schedule if schedule != self._published else None,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if schedule is not None:
                self._published = schedule
        if through_notifications and notify and notices.announced(kind):
            self._announce(kind, detail, retry_at)

    async def _publish_schedule(self) -> None:
        async with self._turn():
            schedule = self._schedule()
            if schedule == self._published:
                return
            await workflow.execute_local_activity_method(
                SubscriptionActivities.publish_schedule,
                schedule,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            self._published = schedule

    async def _record_reservation(self, reservation: Reservation) -> None:
        async with self._turn():
            await workflow.execute_local_activity_method(
                SubscriptionActivities.record_reservation,
                ReservationChange(
                    subscription_id=self._inp.subscription_id,
                    reservation=reservation,
                    at=workflow.now(),
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )

    # --- refunds --------------------------------------------------------------------------------

    async def _refund_late(self, paid: RenewalPaid) -> None:
        made = await workflow.execute_local_activity_method(
            SubscriptionActivities.refund_late_renewal,
            LateRenewal(
                subscription_id=self._inp.subscription_id,
                order_id=paid.order_id,
                at=workflow.now(),
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if made is not None:
            await self._start_refund(made)

    async def _start_refund(self, refund: RefundMade) -> None:
        # The refund outlives this workflow, which ends soon: ABANDON.
        label = labels.subscription_refund(
            refund.refund_id,
            refund.order_id,
            self._inp.subscription_id,
            refund.amount_minor,
            self._period.currency,
        )
        await workflow.start_child_workflow(
            RefundWorkflow.run,
            RefundInput(
                refund_id=refund.refund_id, order_id=refund.order_id, user_id=self._inp.user_id
            ),
            id=refund_workflow_id(refund.refund_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=label.summary,
            static_details=label.details,
        )

    # --- the customer's messages -------------------------------------------------------------

    async def _notify(
        self, kind: str, *, detail: str | None = None, retry_at: datetime | None = None
    ) -> None:
        """A reminder or notice: in the timeline, and to the customer."""
        if workflow.patched(MESSAGES):
            await self._record(kind, actor=WORKFLOW, detail=detail, notify=False, retry_at=retry_at)
            self._announce(kind, detail, retry_at)
            return
        # Replay of the runs from before MESSAGES alone (see RETIRED_NOTIFY).
        await workflow.execute_activity(
            RETIRED_NOTIFY,
            Notice(
                subscription_id=self._inp.subscription_id,
                period=self._period.number,
                kind=kind,
                at=workflow.now(),
                ends_at=self._period.ends_at,
                detail=detail,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    def _announce(self, kind: str, detail: str | None, retry_at: datetime | None = None) -> None:
        message, refs = notices.message(kind)
        if retry_at is not None:
            refs["retry_at"] = retry_at.isoformat()
        self._outgoing.send(
            message,
            keys.period_key(self._inp.subscription_id, self._period.number, kind),
            To(user_id=self._inp.user_id),
            subscription_id=str(self._inp.subscription_id),
            ends_at=self._period.ends_at.isoformat(),
            detail=detail,
            **refs,
        )

    # --- search attributes -----------------------------------------------------------------------

    def _sync_search_attributes(self) -> None:
        """FlowStatus and SubscriptionEndsAt as they are now; an upsert only when they differ
        (each is an event in the history)."""
        ends = self._upcoming[-1].ends_at if self._upcoming else self._period.ends_at
        current = workflow.info().typed_search_attributes
        updates: list[SearchAttributeUpdate[Any]] = []
        if current.get(FLOW_STATUS) != self._status.value:
            updates.append(FLOW_STATUS.value_set(self._status.value))
        if current.get(SUBSCRIPTION_ENDS_AT) != ends:
            updates.append(SUBSCRIPTION_ENDS_AT.value_set(ends))
        if updates:
            workflow.upsert_search_attributes(updates)
        # The detail page's current details (metadata, not a command): the state now, and the
        # label it started with (a continued run has no static summary of its own).
        workflow.set_current_details(
            timers.now_and_then(
                timers.subscription_now(
                    self._status.value,
                    self._period.number,
                    self._period.ends_at,
                    self._upcoming[-1].ends_at if self._upcoming else None,
                ),
                workflow.memo(),
            )
        )
