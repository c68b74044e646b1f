"""SubscriptionWorkflow (`subscription:{id}`): one subscription's life, one period per run.

    active --(reminders before the end; auto-renewal charged a lead before it)--> period end
      renewed: the next period starts at the old end (continue-as-new)
      not renewed: grace --(renewed: continuity kept)--> ... | --(grace ends)--> expired
    active --(auto-renewal declined)--> past_due --(retries on the dunning schedule)--> ...
    any live state --(cancel, with the refund quoted first)--> cancelled

The workflow owns the lifecycle and the visit ledger; the database is its read model, written by
its activities (every change with its time and actor, one write at a time in the order the
workflow decided them, though handlers and the main loop run side by side) and read by the API.
It waits for the earliest thing due (a reminder, a charge, a retry, the end of the period or of
grace) on one durable timer, and wakes early when a message changes what is due; a due whose
timer fires in the same task as such a message is looked at again, not acted on. Every message
it sends is keyed by subscription, period and kind (`sub:{id}:period:{n}:{kind}`), so a retried
activity or a replayed history never sends one twice.

Messages: `renewal_paid` (signal, from the settlement of a renewal order: the customer's manual
renewal); updates `reserve_visit` / `consume_visit` / `release_visit` (the service requests),
`set_auto_renew`, `quote_cancellation` then `cancel`, `extend` (staff); query `state`.

Each period continues-as-new, carrying only what the next one needs (open reservations, renewals
paid ahead, the orders already applied), so the history stays small however long it lives.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from workflows.notify import Outgoing

with workflow.unsafe.imports_passed_through():
    from activities.subscriptions import SubscriptionActivities
    from domain.contracts import (
        FLOW_STATUS,
        SUBSCRIPTION_ENDS_AT,
        OrderRef,
        RefundInput,
        refund_workflow_id,
    )
    from domain.notifications.contracts import To
    from domain.subscriptions import notices, policy
    from domain.subscriptions.contracts import (
        LIVE,
        AutoRenewChange,
        CancellationQuote,
        CancellationRecord,
        CancelOutcome,
        CancelRequest,
        ChargeRenewal,
        ExtendRequest,
        LateRenewal,
        NewPeriod,
        Notice,
        PeriodKind,
        PeriodStart,
        PeriodTerms,
        QuoteRequest,
        RefundChoice,
        RefundLine,
        RefundMade,
        RenewalPaid,
        Reservation,
        ReservationChange,
        ReservationStatus,
        Schedule,
        StatusChange,
        SubscriptionInput,
        SubscriptionState,
        SubscriptionStatus,
        VisitRef,
        VisitRequest,
    )
    from workflows.refund import RefundWorkflow

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ProviderDeclined"],
)
# Messages go through the notifications activity (before: inside notify and record_change).
MESSAGES = "messages-through-notifications"
# The schedule (what is due next) written with the change that moved it, in the same local
# activity (before: a second local activity after it, one more transaction per reminder).
SCHEDULE_WITH_CHANGE = "schedule-with-change"
# The read model written one local activity at a time, each input made when its turn comes, and
# a handler's change seen by the main loop at once: a due it had been waiting for is acted on only
# if no message changed what is due (before: a handler's write could run beside the main loop's
# and land after a newer one, and a reminder whose timer fired in the task of a cancellation was
# still sent).
IN_ORDER = "writes-in-order"
DUE_SOON = timedelta(seconds=1)
STEP_TIMEOUT = timedelta(seconds=30)
# How often a renewal charge the provider has not settled yet is asked about again.
PROCESSING_CHECK = timedelta(hours=1)
FINAL = (SubscriptionStatus.expired, SubscriptionStatus.cancelled)
WORKFLOW = "workflow"
APPLIED_KEPT = 20


@workflow.defn
class SubscriptionWorkflow:
    @workflow.init
    def __init__(self, inp: SubscriptionInput) -> None:
        self._inp = inp
        self._policy = inp.policy
        self._status = inp.status
        self._period = inp.period
        self._upcoming = list(inp.upcoming)
        self._auto_renew = inp.auto_renew
        self._method = inp.payment_method_id
        self._reservations = {r.request_id: r for r in inp.reservations}
        self._applied = list(inp.applied_orders)
        self._pending: list[RenewalPaid] = []
        # What was done in this period (reminder:30, pre_debit, charge, retry:1, ...).
        self._done: set[str] = set()
        self._attempt = 0  # charges made for the next period: 1 the first, 2 the first retry...
        self._first_failure: datetime | None = None
        self._processing: uuid.UUID | None = None  # a renewal order the provider still settles
        self._quotes: dict[uuid.UUID, CancellationQuote] = {}
        self._published: Schedule | None = None
        # Bumped by every message that changes what is due: the wait below wakes on it.
        self._changes = 0
        self._writes = asyncio.Lock()
        self._outgoing = Outgoing()

    @workflow.run
    async def run(self, inp: SubscriptionInput) -> SubscriptionState:
        self._sync_search_attributes()
        if inp.period.number > 1:
            # A run that begins a renewed period (continued-as-new): the read model moves to it.
            async with self._turn():
                await workflow.execute_local_activity_method(
                    SubscriptionActivities.begin_period,
                    PeriodStart(
                        subscription_id=inp.subscription_id,
                        number=inp.period.number,
                        at=workflow.now(),
                    ),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
        while True:
            await self._apply_renewals()
            now = workflow.now()
            if self._upcoming and now >= self._period.ends_at:
                # The next period has begun: a new run for it (also after a renewal in grace, or
                # one that restarted an expired subscription).
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._outgoing.drain()
                workflow.continue_as_new(self._next_run())
            if self._status in FINAL:
                break
            due = self._next_due()
            await self._publish_schedule()
            seen = self._changes
            wait = max(due.at - now, timedelta(0))
            if wait < DUE_SOON and workflow.patched(MESSAGES):
                # Due within the second (a retry at a period's end): now, without a timer and a
                # task of its own.
                wait = timedelta(0)
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self._changes != seen,  # type: ignore[misc]
                    timeout=wait,
                    timeout_summary=due.kind,
                )
            except TimeoutError:
                if workflow.patched(IN_ORDER) and (self._changes != seen or self._status in FINAL):
                    continue  # a message in this very task changed what is due: look again
                await self._act(due)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outgoing.drain()
        return self.state()

    # --- what is due ---------------------------------------------------------------------------

    def _next_due(self) -> policy.Due:
        period, live_period = (
            self._period,
            self._status
            in (
                SubscriptionStatus.active,
                SubscriptionStatus.past_due,
            ),
        )
        candidates: list[policy.Due] = []
        if self._upcoming:  # renewed: nothing to do until the period rolls over
            return policy.Due(period.ends_at, "period_end")
        if live_period:
            candidates += [
                d for d in policy.reminders(period, self._policy) if d.kind not in self._done
            ]
            candidates.append(policy.Due(period.ends_at, "period_end"))
        else:  # grace
            candidates.append(policy.Due(policy.grace_end(period, self._policy), "grace_end"))
        if self._auto_renew and self._method is not None:
            candidates += self._charges_due()
        return min(candidates, key=lambda d: d.at)

    def _charges_due(self) -> list[policy.Due]:
        if self._processing is not None:
            return [policy.Due(workflow.now() + PROCESSING_CHECK, "check_charge")]
        if self._attempt == 0:
            due = []
            notice_at = policy.pre_debit_at(self._period, self._policy)
            if notice_at is not None and "pre_debit" not in self._done:
                due.append(policy.Due(notice_at, "pre_debit"))
            due.append(policy.Due(policy.charge_at(self._period, self._policy), "charge"))
            return due
        assert self._first_failure is not None
        retry = policy.retry_at(self._first_failure, self._attempt, self._policy)
        if retry is None or retry >= policy.grace_end(self._period, self._policy):
            return []
        return [policy.Due(retry, f"retry:{self._attempt}")]

    async def _act(self, due: policy.Due) -> None:
        kind = due.kind
        if kind.startswith("reminder:") or kind == "pre_debit":
            self._done.add(kind)
            await self._notify(kind)
        elif kind == "charge" or kind.startswith("retry:"):
            await self._charge()
        elif kind == "check_charge":
            await self._check_charge()
        elif kind == "period_end":
            if not self._upcoming:
                await self._change(SubscriptionStatus.grace, "grace_started")
        elif kind == "grace_end":
            await self._change(SubscriptionStatus.expired, "expired")

    # --- automatic renewal ---------------------------------------------------------------------

    async def _charge(self) -> None:
        self._attempt += 1
        outcome = await workflow.execute_activity_method(
            SubscriptionActivities.charge_renewal,
            ChargeRenewal(
                subscription_id=self._inp.subscription_id,
                period=self._last_number() + 1,
                attempt=self._attempt - 1,
                payment_method_id=self._method,
            ),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=PROVIDER_RETRY,
        )
        await self._charged(outcome.state, outcome.order_id, outcome.failure_reason, outcome.paid)

    async def _check_charge(self) -> None:
        assert self._processing is not None
        outcome = await workflow.execute_activity_method(
            SubscriptionActivities.check_renewal_charge,
            OrderRef(order_id=self._processing),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=PROVIDER_RETRY,
        )
        await self._charged(outcome.state, outcome.order_id, outcome.failure_reason, outcome.paid)

    async def _charged(
        self,
        state: str,
        order_id: uuid.UUID | None,
        reason: str | None,
        paid: RenewalPaid | None,
    ) -> None:
        self._processing = None
        if state == "succeeded":
            assert paid is not None
            self._pending.append(paid)
            return
        if state == "processing":
            self._processing = order_id
            return
        if self._status in FINAL and workflow.patched(IN_ORDER):
            return  # cancelled while the charge was out: no retry to announce, nothing to renew
        if self._first_failure is None:
            self._first_failure = workflow.now()
        retry = policy.retry_at(self._first_failure, self._attempt, self._policy)
        last = retry is None or retry >= policy.grace_end(self._period, self._policy)
        detail = reason or "the payment was declined"
        # When it is tried again is a time: the words for it are written where times are shown
        # (the timeline's entry and the message), in the reader's zone, not here.
        retry_at = None if last else retry
        if self._status == SubscriptionStatus.active:
            await self._change(
                SubscriptionStatus.past_due,
                f"renewal_failed:{self._attempt}",
                detail=detail,
                retry_at=retry_at,
            )
        else:
            await self._notify(f"renewal_failed:{self._attempt}", detail=detail, retry_at=retry_at)

    # --- renewals ------------------------------------------------------------------------------

    async def _apply_renewals(self) -> None:
        while self._pending:
            paid = self._pending.pop(0)
            if paid.order_id in self._applied:
                continue
            self._applied = [*self._applied, paid.order_id][-APPLIED_KEPT:]
            async with self._turn():
                await self._apply(paid)

    async def _apply(self, paid: RenewalPaid) -> None:
        """One renewal paid: a period added, or refunded when the subscription was cancelled
        meanwhile (in its turn to write: the status it sees is the last one written)."""
        if self._status == SubscriptionStatus.cancelled:
            await self._refund_late(paid)  # paid while cancelling: it buys nothing
            return
        last = self._upcoming[-1] if self._upcoming else self._period
        # Continuity: from the end of the last period bought, even in grace; after expiry
        # a new period starts now.
        starts = last.ends_at if self._status != SubscriptionStatus.expired else workflow.now()
        terms = PeriodTerms(
            number=last.number + 1,
            kind=paid.kind,
            starts_at=starts,
            ends_at=starts + timedelta(days=paid.validity_days),
            plan_version_id=paid.plan_version_id,
            order_id=paid.order_id,
            paid_minor=paid.paid_minor,
            currency=paid.currency,
            allowance=paid.allowance,
        )
        recorded = await workflow.execute_local_activity_method(
            SubscriptionActivities.record_period,
            NewPeriod(
                subscription_id=self._inp.subscription_id,
                terms=terms,
                at=workflow.now(),
                actor=WORKFLOW if paid.kind == PeriodKind.auto_renewal else "customer",
                from_status=self._status,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        if not recorded.recorded:
            return  # an earlier run of this subscription applied this order already
        # Renewed: no more charges or retries for it. A period that has begun already
        # (renewed in grace, or after expiry) rolls over at once, in the loop.
        self._attempt, self._first_failure, self._processing = 0, None, None
        self._upcoming.append(terms)
        if self._status == SubscriptionStatus.past_due:
            self._status = SubscriptionStatus.active
            self._sync_search_attributes()

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
        await workflow.start_child_workflow(
            RefundWorkflow.run,
            RefundInput(
                refund_id=refund.refund_id, order_id=refund.order_id, user_id=self._inp.user_id
            ),
            id=refund_workflow_id(refund.refund_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"refund of subscription {self._inp.subscription_id}",
        )

    def _next_run(self) -> SubscriptionInput:
        nxt, rest = self._upcoming[0], self._upcoming[1:]
        return SubscriptionInput(
            subscription_id=self._inp.subscription_id,
            user_id=self._inp.user_id,
            plan_id=self._inp.plan_id,
            status=SubscriptionStatus.active,
            period=nxt,
            upcoming=rest,
            auto_renew=self._auto_renew,
            payment_method_id=self._method,
            reservations=[
                r for r in self._reservations.values() if r.status == ReservationStatus.reserved
            ],
            applied_orders=self._applied,
            policy=self._policy,
        )

    def _last_number(self) -> int:
        return self._upcoming[-1].number if self._upcoming else self._period.number

    @workflow.signal
    def renewal_paid(self, paid: RenewalPaid) -> None:
        self._pending.append(paid)
        self._changes += 1

    # --- the visit ledger ----------------------------------------------------------------------

    def _visits_left(self) -> tuple[dict[uuid.UUID, int], int]:
        period = self._period
        used = [
            r
            for r in self._reservations.values()
            if r.period == period.number and r.status != ReservationStatus.released
        ]
        per_category = {
            category: visits - sum(1 for r in used if r.category_id == category)
            for category, visits in period.allowance.per_category.items()
        }
        return per_category, period.allowance.visit_cap - len(used)

    def _cannot_reserve(self, category_id: uuid.UUID) -> str | None:
        if self._status not in LIVE:
            return f"this subscription is {self._status.value}: it has no visits to book"
        per_category, total = self._visits_left()
        if category_id not in per_category:
            return "this plan does not cover that category"
        allowed = self._period.allowance.per_category[category_id]
        if per_category[category_id] <= 0:
            return f"all {allowed} visits of this category in this period are booked or used"
        if total <= 0:
            cap = self._period.allowance.visit_cap
            return f"all {cap} visits of this period are booked or used"
        return None

    @workflow.update
    async def reserve_visit(self, request: VisitRequest) -> Reservation:
        existing = self._reservations.get(request.request_id)
        if existing is not None:
            return existing  # the same request again: the reservation it has
        # Checked again here: two requests racing for the last visit both pass the validator
        # (it runs before either handler); the first handler takes it, this refuses the second.
        reason = self._cannot_reserve(request.category_id)
        if reason is not None:
            raise ApplicationError(reason, type="VisitRefused", non_retryable=True)
        reservation = Reservation(
            request_id=request.request_id,
            category_id=request.category_id,
            period=self._period.number,
            status=ReservationStatus.reserved,
        )
        self._reservations[request.request_id] = reservation
        await self._record_reservation(reservation)
        return reservation

    @reserve_visit.validator
    def _validate_reserve(self, request: VisitRequest) -> None:
        if request.request_id not in self._reservations:
            reason = self._cannot_reserve(request.category_id)
            if reason is not None:
                raise ValueError(reason)

    @workflow.update
    async def consume_visit(self, ref: VisitRef) -> Reservation:
        return await self._close(ref, ReservationStatus.consumed)

    @consume_visit.validator
    def _validate_consume(self, ref: VisitRef) -> None:
        self._ensure_closable(ref, ReservationStatus.consumed)

    @workflow.update
    async def release_visit(self, ref: VisitRef) -> Reservation:
        return await self._close(ref, ReservationStatus.released)

    @release_visit.validator
    def _validate_release(self, ref: VisitRef) -> None:
        self._ensure_closable(ref, ReservationStatus.released)

    def _ensure_closable(self, ref: VisitRef, to: ReservationStatus) -> None:
        reservation = self._reservations.get(ref.request_id)
        if reservation is None:
            raise ValueError("no visit is reserved for this request")
        if reservation.status not in (ReservationStatus.reserved, to):
            raise ValueError(f"the visit for this request was {reservation.status.value}")

    async def _close(self, ref: VisitRef, to: ReservationStatus) -> Reservation:
        reservation = self._reservations[ref.request_id]
        if reservation.status == to:
            return reservation  # the same request again
        if reservation.status != ReservationStatus.reserved:
            raise ApplicationError(
                f"the visit for this request was {reservation.status.value}",
                type="VisitRefused",
                non_retryable=True,
            )
        closed = reservation.model_copy(update={"status": to})
        self._reservations[ref.request_id] = closed
        await self._record_reservation(closed)
        return closed

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

    # --- auto-renewal on and off ---------------------------------------------------------------

    @workflow.update
    async def set_auto_renew(self, change: AutoRenewChange) -> SubscriptionState:
        self._auto_renew = change.enabled
        self._method = change.payment_method_id if change.enabled else self._method
        woken = self._wake()
        await self._record(
            "auto_renew_on" if change.enabled else "auto_renew_off",
            actor=change.actor,
            notify=False,
        )
        if not woken:
            self._changes += 1
        return self.state()

    @set_auto_renew.validator
    def _validate_auto_renew(self, change: AutoRenewChange) -> None:
        self._ensure_live()
        if change.enabled and change.payment_method_id is None:
            raise ValueError("automatic renewal needs a saved payment method")

    # --- cancellation --------------------------------------------------------------------------

    def _quote(self) -> CancellationQuote:
        now = workflow.now()
        consumed = sum(
            1
            for r in self._reservations.values()
            if r.period == self._period.number and r.status == ReservationStatus.consumed
        )
        current = policy.refund_quote(
            self._period,
            now=now,
            visits_used=consumed,
            full_within_days=self._policy.refund_full_within_days,
        )
        lines, why = [], [current.why]
        if self._period.order_id is not None and current.refund_minor > 0:
            lines.append(
                RefundLine(order_id=self._period.order_id, amount_minor=current.refund_minor)
            )
        for ahead in self._upcoming:  # renewals paid for periods not begun: in full
            if ahead.order_id is not None and ahead.paid_minor > 0:
                lines.append(RefundLine(order_id=ahead.order_id, amount_minor=ahead.paid_minor))
                why.append(f"and the renewal for period {ahead.number} in full")
        return CancellationQuote(
            quote_id=workflow.uuid4(),
            refund_minor=sum(line.amount_minor for line in lines),
            currency=self._period.currency,
            why="; ".join(why),
            valid_until=now + timedelta(seconds=self._policy.quote_ttl_seconds),
            period=self._period.number,
            refunds=lines,
        )

    @workflow.update
    def quote_cancellation(self, request: QuoteRequest) -> CancellationQuote:
        quote = self._quote()
        # The latest few only: a quote is asked for just before cancelling.
        self._quotes = dict(list(self._quotes.items())[-2:]) | {quote.quote_id: quote}
        return quote

    @quote_cancellation.validator
    def _validate_quote(self, request: QuoteRequest) -> None:
        self._ensure_live()

    @workflow.update
    async def cancel(self, request: CancelRequest) -> CancelOutcome:
        if request.refund == RefundChoice.quoted:
            assert request.quote_id is not None
            quote = self._quotes[request.quote_id]
        elif request.refund == RefundChoice.policy:
            quote = self._quote()
        else:
            quote = self._quote().model_copy(
                update={"refunds": [], "refund_minor": 0, "why": "cancelled without a refund"}
            )
        was = self._status
        self._status = SubscriptionStatus.cancelled  # before any await: other updates see it
        woken = self._wake()
        async with self._turn():
            recorded = await workflow.execute_local_activity_method(
                SubscriptionActivities.record_cancellation,
                CancellationRecord(
                    subscription_id=self._inp.subscription_id,
                    period=self._period.number,
                    at=workflow.now(),
                    actor=request.actor,
                    actor_id=request.actor_id,
                    reason=request.reason,
                    from_status=was,
                    refunds=quote.refunds,
                    why=quote.why,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        for refund in recorded.refunds:
            await self._start_refund(refund)
        self._sync_search_attributes()
        if not woken:
            self._changes += 1
        return CancelOutcome(
            status=self._status,
            refunds=recorded.refunds,
            refund_minor=sum(r.amount_minor for r in recorded.refunds),
            currency=quote.currency,
            why=quote.why,
        )

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        self._ensure_live()
        if request.refund == RefundChoice.quoted:
            quote = self._quotes.get(request.quote_id) if request.quote_id else None
            if quote is None:
                raise ValueError("ask for a cancellation quote first, then cancel with its id")
            if workflow.now() > quote.valid_until:
                raise ValueError("the quote has expired; ask for a new one")

    # --- staff: extend -------------------------------------------------------------------------

    @workflow.update
    async def extend(self, request: ExtendRequest) -> SubscriptionState:
        shift = timedelta(days=request.days)
        self._period = self._period.model_copy(update={"ends_at": self._period.ends_at + shift})
        self._upcoming = [
            p.model_copy(update={"starts_at": p.starts_at + shift, "ends_at": p.ends_at + shift})
            for p in self._upcoming
        ]
        if self._status == SubscriptionStatus.grace and self._period.ends_at > workflow.now():
            self._status = SubscriptionStatus.active
        woken = self._wake()
        # Reminders already sent are not sent again for the new end (their keys are taken).
        await self._record(
            "extended",
            actor=request.actor,
            detail=f"extended by {request.days} days: {request.reason}",
        )
        self._sync_search_attributes()
        if not woken:
            self._changes += 1
        return self.state()

    @extend.validator
    def _validate_extend(self, request: ExtendRequest) -> None:
        self._ensure_live()
        if not 1 <= request.days <= 366:
            raise ValueError("a period can be extended by 1 to 366 days at a time")

    # --- the live state ------------------------------------------------------------------------

    @workflow.query
    def state(self) -> SubscriptionState:
        per_category, total = self._visits_left()
        schedule = self._schedule()
        return SubscriptionState(
            subscription_id=self._inp.subscription_id,
            status=self._status,
            period=self._period.number,
            starts_at=self._period.starts_at,
            ends_at=self._period.ends_at,
            grace_ends_at=policy.grace_end(self._period, self._policy),
            renewed_until=self._upcoming[-1].ends_at if self._upcoming else None,
            auto_renew=self._auto_renew,
            visits_left=per_category,
            visits_left_total=total,
            next_reminder_at=schedule.next_reminder_at,
            next_charge_at=schedule.next_charge_at,
            dunning_attempt=max(self._attempt - 1, 0) if self._first_failure else 0,
        )

    # --- recording and announcing --------------------------------------------------------------

    def _ensure_live(self) -> None:
        if self._status not in LIVE:
            raise ValueError(f"this subscription is {self._status.value}")

    async def _change(
        self,
        to: SubscriptionStatus,
        kind: str,
        *,
        detail: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        was, self._status = self._status, to
        self._sync_search_attributes()
        await self._record(kind, actor=WORKFLOW, detail=detail, from_status=was, retry_at=retry_at)

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
        # Runs from before the patch announce inside record_change; later ones send the message
        # through the notifications activity.
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
                    notify=notify and not through_notifications,
                    schedule=schedule if schedule != self._published else None,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if schedule is not None:
                self._published = schedule
        if through_notifications and notify and notices.announced(kind):
            self._announce(kind, detail, retry_at)

    async def _notify(
        self, kind: str, *, detail: str | None = None, retry_at: datetime | None = None
    ) -> None:
        """A reminder or notice: in the timeline, and to the customer."""
        if workflow.patched(MESSAGES):
            await self._record(kind, actor=WORKFLOW, detail=detail, notify=False, retry_at=retry_at)
            self._announce(kind, detail, retry_at)
            return
        await workflow.execute_activity_method(
            SubscriptionActivities.notify,
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
            f"sub:{self._inp.subscription_id}:period:{self._period.number}:{kind}",
            To(user_id=self._inp.user_id),
            subscription_id=str(self._inp.subscription_id),
            ends_at=self._period.ends_at.isoformat(),
            detail=detail,
            **refs,
        )

    def _schedule(self) -> Schedule:
        live = self._status in LIVE
        reminders = [
            d.at
            for d in policy.reminders(self._period, self._policy)
            if d.kind not in self._done and live and not self._upcoming
        ]
        charges = (
            [d.at for d in self._charges_due() if d.kind != "pre_debit"]
            if live and self._auto_renew and self._method is not None and not self._upcoming
            else []
        )
        return Schedule(
            subscription_id=self._inp.subscription_id,
            next_reminder_at=min(reminders, default=None),
            next_charge_at=min(charges, default=None),
        )

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
