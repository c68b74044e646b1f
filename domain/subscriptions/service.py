"""Subscriptions: created when their order is paid, then kept by `SubscriptionWorkflow`, whose
activities write every change with its time and actor (`domain/subscriptions/recording.py`).
Here: creating them, their timeline's entries, and what their workflow starts from (its input,
a renewal paid).

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
from sqlalchemy.orm import selectinload

from core.errors import NotFound
from domain.actors import WORKFLOW
from domain.catalog.models import PlanVersion
from domain.orders.models import Order, OrderItem
from domain.subscriptions import keys
from domain.subscriptions.contracts import (
    LIVE,
    Allowance,
    PeriodKind,
    PeriodTerms,
    Policy,
    RenewalPaid,
    Reservation,
    ReservationStatus,
    SubscriptionInput,
    SubscriptionStatus,
)
from domain.subscriptions.models import (
    Subscription,
    SubscriptionEvent,
    SubscriptionPeriod,
    VisitReservation,
)


def day_length() -> int:
    """Seconds in a subscription day: 86400 but in development (SUBSCRIPTION_DAY_SECONDS, for
    `make chaos`), read when first asked like the other process-wide settings of the domain."""
    from core.settings import get_settings

    return get_settings().subscription_day_seconds


async def create_for_order(
    db: AsyncSession, *, order: Order, starts_at: datetime
) -> list[uuid.UUID]:
    """One subscription per item of a paid order (its items loaded) that buys a plan (an item
    that renews a subscription makes none), each with its first period, starting now at the
    terms bought; their ids in the order of the items. Part of the order's settling transaction,
    which runs once per order (it locks the order and checks it is not yet completed), so none of
    them existed before."""
    new_items = [item for item in order.items if item.renews_subscription_id is None]
    if not new_items:
        return []
    ids = [uuid.uuid4() for _ in new_items]
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
            "ends_at": starts_at + timedelta(seconds=item.validity_days * day_length()),
            "visits_allowed": item.visit_cap,
            "visits_used": 0,
        }
        for item, subscription_id in zip(new_items, ids, strict=True)
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
            key=keys.period_key(subscription_id, 1, "activated"),
            at=starts_at,
            actor=WORKFLOW,
            kind="activated",
            period=1,
            to_status=SubscriptionStatus.active.value,
            detail=f"paid with order {order.id}",
        )
    return ids


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


# --- what a workflow starts from -----------------------------------------------------------------


async def is_live(db: AsyncSession, subscription_id: uuid.UUID) -> bool:
    """Whether the read model holds this subscription as still usable (active, past due, in
    grace): a ledger call that finds no workflow for it is early (the order's last step starts the
    workflow just after settling), not late."""
    status = await db.scalar(select(Subscription.status).where(Subscription.id == subscription_id))
    return status is not None and SubscriptionStatus(status) in LIVE


async def allowance_of(db: AsyncSession, *, version_id: uuid.UUID) -> Allowance:
    """The visits a plan version grants per period: per covered category (its inclusion's visits;
    a category covered without one is limited by the total only), and the total cap."""
    version = (
        await db.execute(
            select(PlanVersion)
            .where(PlanVersion.id == version_id)
            .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
        )
    ).scalar_one()
    visits = {inclusion.category_id: inclusion.visits for inclusion in version.inclusions}
    return Allowance(
        visit_cap=version.visit_cap,
        per_category={c.id: visits.get(c.id, version.visit_cap) for c in version.categories},
    )


async def _paid_item(
    db: AsyncSession, *, subscription: Subscription, period: SubscriptionPeriod
) -> OrderItem | None:
    if period.order_id is None:
        return None
    if period.number == 1:
        return await db.get(OrderItem, subscription.order_item_id)
    return (
        await db.execute(
            select(OrderItem).where(
                OrderItem.order_id == period.order_id,
                OrderItem.renews_subscription_id == subscription.id,
            )
        )
    ).scalar_one_or_none()


async def period_terms(
    db: AsyncSession, *, subscription: Subscription, period: SubscriptionPeriod
) -> PeriodTerms:
    item = await _paid_item(db, subscription=subscription, period=period)
    version = await db.get(PlanVersion, period.plan_version_id)
    assert version is not None  # RESTRICT: a period's terms are never deleted
    return PeriodTerms(
        number=period.number,
        kind=PeriodKind(period.kind),
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        plan_version_id=period.plan_version_id,
        order_id=period.order_id,
        paid_minor=item.total_minor if item is not None else 0,
        currency=version.currency,
        allowance=await allowance_of(db, version_id=period.plan_version_id),
    )


async def workflow_input(
    db: AsyncSession, *, subscription_id: uuid.UUID, policy: Policy
) -> SubscriptionInput:
    """Where a subscription's workflow starts from: the read model as it is (its first start,
    or a new run for a subscription whose workflow had ended, e.g. renewed after expiry)."""
    subscription = await db.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound("subscription not found")
    periods = (
        (
            await db.execute(
                select(SubscriptionPeriod)
                .where(
                    SubscriptionPeriod.subscription_id == subscription_id,
                    SubscriptionPeriod.number >= subscription.period,
                )
                .order_by(SubscriptionPeriod.number)
            )
        )
        .scalars()
        .all()
    )
    current, *ahead = periods
    reservations = (
        (
            await db.execute(
                select(VisitReservation).where(
                    VisitReservation.subscription_id == subscription_id,
                    VisitReservation.status != ReservationStatus.released.value,
                )
            )
        )
        .scalars()
        .all()
    )
    return SubscriptionInput(
        subscription_id=subscription.id,
        user_id=subscription.user_id,
        plan_id=subscription.plan_id,
        status=SubscriptionStatus(subscription.status),
        period=await period_terms(db, subscription=subscription, period=current),
        upcoming=[await period_terms(db, subscription=subscription, period=p) for p in ahead],
        auto_renew=subscription.auto_renew,
        payment_method_id=subscription.payment_method_id,
        reservations=[
            Reservation(
                request_id=r.request_id,
                category_id=r.category_id,
                period=r.period,
                status=ReservationStatus(r.status),
            )
            for r in reservations
            if r.period == subscription.period or r.status == ReservationStatus.reserved.value
        ],
        policy=policy,
    )


async def renewal_paid(db: AsyncSession, *, item: OrderItem) -> RenewalPaid:
    """What a paid renewal item buys, for its subscription's workflow."""
    version = await db.get(PlanVersion, item.plan_version_id)
    assert version is not None
    return RenewalPaid(
        order_id=item.order_id,
        plan_version_id=item.plan_version_id,
        validity_days=item.validity_days,
        paid_minor=item.total_minor,
        currency=version.currency,
        allowance=await allowance_of(db, version_id=item.plan_version_id),
    )


# --- what a workflow records ---------------------------------------------------------------------
