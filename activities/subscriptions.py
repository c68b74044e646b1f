"""Activities of subscriptions: start their workflows when their order settles, write what the
workflow decides to the read model, send the customer's messages, charge automatic renewals.

Every one is idempotent, keyed by the business id: workflows start by `subscription:{id}`; every
change and message by `sub:{id}:period:{n}:{kind}` (timeline and outbox keys); renewal orders
and their charges by `sub:{id}:period:{n}` (`...:retry:{k}` for a dunning retry), the key the
provider gets too, so a retried activity never charges twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.settings import Settings
from domain import workflow_facts, workflow_starts
from domain.contracts import (
    OrderRef,
)
from domain.notifications.contracts import Send, To
from domain.notifications.service import Notifier
from domain.orders import ledger, receipts, renewals
from domain.orders import service as orders
from domain.orders.models import OrderStatus
from domain.payments import PaymentStatus, ProviderDeclined
from domain.subscriptions import keys, notices, recording
from domain.subscriptions import service as subscriptions
from domain.subscriptions.contracts import (
    SUBSCRIPTION_WORKFLOW,
    CancellationRecord,
    CancellationRecorded,
    ChargeRenewal,
    LateRenewal,
    NewPeriod,
    Notice,
    PeriodRecorded,
    PeriodStart,
    Policy,
    RefundMade,
    RenewalCharge,
    RenewalPaid,
    ReservationChange,
    Schedule,
    StatusChange,
    SubscriptionInput,
)
from domain.subscriptions.models import Subscription
from domain.workflow_labels import SubscriptionFacts
from providers.payments.base import PaymentProvider

log = logging.getLogger(__name__)

# Changes whose timeline entry is also a message to the customer.


DAY = 86_400


def policy_from(settings: Settings, provider: str) -> Policy:
    # A day (and its hours) as long as the settings say: a real one but in development.
    day = settings.subscription_day_seconds
    return Policy(
        reminder_seconds=[days * day for days in settings.subscription_reminder_days],
        grace_seconds=settings.subscription_grace_days * day,
        auto_renew_lead_seconds=settings.auto_renew_lead_hours * day // 24,
        dunning_retry_seconds=[days * day for days in settings.dunning_retry_days],
        pre_debit_notice_seconds=settings.pre_debit_notice_hours * day // 24,
        refund_full_within_days=settings.refund_full_within_days,
        quote_ttl_seconds=settings.cancellation_quote_ttl_seconds,
        provider=provider,
        day_seconds=day,
    )


class SubscriptionActivities:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        provider: PaymentProvider,
        notifier: Notifier,
        temporal: Client | None,
        task_queue: str,
    ) -> None:
        self._sessions = sessions
        self._provider = provider
        self._notifier = notifier
        self._temporal = temporal
        self._task_queue = task_queue
        self._base_url = settings.public_base_url.rstrip("/")
        self.policy = policy_from(settings, provider.name)

    # --- starting -----------------------------------------------------------------------------

    @activity.defn
    async def announce_order(self, ref: OrderRef) -> None:
        """A settled order's subscriptions learn of it: each one it created gets its workflow
        (started once: a retry finds it), each one it renews is told (signal-with-start: a
        subscription whose workflow had ended, renewed after expiry, gets a new run)."""
        assert self._temporal is not None, "the worker gives this activity a client"
        async with self._sessions() as db:
            created = await orders.subscription_ids(db, order_id=ref.order_id)
            starts = [await self._input(db, sid) for sid in created]
            renewing = []
            for item in await renewals.renewal_items(db, order_id=ref.order_id):
                assert item.renews_subscription_id is not None
                inp, facts = await self._input(db, item.renews_subscription_id)
                renewing.append((inp, facts, await subscriptions.renewal_paid(db, item=item)))
        for inp, facts in starts:
            await self._start(inp, facts)
        for inp, facts, paid in renewing:
            await self._start(inp, facts, signal=paid)

    async def _input(
        self, db: AsyncSession, subscription_id: Any
    ) -> tuple[SubscriptionInput, SubscriptionFacts]:
        """A subscription's workflow input, and what the Web UI shows of it (its summary)."""
        inp = await subscriptions.workflow_input(
            db, subscription_id=subscription_id, policy=self.policy
        )
        return inp, await workflow_facts.subscription(db, subscription_id)

    async def start_existing(self, subscription_id: Any) -> None:
        """Start the workflow of a subscription that has none (made before workflows existed);
        `manage.py subscriptions start-missing` calls this."""
        async with self._sessions() as db:
            inp, facts = await self._input(db, subscription_id)
        await self._start(inp, facts)

    async def _start(
        self,
        inp: SubscriptionInput,
        facts: SubscriptionFacts,
        *,
        signal: RenewalPaid | None = None,
    ) -> None:
        assert self._temporal is not None
        options = workflow_starts.subscription(inp, self._task_queue, facts, renewal=signal)
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._temporal.start_workflow(SUBSCRIPTION_WORKFLOW, inp, **options)

    # --- recording ----------------------------------------------------------------------------

    @activity.defn
    async def record_period(self, change: NewPeriod) -> PeriodRecorded:
        async with self._sessions() as db:
            recorded = await recording.record_period(db, change=change)
            await db.commit()
        if recorded.recorded:
            await self._send(
                Notice(
                    subscription_id=change.subscription_id,
                    period=change.terms.number,
                    kind="renewed",
                    at=change.at,
                    ends_at=change.terms.ends_at,
                )
            )
        return recorded

    @activity.defn
    async def begin_period(self, start: PeriodStart) -> None:
        async with self._sessions() as db:
            await recording.begin_period(db, start=start)
            await db.commit()

    @activity.defn
    async def record_change(self, change: StatusChange) -> None:
        async with self._sessions() as db:
            await recording.record_change(db, change=change)
            await db.commit()

    @activity.defn
    async def publish_schedule(self, schedule: Schedule) -> None:
        async with self._sessions() as db:
            await recording.publish_schedule(db, schedule=schedule)
            await db.commit()

    @activity.defn
    async def record_reservation(self, change: ReservationChange) -> None:
        async with self._sessions() as db:
            await recording.record_reservation(db, change=change)
            await db.commit()

    @activity.defn
    async def record_cancellation(self, record: CancellationRecord) -> CancellationRecorded:
        async with self._sessions() as db:
            recorded = await recording.record_cancellation(db, record=record)
            await db.commit()
        await self._send(
            Notice(
                subscription_id=record.subscription_id,
                period=record.period,
                kind="cancelled",
                at=record.at,
                ends_at=record.at,
                detail=record.why,
            )
        )
        return recorded

    @activity.defn
    async def refund_late_renewal(self, late: LateRenewal) -> RefundMade | None:
        async with self._sessions() as db:
            made = await recording.refund_late_renewal(db, late=late)
            await db.commit()
        return made

    # --- messages -----------------------------------------------------------------------------

    async def _send(self, notice: Notice) -> None:
        """A period's renewal or the cancellation, to the customer, once per key."""
        async with self._sessions() as db:
            subscription = await db.get(Subscription, notice.subscription_id)
            assert subscription is not None
        kind, refs = notices.message(notice.kind)
        await self._notifier.send(
            Send(
                kind=kind,
                key=keys.period_key(notice.subscription_id, notice.period, notice.kind),
                to=To(user_id=subscription.user_id),
                refs={
                    "subscription_id": str(notice.subscription_id),
                    "ends_at": notice.ends_at.isoformat(),
                    "detail": notice.detail,
                    **refs,
                },
            ),
            attempt=activity.info().attempt,
        )

    # --- automatic renewal --------------------------------------------------------------------

    @activity.defn
    async def charge_renewal(self, inp: ChargeRenewal) -> RenewalCharge:
        """Charge the saved method for the next period, through a renewal order keyed by the
        subscription and period (`keys.renewal_key`; a dunning retry is a new order): the
        provider gets that key, so a retry of this activity finds the first charge instead of
        making a second."""
        key = keys.renewal_key(inp.subscription_id, inp.period, inp.attempt)
        async with self._sessions() as db:
            prepared = await renewals.charge_for(
                db,
                subscription_id=inp.subscription_id,
                payment_method_id=inp.payment_method_id,
                idempotency_key=key,
                provider=self._provider.name,
            )
            await db.commit()
        if isinstance(prepared, RenewalCharge):
            return prepared  # nothing to charge: declined, with why
        order, charge = prepared
        if order.status in (OrderStatus.completed, OrderStatus.failed):
            return await self._outcome(order.id, None)
        if order.provider_ref is not None:  # charged before this attempt of the activity died
            status = await self._provider.fetch_payment(order.provider_ref)
        else:
            try:
                status = await self._provider.charge_saved_method(charge, idempotency_key=key)
            except ProviderDeclined as exc:
                # The provider will never take this charge (a method it no longer has, a
                # customer it cannot debit): a declined renewal like any other, so the plan
                # goes through dunning with the reason, instead of failing its workflow.
                async with self._sessions() as db:
                    await renewals.refuse(db, order_id=order.id, reason=str(exc))
                    await db.commit()
                return await self._outcome(order.id, None)
            async with self._sessions() as db:
                await ledger.record_session(
                    db,
                    order_id=order.id,
                    provider=self._provider.name,
                    provider_ref=status.provider_ref,
                    amount_minor=status.amount_minor,
                    currency=status.currency,
                )
                await db.commit()
        return await self._outcome(order.id, status)

    @activity.defn
    async def check_renewal_charge(self, ref: OrderRef) -> RenewalCharge:
        """Ask the provider again about a renewal charge it was still settling."""
        async with self._sessions() as db:
            order = await orders.get_order(db, order_id=ref.order_id, user_id=None, items=False)
        if order.status != OrderStatus.pending_payment or order.provider_ref is None:
            return await self._outcome(order.id, None)
        return await self._outcome(order.id, await self._provider.fetch_payment(order.provider_ref))

    async def _outcome(self, order_id: Any, status: PaymentStatus | None) -> RenewalCharge:
        """The renewal order settled or failed as `status` says (None: as recorded already);
        the receipt when it is paid."""
        async with self._sessions() as db:
            order, outcome = await renewals.charge_outcome(db, order_id=order_id, status=status)
            await db.commit()
        if outcome.state == "succeeded":
            await receipts.send_receipt(
                self._notifier, order=order, attempt=activity.info().attempt
            )
        return outcome

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.announce_order,
            self.record_period,
            self.begin_period,
            self.record_change,
            self.publish_schedule,
            self.record_reservation,
            self.record_cancellation,
            self.refund_late_renewal,
            self.charge_renewal,
            self.check_renewal_charge,
        ]
