"""Activities of the checkout: talk to the payment provider, record what happened.

Idempotency keys come from the order id (`order:{id}:session`, `order:{id}:cancel`,
`order:{id}:receipt`) and go to the provider and to our tables, so a retry after a lost reply
(or a worker killed mid-call) finds the first attempt's result instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.errors import Conflict
from domain.accounts import service as accounts
from domain.contracts import OrderOutcome, OrderRef, SettleInput, Settlement
from domain.notifications.service import Notifier
from domain.orders import ledger, receipts, settlement
from domain.orders import service as orders
from domain.payments import (
    PaymentRequest,
    PaymentSession,
    PaymentState,
    PaymentStatus,
    ProviderDeclined,
)
from providers.payments.base import PaymentProvider


class CheckoutActivities:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        provider: PaymentProvider,
        notifier: Notifier,
    ) -> None:
        self._sessions = sessions
        self._provider = provider
        self._notifier = notifier

    @activity.defn
    async def create_payment_session(self, ref: OrderRef) -> PaymentSession:
        async with self._sessions() as db:
            order = await orders.get_order(db, order_id=ref.order_id, user_id=None, items=False)
            user = await accounts.get_user(db, user_id=order.user_id)
            customer_id = await accounts.provider_customer_id(
                db, user_id=user.id, provider=self._provider.name
            )
        if customer_id is None:
            customer_id = await self._provider.ensure_customer(
                str(user.id), user.email, idempotency_key=f"customer:{user.id}"
            )
            if customer_id is not None:
                async with self._sessions() as db:
                    customer_id = await accounts.remember_provider_customer(
                        db,
                        user_id=user.id,
                        provider=self._provider.name,
                        customer_id=customer_id,
                    )
                    await db.commit()
        request = PaymentRequest(
            reference=str(order.id),
            amount_minor=order.total_minor,
            currency=order.currency,
            description=f"HomePlans order {str(order.id)[:8]}",
            customer_email=user.email,
            customer_phone=user.phone,
            provider_customer_id=customer_id,
        )
        try:
            session = await self._provider.create_session(
                request, idempotency_key=f"order:{ref.order_id}:session"
            )
        except ProviderDeclined as exc:
            raise ApplicationError(str(exc), type="ProviderDeclined", non_retryable=True) from exc
        async with self._sessions() as db:
            await ledger.record_session(
                db,
                order_id=ref.order_id,
                provider=session.provider,
                provider_ref=session.provider_ref,
                amount_minor=session.amount_minor,
                currency=session.currency,
            )
            await db.commit()
        return session

    @activity.defn
    async def check_payment(self, ref: OrderRef) -> PaymentStatus:
        """Ask the provider: the only source the workflow believes. A payment the provider holds
        but has not settled yet is written to the ledger as authorised."""
        provider_ref = await self._provider_ref(ref)
        status = await self._provider.fetch_payment(provider_ref)
        if status.state == PaymentState.processing:
            async with self._sessions() as db:
                await ledger.record_authorised(db, order_id=ref.order_id, status=status)
                await db.commit()
        return status

    @activity.defn
    async def cancel_payment(self, ref: OrderRef) -> PaymentStatus:
        provider_ref = await self._provider_ref(ref)
        return await self._provider.cancel_session(
            provider_ref, idempotency_key=f"order:{ref.order_id}:cancel"
        )

    @activity.defn
    async def settle_order(self, inp: SettleInput) -> Settlement:
        """Record the paid order (ledger, subscriptions, receipt number, saved method) in one
        transaction, then send the receipt (once: keyed by the order). One activity, because
        both are idempotent and every step costs the workflow history."""
        async with self._sessions() as db:
            try:
                result = await settlement.settle_paid_order(
                    db, order_id=inp.order_id, status=inp.payment
                )
            except Conflict as exc:  # e.g. the amount paid differs from the order's total
                raise ApplicationError(
                    exc.detail, type="AmountMismatch", non_retryable=True
                ) from exc
            await db.commit()
            # Loaded by the settlement: read from this session, no query.
            order, _ = await orders.order_and_buyer(db, order_id=inp.order_id)
        await receipts.send_receipt(self._notifier, order=order, attempt=activity.info().attempt)
        return Settlement(
            order_id=inp.order_id,
            receipt_number=result.receipt_number,
            subscription_ids=list(result.subscription_ids),
        )

    @activity.defn
    async def fail_order(self, outcome: OrderOutcome) -> None:
        async with self._sessions() as db:
            try:
                await settlement.mark_order_failed(
                    db,
                    order_id=outcome.order_id,
                    reason=outcome.reason or "payment failed",
                    status=None,
                )
            except Conflict as exc:  # settled meanwhile: the paid outcome stands
                activity.logger.warning("not marking order failed: %s", exc.detail)
                return
            await db.commit()

    @activity.defn
    async def expire_order(self, ref: OrderRef) -> None:
        async with self._sessions() as db:
            await settlement.mark_order_expired(db, order_id=ref.order_id)
            await db.commit()

    async def _provider_ref(self, ref: OrderRef) -> str:
        async with self._sessions() as db:
            order = await orders.get_order(db, order_id=ref.order_id, user_id=None, items=False)
        if order.provider_ref is None:
            raise ApplicationError("the order has no payment session yet", type="NoSession")
        return order.provider_ref

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.create_payment_session,
            self.check_payment,
            self.cancel_payment,
            self.settle_order,
            self.fail_order,
            self.expire_order,
        ]
