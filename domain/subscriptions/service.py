"""Subscriptions: created when their order is paid, then kept by `SubscriptionWorkflow`, whose
activities write every change here with its time and actor.

Keyword-only functions, the session first; they raise `core.errors` exceptions and never commit
(the caller does). Every write an activity makes is idempotent: periods are keyed by
(subscription, number), events by their `event_key`, reservations by (subscription, request).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orders.models import Order, OrderItem
from domain.subscriptions.models import (
    PeriodKind,
    Subscription,
    SubscriptionEvent,
    SubscriptionPeriod,
    SubscriptionStatus,
)

WORKFLOW = "workflow"


async def create_for_order(
    db: AsyncSession, *, order: Order, starts_at: datetime
) -> list[uuid.UUID]:
    """One subscription per item of a paid order (its items loaded), each with its first period,
    starting now at the terms bought; their ids in the order of the items. Part of the order's
    settling transaction, which runs once per order (it locks the order and checks it is not yet
    completed), so none of them existed before."""
    ids = [uuid.uuid4() for _ in order.items]
    rows: list[dict[str, Any]] = [
        {
            "id": subscription_id,
            "user_id": order.user_id,
            "order_id": order.id,
            "order_item_id": item.id,
            "plan_id": item.plan_id,
            "plan_version_id": item.plan_version_id,
            "address_id": item.address_id,
            "status": SubscriptionStatus.active.value,
            "period": 1,
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(days=item.validity_days),
            "visits_allowed": item.visit_cap,
            "visits_used": 0,
        }
        for item, subscription_id in zip(order.items, ids, strict=True)
    ]
    await db.execute(
        pg_insert(Subscription)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["order_item_id"])
    )
    await db.execute(
        pg_insert(SubscriptionPeriod)
        .values(
            [
                {
                    "subscription_id": row["id"],
                    "number": 1,
                    "kind": PeriodKind.initial.value,
                    "starts_at": row["starts_at"],
                    "ends_at": row["ends_at"],
                    "plan_version_id": row["plan_version_id"],
                    "order_id": order.id,
                }
                for row in rows
            ]
        )
        .on_conflict_do_nothing()
    )
    for subscription_id in ids:
        await record_event(
            db,
            subscription_id=subscription_id,
            key=f"sub:{subscription_id}:period:1:activated",
            at=starts_at,
            actor=WORKFLOW,
            kind="activated",
            period=1,
            to_status=SubscriptionStatus.active.value,
            detail=f"paid with order {order.id}",
        )
    return ids


async def ids_for_order(db: AsyncSession, *, order_id: uuid.UUID) -> list[uuid.UUID]:
    """The subscriptions an order created, in the order of its items."""
    stmt = (
        select(Subscription.id)
        .join(OrderItem, OrderItem.id == Subscription.order_item_id)
        .where(Subscription.order_id == order_id)
        .order_by(OrderItem.position)
    )
    return list((await db.execute(stmt)).scalars().all())


async def record_event(
    db: AsyncSession,
    *,
    subscription_id: uuid.UUID,
    key: str,
    at: datetime,
    actor: str,
    kind: str,
    period: int,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Add an entry to the subscription's timeline, once per key; True if written now."""
    written = (
        await db.execute(
            pg_insert(SubscriptionEvent)
            .values(
                subscription_id=subscription_id,
                event_key=key,
                at=at,
                actor=actor,
                kind=kind,
                period=period,
                from_status=from_status,
                to_status=to_status,
                detail=detail,
                data=data or {},
            )
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(SubscriptionEvent.id)
        )
    ).scalar_one_or_none()
    return written is not None
