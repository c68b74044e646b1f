"""An order's refunds as its customer is shown them (the order, the receipt), and as staff see
them beside that. Read from the `refunds` table, which holds every refund of an order whatever
its status and wherever it came from: an admin's refund, a subscription's cancellation, a
renewal paid after cancelling. (The ledger has only the refunds that succeeded.)

The reason typed with a refund is not what the customer reads: an admin's is a note for staff,
and a cancellation's carries the cancelling person's words (staff may write "fraudulent
signup"). The customer is told where the refund came from instead; a cancellation's refund is
known by its id, made from the subscription and the order (`cancellation_refund_id`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orders.models import Order, OrderStatus, Refund, RefundStatus
from domain.orders.schemas import (
    AdminRefundOut,
    CustomerOrderOut,
    OrderOut,
    OrderRefundOut,
    RefundOut,
    RefundTotals,
)
from domain.subscriptions.contracts import cancellation_refund_id
from domain.subscriptions.models import Subscription

FROM_SUPPORT = "Refund from our support team"
_PAID = (OrderStatus.paid.value, OrderStatus.completed.value)


def _cancelled(plan_name: str) -> str:
    return f"{plan_name} cancelled"


async def _cancellation_reasons(db: AsyncSession, orders: Sequence[Order]) -> dict[uuid.UUID, str]:
    """The customer's reason for each refund id a cancellation of a plan in these orders would
    have: the subscriptions an order made, and those a renewal order paid for."""
    plan_of_item = {item.id: (order.id, item.plan_name) for order in orders for item in order.items}
    pairs = [
        (item.renews_subscription_id, order.id, item.plan_name)
        for order in orders
        for item in order.items
        if item.renews_subscription_id is not None
    ]
    made = await db.execute(
        select(Subscription.id, Subscription.order_item_id).where(
            Subscription.order_id.in_([o.id for o in orders])
        )
    )
    for subscription_id, item_id in made:
        order_id, plan_name = plan_of_item[item_id]
        pairs.append((subscription_id, order_id, plan_name))
    return {
        cancellation_refund_id(subscription_id, order_id): _cancelled(plan_name)
        for subscription_id, order_id, plan_name in pairs
    }


async def refunds_of(
    db: AsyncSession, *, orders: Sequence[Order]
) -> dict[uuid.UUID, list[tuple[Refund, str]]]:
    """Each order's refunds, oldest first, with the reason its customer is shown (the orders'
    items loaded). Two queries whatever the number of orders."""
    if not orders:
        return {}
    rows = (
        await db.execute(
            select(Refund)
            .where(Refund.order_id.in_([o.id for o in orders]))
            .order_by(Refund.created_at, Refund.id)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    out: dict[uuid.UUID, list[tuple[Refund, str]]] = {o.id: [] for o in orders}
    refunds = list(rows.all())
    if refunds:
        reasons = await _cancellation_reasons(db, orders)
        for refund in refunds:
            out[refund.order_id].append((refund, reasons.get(refund.id, FROM_SUPPORT)))
    return out


def customer_refund(refund: Refund, reason: str) -> OrderRefundOut:
    return OrderRefundOut(
        id=refund.id,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        status=RefundStatus(refund.status),
        reason=reason,
        requested_at=refund.created_at,
        settled_at=refund.completed_at,
    )


def staff_refund(refund: Refund, reason: str) -> AdminRefundOut:
    return AdminRefundOut(**RefundOut.model_validate(refund).model_dump(), customer_reason=reason)


def totals(order: Order, refunds: Sequence[tuple[Refund, str]]) -> RefundTotals:
    """What came back (refunds that succeeded) and what the customer paid less that."""
    refunded = sum(r.amount_minor for r, _ in refunds if r.status == RefundStatus.succeeded.value)
    return RefundTotals(
        refunded_minor=refunded,
        net_paid_minor=order.total_minor - refunded if order.status in _PAID else None,
    )


async def customer_orders(db: AsyncSession, *, orders: Sequence[Order]) -> list[CustomerOrderOut]:
    """The orders (items loaded) as their customer reads them, with their refunds."""
    refunds = await refunds_of(db, orders=orders)
    return [
        CustomerOrderOut(
            **OrderOut.model_validate(order).model_dump(),
            **totals(order, refunds[order.id]).model_dump(),
            refunds=[customer_refund(r, reason) for r, reason in refunds[order.id]],
        )
        for order in orders
    ]
