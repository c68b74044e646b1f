"""Reading subscriptions for the API, from the read model the workflow's activities keep: lists
with filters, one subscription with its visits per category, its periods and its timeline.

A customer's reads are scoped to them (`user_id`): another customer's subscription is NotFound,
exactly like a missing one; staff pass None.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import UUIDPk, small_page, utcnow
from core.errors import NotFound
from domain import actors
from domain.accounts.models import Address, PaymentMethod
from domain.catalog.models import PlanVersion
from domain.orders.cart import address_line, address_snapshot
from domain.orders.models import OrderItem
from domain.subscriptions.contracts import (
    ReservationStatus,
    SubscriptionStatus,
    subscription_workflow_id,
)
from domain.subscriptions.models import (
    Subscription,
    SubscriptionEvent,
    SubscriptionPeriod,
    VisitReservation,
)
from domain.subscriptions.schemas import (
    AdminSubscriptionDetail,
    AdminSubscriptionOut,
    CategoryVisits,
    EventOut,
    MethodRef,
    PeriodOut,
    PlanRef,
    SubscriptionDetail,
    SubscriptionOut,
    Visits,
)

Row = TypeVar("Row", bound=UUIDPk)


async def get_subscription(
    db: AsyncSession, *, subscription_id: uuid.UUID, user_id: uuid.UUID | None
) -> Subscription:
    stmt = select(Subscription).where(Subscription.id == subscription_id)
    if user_id is not None:
        stmt = stmt.where(Subscription.user_id == user_id)
    found = (await db.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound("subscription not found")
    return found


async def list_subscriptions(
    db: AsyncSession,
    *,
    user_id: uuid.UUID | None,
    limit: int,
    offset: int,
    status: SubscriptionStatus | None = None,
    plan_id: uuid.UUID | None = None,
    expiring_within_days: int | None = None,
) -> tuple[list[Subscription], int]:
    """Subscriptions, the soonest to end first (then the newest), and the total."""
    stmt = select(Subscription)
    if user_id is not None:
        stmt = stmt.where(Subscription.user_id == user_id)
    if status is not None:
        stmt = stmt.where(Subscription.status == status.value)
    if plan_id is not None:
        stmt = stmt.where(Subscription.plan_id == plan_id)
    if expiring_within_days is not None:
        now = utcnow()
        stmt = stmt.where(
            Subscription.status.in_(
                [SubscriptionStatus.active.value, SubscriptionStatus.past_due.value]
            ),
            Subscription.ends_at >= now,
            Subscription.ends_at <= now + timedelta(days=expiring_within_days),
        )
    ordered = stmt.order_by(Subscription.ends_at, Subscription.created_at.desc(), Subscription.id)
    if user_id is not None:  # one customer's: few, the page and its total in one statement
        return await small_page(db, ordered, limit=limit, offset=offset)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await db.execute(ordered.limit(limit).offset(offset))).scalars()
    return list(rows.all()), int(total)


async def subscription_outs(
    db: AsyncSession, rows: Sequence[Subscription]
) -> list[SubscriptionOut]:
    """The API's view of each subscription (a few queries for the whole page, not per row)."""
    if not rows:
        return []
    ids = [s.id for s in rows]
    versions = {
        v.id: v
        for v in (
            await db.execute(
                select(PlanVersion)
                .where(PlanVersion.id.in_({s.plan_version_id for s in rows}))
                .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
            )
        ).scalars()
    }
    held = await _held_visits(db, rows)
    renewed_until = dict(
        (
            await db.execute(
                select(SubscriptionPeriod.subscription_id, func.max(SubscriptionPeriod.ends_at))
                .join(Subscription, Subscription.id == SubscriptionPeriod.subscription_id)
                .where(
                    SubscriptionPeriod.subscription_id.in_(ids),
                    SubscriptionPeriod.number > Subscription.period,
                )
                .group_by(SubscriptionPeriod.subscription_id)
            )
        ).all()
    )
    addresses = await _addresses(db, rows)
    methods = await _by_id(db, PaymentMethod, {s.payment_method_id for s in rows})
    out = []
    for s in rows:
        version = versions[s.plan_version_id]
        visits = {i.category_id: i.visits for i in version.inclusions}
        by_category = []
        for category in version.categories:
            allowed = visits.get(category.id, version.visit_cap)
            used = held.get((s.id, category.id), 0)
            by_category.append(
                CategoryVisits(
                    category_id=category.id,
                    slug=category.slug,
                    name=category.name,
                    allowed=allowed,
                    used=used,
                    left=max(min(allowed - used, s.visits_allowed - s.visits_used), 0),
                )
            )
        method = methods.get(s.payment_method_id) if s.payment_method_id else None
        out.append(
            SubscriptionOut(
                id=s.id,
                status=SubscriptionStatus(s.status),
                plan=PlanRef(id=s.plan_id, version_id=version.id, name=version.name),
                address=addresses.get(s.id),
                period=s.period,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                grace_ends_at=s.grace_ends_at,
                renewed_until=renewed_until.get(s.id),
                visits=Visits(
                    allowed=s.visits_allowed,
                    used=s.visits_used,
                    left=max(s.visits_allowed - s.visits_used, 0),
                    by_category=by_category,
                ),
                next_reminder_at=s.next_reminder_at,
                next_charge_at=s.next_charge_at,
                auto_renew=s.auto_renew,
                payment_method=MethodRef.model_validate(method) if method else None,
                cancelled_at=s.cancelled_at,
                created_at=s.created_at,
            )
        )
    return out


