"""Refund activities: send one refund to the provider (key `refund:{id}`) and record the result."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.contracts import RefundInput
from domain.orders import refunds
from domain.orders.models import RefundStatus
from domain.payments import ProviderDeclined
from providers.payments.base import PaymentProvider


class RefundActivities:
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], provider: PaymentProvider
    ) -> None:
        self._sessions = sessions
        self._provider = provider

    @activity.defn
    async def issue_refund(self, inp: RefundInput) -> str:
        async with self._sessions() as db:
            refund, payment_id = await refunds.refund_to_issue(db, refund_id=inp.refund_id)
        if refund.status != RefundStatus.pending.value:
            # Already answered by the provider (a retried admin request starts the workflow
            # again): never send it twice. The key alone would not do: Stripe forgets idempotency
            # keys after 24 hours, and the retry may come later.
            return refund.status
        try:
            result = await self._provider.refund(
                payment_id,
                amount_minor=refund.amount_minor,
                currency=refund.currency,
                idempotency_key=f"refund:{refund.id}",
                reason=refund.reason,
            )
        except ProviderDeclined as exc:
            # Refused for good: recorded as failed (it would otherwise read "in progress" for
            # ever), and the workflow ends with that answer.
            async with self._sessions() as db:
                await refunds.record_refund_declined(db, refund_id=refund.id, reason=str(exc))
                await db.commit()
            return RefundStatus.failed.value
        async with self._sessions() as db:
            await refunds.record_refund_result(db, refund_id=refund.id, result=result)
            await db.commit()
        return result.status
