"""Refunds of a paid order: what is still refundable, recording a refund to make (audited), and
the provider's answer (a `refunded` ledger entry, once). `RefundWorkflow` drives them.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Conflict, InvalidField, NotFound
from domain.audit import service as audit
from domain.money import format_money
from domain.orders import ledger
from domain.orders.models import LedgerEntry, LedgerKind, Order, OrderStatus, Refund, RefundStatus
from domain.orders.service import get_order, lock_order
from domain.payments import RefundResult
from domain.reports import rollups


async def refundable_amount(db: AsyncSession, *, order_id: uuid.UUID) -> int:
    """Captured minus refunds that succeeded or are still pending (a failed refund frees its
    amount again)."""
    captured = (
        await db.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
                LedgerEntry.order_id == order_id, LedgerEntry.kind == LedgerKind.captured.value
            )
        )
    ).scalar_one()
    refunded = (
        await db.execute(
            select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
                Refund.order_id == order_id,
                Refund.status.in_([RefundStatus.pending.value, RefundStatus.succeeded.value]),
            )
        )
    ).scalar_one()
    return int(captured) - int(refunded)


async def refund_to_issue(db: AsyncSession, *, refund_id: uuid.UUID) -> tuple[Refund, str]:
    """A recorded refund and the captured payment it goes back to (the provider's payment id)."""
    refund = await db.get(Refund, refund_id)
    if refund is None:
        raise NotFound("refund not found")
    payment_id = (
        await db.execute(select(Order.provider_payment_id).where(Order.id == refund.order_id))
    ).scalar_one()
    if payment_id is None:
        raise Conflict(f"order {refund.order_id} has no captured payment to refund")
    return refund, payment_id


def _too_much(order: Order, refundable: int) -> str:
    """Why an amount is more than can go back, in the words staff use."""
    left = format_money(refundable, order.currency)
    if refundable <= 0:
        return "nothing is left to refund: the whole payment is refunded or on its way back"
    if refundable == order.total_minor:
        return f"that is more than the customer paid; at most {left} can be refunded"
    return (
        f"that is more than is left to refund; at most {left} can be refunded "
        f"(the rest is refunded already or on its way back)"
    )


def _refund_snapshot(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": str(refund.id),
        "amount_minor": refund.amount_minor,
        "currency": refund.currency,
        "reason": refund.reason,
        "status": refund.status,
    }


async def request_refund(
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    amount_minor: int,
    reason: str,
    actor_id: uuid.UUID | None,
    refund_id: uuid.UUID | None = None,
) -> Refund:
    """Record a refund to be made (pending) and audit it. The amount must be at most what is
    still refundable (422 on amount_minor); the order must be completed. Pass `refund_id` (made
    once by the caller) to make a retried request return the refund recorded the first time."""
    order = await lock_order(db, order_id=order_id)  # serialises refunds of one order
    if refund_id is not None:
        # Looked up under the lock, so concurrent retries of one request find the first one's
        # refund instead of inserting it again.
        existing = (
            await db.execute(
                select(Refund)
                .where(Refund.id == refund_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if existing is not None:
            if existing.order_id != order_id:
                raise Conflict(f"refund {refund_id} belongs to another order")
            return existing
    if order.status != OrderStatus.completed.value:
        raise Conflict(f"only a paid order can be refunded; order {order.id} is {order.status}")
    if amount_minor <= 0:
        raise InvalidField(("amount_minor",), "must be more than 0")
    reason = reason.strip()
    if not reason:
        raise InvalidField(("reason",), "say why the refund is made")
    refundable = await refundable_amount(db, order_id=order.id)
    if amount_minor > refundable:
        raise InvalidField(("amount_minor",), _too_much(order, refundable))
    refund = Refund(
        id=refund_id or uuid.uuid4(),
        order_id=order.id,
        amount_minor=amount_minor,
        currency=order.currency,
        reason=reason,
        status=RefundStatus.pending.value,
        requested_by=actor_id,
    )
    db.add(refund)
    await db.flush()
    await db.refresh(refund)
    audit.record(
        db,
        actor_id=actor_id,
        action="order.refund",
        entity_type="order",
        entity_id=order.id,
        after=_refund_snapshot(refund),
    )
    return refund


async def record_refund_result(
    db: AsyncSession, *, refund_id: uuid.UUID, result: RefundResult
) -> Refund:
    """Store the provider's answer to a refund; a success writes the `refunded` ledger entry
    (`refund:{id}`) once. Idempotent; a succeeded refund stays succeeded."""
    refund = (
        await db.execute(
            select(Refund)
            .where(Refund.id == refund_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if refund is None:
        raise NotFound("refund not found")
    if refund.status == RefundStatus.succeeded.value:
        return refund
    refund.provider_refund_id = result.provider_refund_id
    if result.status == "succeeded":
        order = await get_order(db, order_id=refund.order_id, user_id=None)
        refund.status = RefundStatus.succeeded.value
        refund.completed_at = utcnow()
        refund.failure_reason = None
        await ledger.append(
            db,
            order=order,
            kind=LedgerKind.refunded,
            key=f"refund:{refund.id}",
            amount_minor=result.amount_minor,
            currency=refund.currency,
            payment_id=order.provider_payment_id,
            data={"refund_id": str(refund.id), "provider_refund_id": result.provider_refund_id},
        )
        # Counted here, once: a refund already succeeded returned above, under the row's lock.
        await rollups.count_refund(
            db,
            items=order.items,
            currency=refund.currency,
            amount_minor=result.amount_minor,
            method=await rollups.captured_method(db, order_id=order.id),
            at=refund.completed_at,
        )
    elif result.status == "failed":
        refund.status = RefundStatus.failed.value
        refund.completed_at = utcnow()
        refund.failure_reason = "the provider refused the refund"
    await db.flush()
    return refund


async def record_refund_declined(db: AsyncSession, *, refund_id: uuid.UUID, reason: str) -> Refund:
    """The provider refused the refund outright (more than it holds as unrefunded, a payment it
    cannot refund): the refund has failed, with the provider's words, for staff to act on. A
    refund already answered keeps its answer."""
    refund = (
        await db.execute(select(Refund).where(Refund.id == refund_id).with_for_update())
    ).scalar_one_or_none()
    if refund is None:
        raise NotFound("refund not found")
    if refund.status == RefundStatus.pending.value:
        refund.status = RefundStatus.failed.value
        refund.completed_at = utcnow()
        refund.failure_reason = f"the provider refused the refund: {reason}"[:500]
    await db.flush()
    return refund