async def _held_visits(
    db: AsyncSession, rows: Sequence[Subscription]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """(subscription, category) -> visits reserved or used in the subscription's current period."""
    result = await db.execute(
        select(VisitReservation.subscription_id, VisitReservation.category_id, func.count())
        .join(Subscription, Subscription.id == VisitReservation.subscription_id)
        .where(
            VisitReservation.subscription_id.in_([s.id for s in rows]),
            VisitReservation.period == Subscription.period,
            VisitReservation.status != ReservationStatus.released.value,
        )
        .group_by(VisitReservation.subscription_id, VisitReservation.category_id)
    )
    return {(sid, cid): int(n) for sid, cid, n in result.all()}


async def _by_id(
    db: AsyncSession, model: type[Row], ids: set[uuid.UUID | None]
) -> dict[uuid.UUID, Row]:
    """The rows of `model` with these ids (None ignored), by id; no statement when there are
    none."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = await db.execute(select(model).where(model.id.in_(wanted)))
    return {row.id: row for row in found.scalars()}


async def _addresses(db: AsyncSession, rows: Sequence[Subscription]) -> dict[uuid.UUID, str]:
    """The address of each, as it is now, or as it was bought if the customer deleted it."""
    current = await _by_id(db, Address, {s.address_id for s in rows})
    # The address as bought: only for those whose address is gone (or was never kept).
    gone = [s.order_item_id for s in rows if not (s.address_id and s.address_id in current)]
    bought: dict[uuid.UUID, dict[str, object]] = (
        dict(
            (
                await db.execute(
                    select(OrderItem.id, OrderItem.address).where(OrderItem.id.in_(gone))
                )
            ).all()
        )
        if gone
        else {}
    )
    out: dict[uuid.UUID, str] = {}
    for s in rows:
        address = current.get(s.address_id) if s.address_id else None
        line = address_line(address_snapshot(address) if address else bought.get(s.order_item_id))
        if line:
            out[s.id] = line
    return out


async def detail(
    db: AsyncSession, *, subscription_id: uuid.UUID, user_id: uuid.UUID | None
) -> SubscriptionDetail | AdminSubscriptionDetail:
    """One subscription with its periods and timeline (staff get the admin view)."""
    subscription = await get_subscription(db, subscription_id=subscription_id, user_id=user_id)
    (view,) = await subscription_outs(db, [subscription])
    periods = (
        await db.execute(
            select(SubscriptionPeriod)
            .where(SubscriptionPeriod.subscription_id == subscription.id)
            .order_by(SubscriptionPeriod.number)
        )
    ).scalars()
    events = (
        (
            await db.execute(
                select(SubscriptionEvent)
                .where(SubscriptionEvent.subscription_id == subscription.id)
                .order_by(SubscriptionEvent.at, SubscriptionEvent.id)
            )
        )
        .scalars()
        .all()
    )
    named = await actors.name_all(
        db,
        (e.actor for e in events),
        audience="customer" if user_id is not None else "staff",
        customer_id=subscription.user_id,
    )
    fields = {
        **view.model_dump(),
        "periods": [PeriodOut.model_validate(p) for p in periods],
        "history": [
            EventOut(
                at=e.at,
                actor=named[e.actor],
                kind=e.kind,
                period=e.period,
                from_status=e.from_status,
                to_status=e.to_status,
                detail=e.detail,
            )
            for e in events
        ],
    }
    if user_id is None:
        return AdminSubscriptionDetail(**fields, **_staff_fields(subscription))
    return SubscriptionDetail(**fields)


def _staff_fields(subscription: Subscription) -> dict[str, object]:
    return {
        "user_id": subscription.user_id,
        "order_id": subscription.order_id,
        "workflow_id": subscription_workflow_id(subscription.id),
    }


async def admin_outs(db: AsyncSession, rows: Sequence[Subscription]) -> list[AdminSubscriptionOut]:
    views = await subscription_outs(db, rows)
    return [
        AdminSubscriptionOut(**view.model_dump(), **_staff_fields(row))
        for view, row in zip(views, rows, strict=True)
    ]


async def renewed_ahead(db: AsyncSession, *, subscription: Subscription) -> datetime | None:
    """The end of a renewal already paid for a period after the current one, if any."""
    return (
        await db.execute(
            select(func.max(SubscriptionPeriod.ends_at)).where(
                SubscriptionPeriod.subscription_id == subscription.id,
                SubscriptionPeriod.number > subscription.period,
            )
        )
    ).scalar_one_or_none()
