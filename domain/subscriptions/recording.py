"""What SubscriptionWorkflow writes to its read model: periods renewed and begun, status changes,
the schedule, visit reservations, the cancellation and its refunds.

Each is called by one activity of `activities/subscriptions.py`, with the workflow's decision, and
is idempotent (the subscription row locked first; events keyed by `keys.period_key`; periods by
(subscription, number), reservations by (subscription, request), refunds by their derived id).
Keyword-only functions, the session first; they never commit (the activity does).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain import timefmt
from domain.actors import WORKFLOW
from domain.orders import refunds
from domain.orders.models import Refund
from domain.subscriptions import keys, notices
from domain.subscriptions.contracts import (
    CancellationRecord,
    CancellationRecorded,
    LateRenewal,
    NewPeriod,
    PeriodRecorded,
    PeriodStart,
    PeriodTerms,
    RefundMade,
    ReservationChange,
    ReservationStatus,
    Schedule,
    StatusChange,
    SubscriptionStatus,
    cancellation_refund_id,
)
from domain.subscriptions.models import (
    Subscription,
    SubscriptionPeriod,
    VisitReservation,
)
from domain.subscriptions.service import period_terms, record_event


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
