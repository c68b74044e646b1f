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

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.errors import NotFound
from domain import timefmt
from domain.actors import WORKFLOW
from domain.catalog.models import PlanVersion
from domain.orders import refunds
from domain.orders.models import Order, OrderItem, Refund
from domain.subscriptions import keys, notices
from domain.subscriptions.contracts import (
    LIVE,
    Allowance,
    CancellationRecord,
    CancellationRecorded,
    LateRenewal,
    NewPeriod,
    PeriodKind,
    PeriodRecorded,
    PeriodStart,
    PeriodTerms,
    Policy,
    RefundMade,
    RenewalPaid,
    Reservation,
    ReservationChange,
    ReservationStatus,
    Schedule,
    StatusChange,
    SubscriptionInput,
    SubscriptionStatus,
    cancellation_refund_id,
)
from domain.subscriptions.models import (
    Subscription,
    SubscriptionEvent,
    SubscriptionPeriod,
    VisitReservation,
)


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
            "ends_at": starts_at + timedelta(days=item.validity_days),
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


async def _locked(db: AsyncSession, subscription_id: uuid.UUID) -> Subscription:
    subscription = (
        await db.execute(
            select(Subscription)
            .where(Subscription.id == subscription_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if subscription is None:
        raise NotFound("subscription not found")
    return subscription


async def record_period(db: AsyncSession, *, change: NewPeriod) -> PeriodRecorded:
    """A renewal's period, once per order: a second call for an order that paid a period already
    (however it came) records nothing. A period that has begun becomes the current one."""
    terms = change.terms
    subscription = await _locked(db, change.subscription_id)
    if terms.order_id is not None:
        existing = (
            await db.execute(
                select(SubscriptionPeriod.number).where(
                    SubscriptionPeriod.subscription_id == subscription.id,
                    SubscriptionPeriod.order_id == terms.order_id,
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            return PeriodRecorded(recorded=existing == terms.number, number=existing)
    await db.execute(
        pg_insert(SubscriptionPeriod)
        .values(
            subscription_id=subscription.id,
            number=terms.number,
            kind=terms.kind.value,
            starts_at=terms.starts_at,
            ends_at=terms.ends_at,
            plan_version_id=terms.plan_version_id,
            order_id=terms.order_id,
        )
        .on_conflict_do_nothing()
    )
    was = subscription.status
    if terms.starts_at <= change.at:
        _enter_period(subscription, terms)
    elif subscription.status == SubscriptionStatus.past_due.value:
        subscription.status = SubscriptionStatus.active.value
    await record_event(
        db,
        subscription_id=subscription.id,
        key=keys.period_key(subscription.id, terms.number, "renewed"),
        at=change.at,
        actor=change.actor,
        kind="renewed",
        period=terms.number,
        from_status=was,
        to_status=subscription.status,
        detail=f"renewed from {timefmt.day(terms.starts_at)} to {timefmt.day(terms.ends_at)}",
        data={"order_id": str(terms.order_id) if terms.order_id else None},
    )
    await db.flush()
    return PeriodRecorded(recorded=True, number=terms.number)


def _enter_period(subscription: Subscription, terms: PeriodTerms) -> None:
    subscription.period = terms.number
    subscription.plan_version_id = terms.plan_version_id
    subscription.starts_at = terms.starts_at
    subscription.ends_at = terms.ends_at
    subscription.grace_ends_at = None
    subscription.visits_allowed = terms.allowance.visit_cap
    subscription.visits_used = 0
    subscription.status = SubscriptionStatus.active.value


async def begin_period(db: AsyncSession, *, start: PeriodStart) -> bool:
    """A period paid ahead has begun: it becomes the current one, with an entry in the timeline.
    True if this call moved it (a second call finds it current already)."""
    subscription = await _locked(db, start.subscription_id)
    if subscription.period >= start.number:
        return False
    period = await db.get(SubscriptionPeriod, (subscription.id, start.number))
    if period is None:
        raise NotFound(f"period {start.number} of subscription {subscription.id} not found")
    was = subscription.status
    _enter_period(subscription, await period_terms(db, subscription=subscription, period=period))
    await record_event(
        db,
        subscription_id=subscription.id,
        key=keys.period_key(subscription.id, start.number, "started"),
        at=start.at,
        actor=WORKFLOW,
        kind="period_started",
        period=start.number,
        from_status=was,
        to_status=subscription.status,
        detail=f"until {timefmt.day(period.ends_at)}",
    )
    await db.flush()
    return True


async def record_change(db: AsyncSession, *, change: StatusChange) -> bool:
    """A status change (grace, expired, past due), an extension or auto-renewal switched, on the
    subscription and in its timeline, once per period and kind; True if new."""
    subscription = await _locked(db, change.subscription_id)
    detail = change.detail
    if change.kind.startswith("renewal_failed:") and detail is not None:
        detail = notices.renewal_failure(detail, change.retry_at)
    written = await record_event(
        db,
        subscription_id=subscription.id,
        key=keys.period_key(subscription.id, change.period, change.kind),
        at=change.at,
        actor=change.actor,
        kind=change.kind.split(":")[0],
        period=change.period,
        from_status=change.from_status.value if change.from_status else subscription.status,
        to_status=change.to_status.value if change.to_status else None,
        detail=detail,
    )
    if change.to_status is not None:
        subscription.status = change.to_status.value
    if change.ends_at is not None and subscription.period == change.period:
        if change.ends_at != subscription.ends_at:
            await _move_end(db, subscription, change.ends_at)
        subscription.grace_ends_at = (
            change.grace_ends_at if change.to_status == SubscriptionStatus.grace else None
        )
    if change.auto_renew is not None:
        subscription.auto_renew = change.auto_renew
        subscription.payment_method_id = change.payment_method_id
    if change.schedule is not None:
        _set_schedule(subscription, change.schedule)
    await db.flush()
    return written


async def _move_end(db: AsyncSession, subscription: Subscription, ends_at: datetime) -> None:
    """An extension: the current period ends later, and the periods paid ahead move with it."""
    shift = ends_at - subscription.ends_at
    subscription.ends_at = ends_at
    periods = (
        await db.execute(
            select(SubscriptionPeriod).where(
                SubscriptionPeriod.subscription_id == subscription.id,
                SubscriptionPeriod.number >= subscription.period,
            )
        )
    ).scalars()
    for period in periods:
        if period.number > subscription.period:
            period.starts_at += shift
        period.ends_at += shift


async def publish_schedule(db: AsyncSession, *, schedule: Schedule) -> None:
    subscription = await _locked(db, schedule.subscription_id)
    _set_schedule(subscription, schedule)
    await db.flush()


def _set_schedule(subscription: Subscription, schedule: Schedule) -> None:
    subscription.next_reminder_at = schedule.next_reminder_at
    subscription.next_charge_at = schedule.next_charge_at


async def record_reservation(db: AsyncSession, *, change: ReservationChange) -> None:
    """A visit reserved, consumed or released, keyed by (subscription, request): written again
    with the same status it changes nothing. `visits_used` counts this period's held visits."""
    r = change.reservation
    subscription = await _locked(db, change.subscription_id)
    row = (
        await db.execute(
            select(VisitReservation).where(
                VisitReservation.subscription_id == subscription.id,
                VisitReservation.request_id == r.request_id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = VisitReservation(
            subscription_id=subscription.id,
            request_id=r.request_id,
            period=r.period,
            category_id=r.category_id,
            status=r.status.value,
        )
        db.add(row)
    elif row.status == r.status.value:
        return
    else:
        row.status = r.status.value
        row.closed_at = change.at
    await db.flush()
    held = (
        await db.execute(
            select(func.count()).where(
                VisitReservation.subscription_id == subscription.id,
                VisitReservation.period == subscription.period,
                VisitReservation.status != ReservationStatus.released.value,
            )
        )
    ).scalar_one()
    subscription.visits_used = min(int(held), subscription.visits_allowed)
    await record_event(
        db,
        subscription_id=subscription.id,
        key=f"sub:{subscription.id}:visit:{r.request_id}:{r.status.value}",
        at=change.at,
        actor=WORKFLOW,
        kind=f"visit_{r.status.value}",
        period=r.period,
        data={"request_id": str(r.request_id), "category_id": str(r.category_id)},
    )
    await db.flush()


async def refund_late_renewal(db: AsyncSession, *, late: LateRenewal) -> RefundMade | None:
    """A renewal paid after its subscription was cancelled buys nothing: refunded in full (once:
    its id is the cancellation refund's of that order), in the timeline. The caller starts its
    RefundWorkflow. None when nothing of the order is left to refund."""
    refund_id = cancellation_refund_id(late.subscription_id, late.order_id)
    existing = await db.get(Refund, refund_id)
    amount = (
        existing.amount_minor
        if existing
        else await refunds.refundable_amount(db, order_id=late.order_id)
    )
    if amount <= 0:
        return None
    refund = await refunds.request_refund(
        db,
        order_id=late.order_id,
        amount_minor=amount,
        reason="renewal paid after the subscription was cancelled",
        actor_id=late.actor_id,
        refund_id=refund_id,
    )
    await record_event(
        db,
        subscription_id=late.subscription_id,
        key=f"sub:{late.subscription_id}:late_renewal:{late.order_id}",
        at=late.at,
        actor=WORKFLOW,
        kind="late_renewal_refunded",
        period=(await db.get(Subscription, late.subscription_id)).period,  # type: ignore[union-attr]
        detail=f"order {late.order_id} paid after cancelling: refunded in full",
    )
    await db.flush()
    return RefundMade(refund_id=refund.id, order_id=late.order_id, amount_minor=refund.amount_minor)


async def record_cancellation(
    db: AsyncSession, *, record: CancellationRecord
) -> CancellationRecorded:
    """The subscription cancelled, in its timeline, and the refunds of the quote requested (each
    once, its id made from the subscription and order, at most what the order has left
    refundable). The caller starts a RefundWorkflow for each."""
    subscription = await _locked(db, record.subscription_id)
    was = subscription.status
    subscription.status = SubscriptionStatus.cancelled.value
    subscription.cancelled_at = subscription.cancelled_at or record.at
    subscription.cancel_reason = record.reason
    subscription.next_reminder_at = subscription.next_charge_at = None
    made: list[RefundMade] = []
    for line in record.refunds:
        refund_id = cancellation_refund_id(subscription.id, line.order_id)
        amount = min(line.amount_minor, await refunds.refundable_amount(db, order_id=line.order_id))
        existing = await db.get(Refund, refund_id)
        if existing is None and amount <= 0:
            continue
        refund = await refunds.request_refund(
            db,
            order_id=line.order_id,
            amount_minor=existing.amount_minor if existing else amount,
            reason=f"subscription cancelled: {record.reason}",
            actor_id=record.actor_id,
            refund_id=refund_id,
        )
        made.append(
            RefundMade(
                refund_id=refund.id, order_id=line.order_id, amount_minor=refund.amount_minor
            )
        )
    await record_event(
        db,
        subscription_id=subscription.id,
        key=f"sub:{subscription.id}:cancelled",
        at=record.at,
        actor=record.actor,
        kind="cancelled",
        period=record.period,
        from_status=was if was != SubscriptionStatus.cancelled.value else record.from_status.value,
        to_status=SubscriptionStatus.cancelled.value,
        detail=f"{record.reason}; {record.why}",
        data={"refunds": [m.model_dump(mode="json") for m in made]},
    )
    await db.flush()
    return CancellationRecorded(refunds=made)
