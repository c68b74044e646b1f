"""The payment ledger: an append-only record of what happened to an order's money, and the
provider facts around it (the payment session, webhook deliveries).

Entries carry a unique `entry_key` (`order:{id}:created|authorised|captured|failed|cancelled`,
`refund:{id}`) and are inserted ON CONFLICT DO NOTHING, so a retried activity writes each fact
once. Keyword-only functions, the session first; the caller commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Conflict
from domain.money import format_money
from domain.orders.models import LedgerEntry, LedgerKind, Order, OrderStatus, WebhookEvent
from domain.orders.service import get_order, lock_order
from domain.payments import PaymentStatus


async def append(
    db: AsyncSession,
    *,
    order: Order,
    kind: LedgerKind,
    key: str,
    amount_minor: int,
    currency: str,
    payment_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append a ledger entry once per key; True if written now."""
    written = (
        await db.execute(
            pg_insert(LedgerEntry)
            .values(
                id=uuid.uuid4(),
                order_id=order.id,
                kind=kind.value,
                provider=order.provider,
                provider_ref=order.provider_ref,
                provider_payment_id=payment_id,
                amount_minor=amount_minor,
                currency=currency,
                entry_key=key,
                data=data or {},
            )
            .on_conflict_do_nothing(index_elements=["entry_key"])
            .returning(LedgerEntry.id)
        )
    ).scalar_one_or_none()
    return written is not None


async def record_session(
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    provider: str,
    provider_ref: str,
    amount_minor: int,
    currency: str,
) -> Order:
    """Store the payment session made for an order, with a `created` ledger entry. Idempotent;
    an order has one session: a different one for the same order is a Conflict (a new attempt
    after a failure is a new order from the same cart)."""
    order = await lock_order(db, order_id=order_id, items=False)
    if order.provider_ref is not None and order.provider_ref != provider_ref:
        raise Conflict(f"order {order.id} already has payment session {order.provider_ref}")
    if provider != order.provider:
        raise Conflict(f"order {order.id} is to be paid with {order.provider}, not {provider}")
    if (amount_minor, currency) != (order.total_minor, order.currency):
        raise Conflict(
            f"session amount {format_money(amount_minor, currency)} differs from the order total "
            f"{format_money(order.total_minor, order.currency)}"
        )
    if order.provider_ref is None:
        if order.status != OrderStatus.pending_payment.value:
            raise Conflict(f"order {order.id} is {order.status}; it takes no payment session")
        order.provider_ref = provider_ref
        try:
            await db.flush()
        except IntegrityError as exc:
            raise Conflict(f"payment session {provider_ref} belongs to another order") from exc
    await append(
        db,
        order=order,
        kind=LedgerKind.created,
        key=f"order:{order.id}:created",
        amount_minor=amount_minor,
        currency=currency,
    )
    return order


async def record_authorised(
    db: AsyncSession, *, order_id: uuid.UUID, status: PaymentStatus
) -> None:
    """The provider holds the customer's money but has not settled yet: a ledger entry, once."""
    order = await get_order(db, order_id=order_id, user_id=None, items=False)
    await append(
        db,
        order=order,
        kind=LedgerKind.authorised,
        key=f"order:{order.id}:authorised",
        amount_minor=status.amount_minor,
        currency=status.currency,
        payment_id=status.payment_id,
        data={"method": status.method},
    )


async def record_webhook_event(
    db: AsyncSession, *, provider: str, event_id: str, event_type: str, provider_ref: str | None
) -> bool:
    """Remember a provider's webhook delivery; True the first time, False for a redelivery."""
    written = (
        await db.execute(
            pg_insert(WebhookEvent)
            .values(
                id=uuid.uuid4(),
                provider=provider,
                event_id=event_id,
                event_type=event_type,
                provider_ref=provider_ref,
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(WebhookEvent.id)
        )
    ).scalar_one_or_none()
    return written is not None


async def mark_webhook_processed(db: AsyncSession, *, provider: str, event_id: str) -> None:
    """Note that a webhook delivery has been acted on (the first time only)."""
    event = (
        await db.execute(
            select(WebhookEvent).where(
                WebhookEvent.provider == provider, WebhookEvent.event_id == event_id
            )
        )
    ).scalar_one_or_none()
    if event is not None and event.processed_at is None:
        event.processed_at = utcnow()
        await db.flush()


async def list_ledger(
    db: AsyncSession,
    *,
    provider: str | None = None,
    kind: LedgerKind | None = None,
    order_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[LedgerEntry], int]:
    """Ledger entries newest first with filters (`since` inclusive, `until` exclusive)."""
    stmt = select(LedgerEntry)
    if provider is not None:
        stmt = stmt.where(LedgerEntry.provider == provider)
    if kind is not None:
        stmt = stmt.where(LedgerEntry.kind == kind.value)
    if order_id is not None:
        stmt = stmt.where(LedgerEntry.order_id == order_id)
    if since is not None:
        stmt = stmt.where(LedgerEntry.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(LedgerEntry.occurred_at < until)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await db.execute(
            stmt.order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return list(rows.all()), total
