"""One payment as staff read it: the charge and its refunds as a timeline in words, with who did
each step (by name), what it was for (the plans bought) and what is still refundable.

Read from what is already written: the order's status history (placed, paid, failed, expired,
each with its actor), the captured ledger entry (how it was paid) and the `refunds` table (every
refund asked for, whatever became of it). Times are instants; the screens show them in the
business's zone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import actors
from domain.money import format_money
from domain.orders import refund_views, transactions
from domain.orders.models import (
    LedgerEntry,
    LedgerKind,
    OrderStatus,
    OrderStatusHistory,
    Refund,
    RefundStatus,
)
from domain.orders.service import get_order
from domain.orders.transactions import PaymentOut

PROVIDERS = {"sandbox": "Sandbox", "stripe": "Stripe", "razorpay": "Razorpay"}
METHODS = {"card": "card", "upi": "UPI", "wallet": "wallet", "netbanking": "net banking"}


def paid_with(provider: str, method: str | None) -> str:
    """`Stripe · card`, `Razorpay · UPI`, `Sandbox` (a method no more than the provider's name is
    not said twice)."""
    name = PROVIDERS.get(provider, provider.capitalize())
    shown = METHODS.get(method or "")
    return f"{name} · {shown}" if shown else name


class PaymentPlan(BaseModel):
    plan_id: uuid.UUID
    name: str = Field(description="The plan's name as it was bought")


class PaymentEvent(BaseModel):
    at: datetime
    kind: str = Field(
        description="placed, paid, completed, failed, expired, refund_requested, refund_paid or "
        "refund_failed"
    )
    text: str = Field(description="What happened, in words")
    actor: str = Field(description="Who: the customer's or staff member's name, or System")
    amount_minor: int | None = Field(default=None, description="The money it moved, if any")
    note: str | None = Field(default=None, description="A reason given with it")


class PaymentDetailOut(PaymentOut):
    paid_with: str = Field(description="How it was paid, in words: `Stripe · card`, `Sandbox`")
    plans: list[PaymentPlan] = Field(description="What was bought, in the order of the items")
    receipt_path: str | None = Field(
        description="The receipt (an HTML page, staff's bearer token), once paid"
    )
    timeline: list[PaymentEvent] = Field(description="The charge and its refunds, oldest first")


def _refund_events(
    refund: Refund, customer_reason: str, who: str, money: str
) -> list[PaymentEvent]:
    events = [
        PaymentEvent(
            at=refund.created_at,
            kind="refund_requested",
            text=f"Refund of {money} asked for",
            actor=who,
            amount_minor=refund.amount_minor,
            note=refund.reason if refund.reason != customer_reason else None,
        )
    ]
    if refund.completed_at is not None and refund.status == RefundStatus.succeeded.value:
        events.append(
            PaymentEvent(
                at=refund.completed_at,
                kind="refund_paid",
                text=f"Refund of {money} paid back",
                actor="System",
                amount_minor=refund.amount_minor,
                note=f"The customer is told: {customer_reason}",
            )
        )
    elif refund.completed_at is not None and refund.status == RefundStatus.failed.value:
        events.append(
            PaymentEvent(
                at=refund.completed_at,
                kind="refund_failed",
                text=f"Refund of {money} failed",
                actor="System",
                amount_minor=refund.amount_minor,
                note=refund.failure_reason,
            )
        )
    return events


async def payment_detail(db: AsyncSession, *, order_id: uuid.UUID) -> PaymentDetailOut:
    """One order's payment with its timeline; NotFound when there is no such order."""
    order = await get_order(db, order_id=order_id, user_id=None)
    rows, _ = await transactions.list_payments(db, q=str(order.id), limit=1, offset=0)
    (payment,) = [p for p in rows if p.order_id == order.id]
    history = (
        (
            await db.execute(
                select(OrderStatusHistory)
                .where(OrderStatusHistory.order_id == order.id)
                .order_by(OrderStatusHistory.at, OrderStatusHistory.id)
            )
        )
        .scalars()
        .all()
    )
    captured = (
        await db.execute(
            select(LedgerEntry)
            .where(LedgerEntry.order_id == order.id, LedgerEntry.kind == LedgerKind.captured.value)
            .order_by(LedgerEntry.occurred_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    refunds = (await refund_views.refunds_of(db, orders=[order]))[order.id]
    recorded = [h.actor for h in history] + [
        actors.staff(r.requested_by) for r, _ in refunds if r.requested_by
    ]
    named = await actors.name_all(db, recorded, audience="staff", customer_id=order.user_id)

    def money(amount_minor: int) -> str:
        return format_money(amount_minor, order.currency)

    how = paid_with(order.provider, payment.method)
    timeline: list[PaymentEvent] = []
    for h in history:
        who = named[h.actor].name
        to = OrderStatus(h.to_status)
        if h.from_status is None:
            text, kind = f"Order placed for {money(order.total_minor)}", "placed"
        elif to == OrderStatus.paid:
            at_provider = captured.occurred_at if captured else h.at
            timeline.append(
                PaymentEvent(
                    at=at_provider,
                    kind="paid",
                    text=f"Charged {money(order.total_minor)} ({how})",
                    actor=who,
                    amount_minor=order.total_minor,
                )
            )
            continue
        elif to == OrderStatus.completed:
            number = f"receipt {order.receipt_number}" if order.receipt_number else "a receipt"
            text, kind = f"Plans started and {number} issued", "completed"
        elif to == OrderStatus.failed:
            text, kind = "Payment failed", "failed"
        elif to == OrderStatus.expired:
            text, kind = "Payment window ended unpaid", "expired"
        else:
            text, kind = f"Now {to.value.replace('_', ' ')}", to.value
        timeline.append(PaymentEvent(at=h.at, kind=kind, text=text, actor=who, note=h.reason))
    for refund, reason in refunds:
        who = named[actors.staff(refund.requested_by)].name if refund.requested_by else "System"
        timeline.extend(_refund_events(refund, reason, who, money(refund.amount_minor)))
    paid = order.status in (OrderStatus.paid.value, OrderStatus.completed.value)
    return PaymentDetailOut(
        **payment.model_dump(),
        paid_with=how,
        plans=[PaymentPlan(plan_id=i.plan_id, name=i.plan_name) for i in order.items],
        receipt_path=f"/api/v1/admin/orders/{order.id}/receipt"
        if paid and order.receipt_number
        else None,
        timeline=sorted(timeline, key=lambda e: e.at),
    )
