"""CheckoutWorkflow: one order from payment session to paid subscriptions, exactly once.

    creating_session -> awaiting_payment -> settling -> completed
                                         -> failed    (declined: reason kept, cart kept)
                                         -> expired   (timeout: provider session cancelled)

Nothing that says "paid" is believed: webhooks, the client's confirmation and the sandbox page only
nudge the workflow, which then asks the provider (`check_payment`). When nothing arrives, the
workflow asks on its own every `reconcile_every_seconds` and once more at the deadline, and
cancelling at the deadline reports a payment that landed at the last moment, which is then settled.
Settlement (ledger, subscriptions, receipt number, saved method, then the receipt message) is one
idempotent activity.

The steps run as LOCAL activities (`_step`): each is short (one provider call or one transaction)
and runs in the worker that runs the workflow, recorded as a marker in the workflow task that ran
it, instead of a round trip through an activity task queue. A purchase is then two workflow tasks
(start, and the payment) instead of five, which is most of what it costs the Temporal server. The
keys and retries are the same: if the worker dies in the middle of a step, the workflow task times
out, another worker replays the history and runs the step again with the same idempotency key.
Histories recorded before this change keep replaying their regular activities (`LOCAL_STEPS`).

Patches (the retirement rule is the one in workflows/subscription.py). A checkout's run lasts at
most its payment deadline, so no open run predates a patch a deadline after its deploy; nothing
was ever deployed. What holds them is tests/histories: deprecated, `checkout-local-activities`
fails to replay checkout_*_regular_activities.json, and `checkout-announces-subscriptions`
checkout_paid.json and checkout_paid_regular_activities.json (recorded before it). Each is
retired by the commit that drops those histories on purpose, not before.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.policies import DB_RETRY, STEP_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.checkout import CheckoutActivities
    from activities.subscriptions import SubscriptionActivities
    from core.metrics import PURCHASES, count
    from domain import workflow_timers as timers
    from domain.contracts import (
        FLOW_STATUS,
        CheckoutInput,
        CheckoutState,
        CheckoutStatus,
        OrderOutcome,
        OrderRef,
        PaymentNudge,
        SettleInput,
    )
    from domain.payments import PaymentSession, PaymentState, PaymentStatus

PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["ProviderDeclined", "AmountMismatch"],
)
# The outcome each end counts in homeplans_purchases_total (core/metrics.py).
PURCHASE_OUTCOMES = {
    CheckoutStatus.completed: "paid",
    CheckoutStatus.failed: "declined",
    CheckoutStatus.expired: "expired",
}
# Patch id: from this version on, the checkout's steps are local activities (see the docstring).
LOCAL_STEPS = "checkout-local-activities"
# Patch id: from this version on, a settled order starts its subscriptions' workflows (and tells
# the subscriptions it renews). Histories recorded before do not have this step.
ANNOUNCE_SUBSCRIPTIONS = "checkout-announces-subscriptions"

Arg = TypeVar("Arg")
Result = TypeVar("Result")


@workflow.defn
class CheckoutWorkflow:
    @workflow.init
    def __init__(self, inp: CheckoutInput) -> None:
        self._inp = inp
        self._status = CheckoutStatus.creating_session
        self._session: PaymentSession | None = None
        self._payment: PaymentStatus | None = None
        self._failure_reason: str | None = None
        self._receipt_number: int | None = None
        self._subscription_ids: list[uuid.UUID] = []
        self._expires_at: datetime | None = None
        # Nudges received and provider checks finished: a nudge that arrives during a check
        # causes one more check, never a lost one.
        self._nudges = 0
        self._checks_done = 0

    @workflow.run
    async def run(self, inp: CheckoutInput) -> CheckoutState:
        # CustomerId, OrderId and FlowStatus=creating_session are set by the API at start; each
        # later status is one upsert (an event in the history, so only the ones ops filter on).
        self._session = await self._step(
            CheckoutActivities.create_payment_session,
            OrderRef(order_id=inp.order_id),
            PROVIDER_RETRY,
        )
        self._expires_at = workflow.now() + timedelta(seconds=inp.timeout_seconds)
        self._set_status(CheckoutStatus.awaiting_payment)

        payment = await self._await_payment()
        if payment.state == PaymentState.succeeded:
            await self._settle(payment)
        elif payment.state == PaymentState.failed and await self._paid_after_all():
            pass  # the customer paid on the same session after the decline: settled
        elif payment.state == PaymentState.failed:
            self._failure_reason = payment.failure_reason or "the payment was declined"
            await self._step(
                CheckoutActivities.fail_order,
                OrderOutcome(order_id=inp.order_id, reason=self._failure_reason),
                DB_RETRY,
            )
            self._set_status(CheckoutStatus.failed)
        else:
            await self._step(
                CheckoutActivities.expire_order,
                OrderRef(order_id=inp.order_id),
                DB_RETRY,
            )
            self._failure_reason = "the payment was not completed in time"
            self._set_status(CheckoutStatus.expired)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def _await_payment(self) -> PaymentStatus:
        """Wait for a nudge, the reconcile tick or the deadline; ask the provider each time."""
        assert self._expires_at is not None
        every = timedelta(seconds=self._inp.reconcile_every_seconds)
        while True:
            remaining = self._expires_at - workflow.now()
            if remaining <= timedelta(0):
                # The deadline: cancel at the provider. A payment that landed just before is
                # reported as succeeded by the cancel and settled like any other.
                return await self._step(
                    CheckoutActivities.cancel_payment,
                    OrderRef(order_id=self._inp.order_id),
                    PROVIDER_RETRY,
                )
            try:
                await workflow.wait_condition(
                    lambda: self._nudges > self._checks_done,
                    timeout=min(remaining, every),
                    timeout_summary=timers.payment_wait(
                        self._expires_at, workflow.now() + min(remaining, every)
                    ),
                )
            except TimeoutError:
                if workflow.now() >= self._expires_at:
                    continue  # to the cancel above
            seen = self._nudges
            payment = await self._step(
                CheckoutActivities.check_payment,
                OrderRef(order_id=self._inp.order_id),
                PROVIDER_RETRY,
            )
            self._payment = payment
            self._checks_done = max(self._checks_done, seen)
            if payment.state in (PaymentState.succeeded, PaymentState.failed):
                return payment
            if payment.state == PaymentState.cancelled:
                return payment

    async def _paid_after_all(self) -> bool:
        """Cancel a declined session so it cannot be paid later. Stripe lets a customer retry on
        the same session, so the cancel may find it paid meanwhile: then it is settled."""
        after = await self._step(
            CheckoutActivities.cancel_payment,
            OrderRef(order_id=self._inp.order_id),
            PROVIDER_RETRY,
        )
        self._payment = after
        if after.state != PaymentState.succeeded:
            return False
        await self._settle(after)
        return True

    async def _settle(self, payment: PaymentStatus) -> None:
        self._status = CheckoutStatus.settling  # brief; not worth a search-attribute event
        settled = await self._step(
            CheckoutActivities.settle_order,
            SettleInput(order_id=self._inp.order_id, payment=payment),
            DB_RETRY,
        )
        self._receipt_number = settled.receipt_number
        self._subscription_ids = list(settled.subscription_ids)
        if workflow.patched(ANNOUNCE_SUBSCRIPTIONS):
            # Started from an activity with a reuse policy, not as children: the subscription
            # outlives the checkout by a year or more, and its first start must not depend on
            # the checkout still running (LatePaymentWorkflow settles orders too).
            await self._step(
                SubscriptionActivities.announce_order,
                OrderRef(order_id=self._inp.order_id),
                DB_RETRY,
            )
        self._set_status(CheckoutStatus.completed)

    async def _step(
        self,
        activity: Callable[[Any, Arg], Awaitable[Result]],
        arg: Arg,
        retry: RetryPolicy,
    ) -> Result:
        """Run one step of the checkout: a local activity (a regular one in histories that were
        recorded before `LOCAL_STEPS`)."""
        if workflow.patched(LOCAL_STEPS):
            return await workflow.execute_local_activity_method(
                activity, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=retry
            )
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=STEP_TIMEOUT, retry_policy=retry
        )

    # --- messages ----------------------------------------------------------------------------

    @workflow.update
    async def payment_session(self) -> CheckoutState:
        """The checkout's state once its payment session exists (`payment` holds the session):
        what the API answers POST /checkout with, no query needed."""
        await workflow.wait_condition(lambda: self._session is not None)
        return self.state()

    @workflow.signal
    def payment_event(self, nudge: PaymentNudge) -> None:
        self._nudges += 1

    @workflow.update
    async def confirm_payment(self, nudge: PaymentNudge) -> CheckoutState:
        """The app says it paid: check with the provider now and answer with the outcome of that
        check (still `awaiting_payment` if the provider has not settled it yet)."""
        self._nudges += 1
        ticket = self._nudges
        await workflow.wait_condition(
            lambda: (
                self._checks_done >= ticket
                or self._status
                not in (CheckoutStatus.creating_session, CheckoutStatus.awaiting_payment)
            )
        )
        await workflow.wait_condition(lambda: self._status not in (CheckoutStatus.settling,))
        return self.state()

    @confirm_payment.validator
    def _validate_confirm(self, nudge: PaymentNudge) -> None:
        if self._status in (CheckoutStatus.failed, CheckoutStatus.expired):
            raise ValueError(f"this order is {self._status.value}; check out again")

    @workflow.query
    def state(self) -> CheckoutState:
        return CheckoutState(
            order_id=self._inp.order_id,
            status=self._status,
            payment_state=self._payment.state.value if self._payment else None,
            failure_reason=self._failure_reason,
            receipt_number=self._receipt_number,
            subscription_ids=self._subscription_ids,
            expires_at=self._expires_at,
            payment=self._session,
        )

    def _set_status(self, status: CheckoutStatus) -> None:
        self._status = status
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(status.value)])
        if status in PURCHASE_OUTCOMES:  # replay-safe: counted once, never on replay
            count(PURCHASES, outcome=PURCHASE_OUTCOMES[status])
