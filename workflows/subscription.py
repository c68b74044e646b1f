"""SubscriptionWorkflow (`subscription:{id}`): one subscription's life, one period per run.

    active --(reminders before the end; auto-renewal charged a lead before it)--> period end
      renewed: the next period starts at the old end (continue-as-new)
      not renewed: grace --(renewed: continuity kept)--> ... | --(grace ends)--> expired
    active --(auto-renewal declined)--> past_due --(retries on the dunning schedule)--> ...
    any live state --(cancel, with the refund quoted first)--> cancelled

The workflow owns the lifecycle and the visit ledger; the database is its read model, written by
its activities, read by the API. What falls due when, the visits left and the cancellation's
refund are pure functions (`domain/subscriptions/policy.py`); the writes and messages are in
`workflows/subscription_writes.py`, the ledger's updates in `workflows/subscription_visits.py`. It
waits for the earliest thing due on one durable timer and wakes early when a message changes what
is due; a due whose timer fires in the same task as such a message is looked at again, not acted
on. Every message is keyed by subscription, period and kind (`domain/subscriptions/keys.py`), so a
retried activity or a replayed history never sends one twice. Each period continues-as-new with
only what the next needs (open reservations, renewals paid ahead, the orders applied).

Messages: `renewal_paid` (signal, from the settlement of a renewal order: the customer's manual
renewal); updates `reserve_visit` / `consume_visit` / `release_visit` (the service requests),
`set_auto_renew`, `quote_cancellation` then `cancel`, `extend` (staff); query `state`.

One writer at a time. Update handlers and the main loop run side by side (each `await` lets the
other run), and each writes the read model through a local activity whose input is built from the
state of the moment; two writes side by side may land in either order, the last one wins, and a
handler's older state could overwrite a newer one. So every write takes its turn (`_turn`: an
asyncio.Lock, deterministic in a workflow, its waiters served first come first served) and builds
its input once its turn has come: the last written is the newest. That lock is the single-writer
queue; a queue with a writer task of its own would issue the same commands in another order, and
the runs recorded under writes-in-order would no longer replay.

Patches and their retirement. A patch moves to `workflow.deprecate_patch` (the old branch deleted)
once no open run can take the old branch and no stored history needs it: every subscription whose
run started before the patch has ended or continued-as-new past it (a run lasts one period, so at
most the longest plan's validity plus `subscription_grace_days` after the deploy that brought it),
and the histories in tests/histories recorded before it are dropped on purpose in the same commit.
The `deprecate_patch` call is deleted once no run started under `patched` is open (one more such
span), with the histories holding its marker re-recorded.

    patch id (oldest first)           recorded before it, so it keeps them replaying
    messages-through-notifications    subscription_*_run{1,2}.json (they schedule `notify`)
    schedule-with-change              subscription_*_messages_through_notifications_*.json
    writes-in-order                   subscription_*_schedule_with_change_*.json
    late-renewal                      none: no recorded run ends (or continues as new) with a
                                      renewal signal pending

Nothing was ever deployed (no release, tag or deployment in the repository or README; 7c1bbb5
re-recorded the checkout's histories as "nothing deployed ran the old shape"; the three patches
landed on 2-3 December 2026), so no open run predates any of them: the first condition holds for
all three. The second holds for none: with each patch deprecated in turn, the histories recorded
before it fail to replay (messages-through-notifications: 3 of them, plus the 2 service request
ones of the same id; schedule-with-change: 4; writes-in-order: 6). So none is retired in this
change; each is, in the order above, by the commit that drops those histories. Until then their
old branches stay with what replay needs and no more: the `notify` activity is scheduled by name
(RETIRED_NOTIFY) and no worker registers it, as no open run can reach it.

writes-in-order also carries a later behaviour (c0d7261, 71 minutes after the patch: a renewal
declined once the subscription has ended announces no retry). A run recorded between the two with
such a decline would fail to replay. None can exist: nothing was deployed in between, and the
histories recorded in that window (subscription_*_writes_in_order_*.json) decline no charge after
an ending and replay. So it keeps the id, and needs none of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.notify import Outgoing
from workflows.policies import DB_RETRY, STEP_TIMEOUT
from workflows.subscription_visits import VisitLedger
from workflows.subscription_writes import IN_ORDER, MESSAGES, WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.subscriptions import SubscriptionActivities
    from core.metrics import RENEWALS, count
    from domain import workflow_timers as timers
    from domain.contracts import OrderRef
    from domain.subscriptions import policy
    from domain.subscriptions.contracts import (
        LIVE,
        AutoRenewChange,
        CancellationQuote,
        CancellationRecord,
        CancelOutcome,
        CancelRequest,
        ChargeRenewal,
        ExtendRequest,
        NewPeriod,
        PeriodKind,
        PeriodStart,
        QuoteRequest,
        RefundChoice,
        RenewalPaid,
        ReservationStatus,
        Schedule,
        SubscriptionInput,
        SubscriptionState,
        SubscriptionStatus,
    )

PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ProviderDeclined"],
)
CHARGE_TIMEOUT = timedelta(minutes=2)
DUE_SOON = timedelta(seconds=1)
FINAL = (SubscriptionStatus.expired, SubscriptionStatus.cancelled)
# A renewal paid while the run ends (expired, or about to continue as new) is applied (found by
# `make chaos`: the signal came while the last messages drained, and the run ended with the
# payment captured and no period).
LATE_RENEWAL = "late-renewal"
APPLIED_KEPT = 20


@workflow.defn
class SubscriptionWorkflow(VisitLedger):
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
        self._done: set[str] = set()
        self._attempt = 0
        self._first_failure: datetime | None = None
        self._processing: uuid.UUID | None = None
        self._quotes: dict[uuid.UUID, CancellationQuote] = {}
        self._published: Schedule | None = None
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
            await self._live()
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._outgoing.drain()
            # A renewal paid while the run was ending (its signal came during the last writes)
            # is applied, not dropped with the run: after expiry it starts a new period.
            if not (self._pending and workflow.patched(LATE_RENEWAL)):
                return self.state()

    async def _live(self) -> None:
        """The lifecycle until the subscription has ended (expired or cancelled)."""
        while True:
            await self._apply_renewals()
            now = workflow.now()
            if self._upcoming and now >= self._period.ends_at:
                # The next period has begun: a new run for it (also after a renewal in grace, or
                # one that restarted an expired subscription).
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._outgoing.drain()
                if self._pending and workflow.patched(LATE_RENEWAL):
                    continue  # a renewal paid meanwhile: applied before the next run starts
                workflow.continue_as_new(self._next_run())
            if self._status in FINAL:
                break
            due = policy.next_due(
                self._period,
                self._policy,
                status=self._status,
                renewed=bool(self._upcoming),
                done=self._done,
                charges=self._charges(),
            )
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
                    timeout_summary=timers.subscription_due(due.kind, due.at),
                )
            except TimeoutError:
                if workflow.patched(IN_ORDER) and (self._changes != seen or self._status in FINAL):
                    continue  # a message in this very task changed what is due: look again
                await self._act(due)

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
            count(RENEWALS, outcome="lapsed")
            await self._change(SubscriptionStatus.expired, "expired")

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
            start_to_close_timeout=CHARGE_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
            summary=timers.renewal_charge(self._last_number() + 1, self._attempt),
        )
        await self._charged(outcome.state, outcome.order_id, outcome.failure_reason, outcome.paid)

    async def _check_charge(self) -> None:
        assert self._processing is not None
        outcome = await workflow.execute_activity_method(
            SubscriptionActivities.check_renewal_charge,
            OrderRef(order_id=self._processing),
            start_to_close_timeout=CHARGE_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
        )
        await self._charged(outcome.state, outcome.order_id, outcome.failure_reason, outcome.paid)

    async def _charged(
        self, state: str, order_id: uuid.UUID | None, reason: str | None, paid: RenewalPaid | None
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
        count(RENEWALS, outcome="declined")
        if self._first_failure is None:
            self._first_failure = workflow.now()
        # When it is tried again is a time: the words for it are written where times are shown
        # (the timeline's entry and the message), in the reader's zone, not here.
        retry_at = policy.dunning_retry(
            self._first_failure, self._attempt, self._period, self._policy
        )
        detail = reason or "the payment was declined"
        kind = f"renewal_failed:{self._attempt}"
        if self._status == SubscriptionStatus.active:
            await self._change(SubscriptionStatus.past_due, kind, detail=detail, retry_at=retry_at)
        else:
            await self._notify(kind, detail=detail, retry_at=retry_at)

    # --- renewals ------------------------------------------------------------------------------

    @workflow.signal
    def renewal_paid(self, paid: RenewalPaid) -> None:
        self._pending.append(paid)
        self._changes += 1

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
            count(RENEWALS, outcome="refunded_late")
            return
        last = self._upcoming[-1] if self._upcoming else self._period
        # Continuity: from the end of the last period bought, even in grace; after expiry
        # a new period starts now.
        starts = last.ends_at if self._status != SubscriptionStatus.expired else workflow.now()
        terms = policy.renewed_period(
            last, paid, starts_at=starts, day_seconds=self._policy.day_seconds
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
        auto = paid.kind == PeriodKind.auto_renewal
        count(RENEWALS, outcome="renewed_auto" if auto else "renewed_manual")
        # Renewed: no more charges or retries for it. A period that has begun already
        # (renewed in grace, or after expiry) rolls over at once, in the loop.
        self._attempt, self._first_failure, self._processing = 0, None, None
        self._upcoming.append(terms)
        if self._status == SubscriptionStatus.past_due:
            self._status = SubscriptionStatus.active
            self._sync_search_attributes()

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
        return policy.cancellation_quote(
            self._period,
            self._upcoming,
            self._reservations.values(),
            self._policy,
            now=workflow.now(),
            quote_id=workflow.uuid4(),
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
        self._period, self._upcoming = policy.extended(self._period, self._upcoming, request.days)
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
        per_category, total = policy.visits_left(self._period, self._reservations.values())
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

    def _ensure_live(self) -> None:
        if self._status not in LIVE:
            raise ValueError(f"this subscription is {self._status.value}")
