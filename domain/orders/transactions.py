"""Payments as staff read them: one row per order's payment, with its customer, method, status
and what was refunded, filtered. Read from the orders and the payment ledger (the ledger stays
the record of what happened to the money; this is a view of it).

A payment's status is the order's, as money goes: `pending` (waiting for the customer),
`succeeded` (captured), `partially_refunded` / `refunded` (refunds that succeeded), `failed`,
`expired`. Its time is when it was paid, or when the order was placed for one never paid.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import LIKE_ESCAPE, contains
from domain.accounts.models import User
from domain.money import minor_units
from domain.numbers import OrderNumber
from domain.orders.models import LedgerEntry, LedgerKind, Order, OrderStatus, Refund, RefundStatus
from domain.payments import ProviderName

Method = Literal["card", "upi", "wallet", "netbanking"]


class PaymentStatusView(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    failed = "failed"
    expired = "expired"


class PaymentCustomer(BaseModel):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None


class PaymentOut(BaseModel):
    order_id: uuid.UUID
    order_number: OrderNumber
    customer: PaymentCustomer
    amount_minor: int = Field(description="The order's total")
    currency: str
    minor_units: int = Field(description="Digits after the decimal point, for display")
    provider: str
    provider_ref: str | None = Field(description="The provider's payment session")
    provider_payment_id: str | None = Field(description="The captured payment (refunds use it)")
    method: str | None = Field(description="card, upi, wallet or netbanking, once known")
    status: PaymentStatusView
    order_status: OrderStatus
    at: datetime = Field(description="When it was paid; for one never paid, when it was placed")
    refunded_minor: int = Field(description="Refunds that succeeded")
    refundable_minor: int = Field(description="Captured less refunds made or pending")
    receipt_number: int | None
    failure_reason: str | None
    workflow_id: str
    workflow_url: str | None = Field(
        default=None, description="Its workflow in the Temporal Web UI (set on every staff answer)"
    )


def _ledger_sum(kind: LedgerKind) -> Any:
    return (
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
        .where(LedgerEntry.order_id == Order.id, LedgerEntry.kind == kind.value)
        .correlate(Order)
        .scalar_subquery()
    )


_method_of_order = (
    select(LedgerEntry.data["method"].astext)
    .where(
        LedgerEntry.order_id == Order.id,
        LedgerEntry.kind.in_([LedgerKind.captured.value, LedgerKind.authorised.value]),
    )
    .order_by(LedgerEntry.occurred_at.desc())
    .limit(1)
    .correlate(Order)
    .scalar_subquery()
)
_captured_of_order = _ledger_sum(LedgerKind.captured)
_refunded_of_order = _ledger_sum(LedgerKind.refunded)
_held_by_refunds_of_order = (
    select(func.coalesce(func.sum(Refund.amount_minor), 0))
    .where(
        Refund.order_id == Order.id,
        Refund.status.in_([RefundStatus.pending.value, RefundStatus.succeeded.value]),
    )
    .correlate(Order)
    .scalar_subquery()
)
_at_of_order = func.coalesce(Order.paid_at, Order.created_at)
_status_of_order = case(
    (Order.status == OrderStatus.pending_payment.value, PaymentStatusView.pending.value),
    (Order.status == OrderStatus.failed.value, PaymentStatusView.failed.value),
    (Order.status == OrderStatus.expired.value, PaymentStatusView.expired.value),
    (Order.total_minor <= _refunded_of_order, PaymentStatusView.refunded.value),
    (_refunded_of_order > 0, PaymentStatusView.partially_refunded.value),
    else_=PaymentStatusView.succeeded.value,
)


def _search(q: str) -> ColumnElement[bool]:
    """An order or customer id; a customer's name, email or phone (part of it); the provider's
    session or payment id (exact)."""
    try:
        as_id = uuid.UUID(q)
    except ValueError:
        like = contains(q.lower())
        return or_(
            func.lower(User.name).like(like, escape=LIKE_ESCAPE),
            User.email.like(like, escape=LIKE_ESCAPE),
            User.phone.like(contains(q), escape=LIKE_ESCAPE),
            Order.provider_ref == q,
            Order.provider_payment_id == q,
        )
    return or_(Order.id == as_id, Order.user_id == as_id)


async def list_payments(
    db: AsyncSession,
    *,
    status: PaymentStatusView | None = None,
    provider: ProviderName | None = None,
    method: Method | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[PaymentOut], int]:
    """Payments, the latest first (`since` inclusive, `until` exclusive), and the total."""
    stmt = select(
        Order,
        User,
        _method_of_order.label("method"),
        _status_of_order.label("payment_status"),
        _refunded_of_order.label("refunded"),
        (_captured_of_order - _held_by_refunds_of_order).label("refundable"),
        _at_of_order.label("at"),
    ).join(User, User.id == Order.user_id)
    if status is not None:
        stmt = stmt.where(_status_of_order == status.value)
    if provider is not None:
        stmt = stmt.where(Order.provider == provider)
    if method is not None:
        stmt = stmt.where(_method_of_order == method)
    if since is not None:
        stmt = stmt.where(since <= _at_of_order)
    if until is not None:
        stmt = stmt.where(until > _at_of_order)
    if q:
        stmt = stmt.where(_search(q.strip()))
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await db.execute(stmt.order_by(_at_of_order.desc(), Order.id).limit(limit).offset(offset))
    ).all()
    return [_out(*row) for row in rows], int(total)


def _out(
    order: Order,
    user: User,
    method: str | None,
    status: str,
    refunded: int,
    refundable: int,
    at: datetime,
) -> PaymentOut:
    return PaymentOut(
        order_id=order.id,
        order_number=order.number,
        customer=PaymentCustomer(id=user.id, name=user.name, email=user.email, phone=user.phone),
        amount_minor=order.total_minor,
        currency=order.currency,
        minor_units=minor_units(order.currency),
        provider=order.provider,
        provider_ref=order.provider_ref,
        provider_payment_id=order.provider_payment_id,
        method=method,
        status=PaymentStatusView(status),
        order_status=OrderStatus(order.status),
        at=at,
        refunded_minor=int(refunded),
        refundable_minor=max(int(refundable), 0),
        receipt_number=order.receipt_number,
        failure_reason=order.failure_reason,
        workflow_id=order.workflow_id,
    )
