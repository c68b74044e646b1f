"""Staff: every customer's subscriptions, filtered (status, plan, customer, expiring soon), one
with its timeline; admins extend a period or cancel (with the policy's refund, or none), each
with a reason, in the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api import subscriptions as lifecycle
from api.deps import AdminUser, SessionDep, StaffUser, TemporalDep
from api.pagination import StaffPage
from api.problems import problems
from api.routes.subscriptions import cancel_out
from api.workflow_links import LinksDep
from domain import actors
from domain.audit import service as audit
from domain.subscriptions import queries
from domain.subscriptions.contracts import (
    CancelRequest,
    ExtendRequest,
    RefundChoice,
    SubscriptionStatus,
)
from domain.subscriptions.schemas import (
    AdminCancelIn,
    AdminSubscriptionDetail,
    AdminSubscriptionOut,
    CancelOut,
    ExtendIn,
)
from domain.types import Page

router = APIRouter(prefix="/admin/subscriptions", tags=["admin: subscriptions"])


@router.get("", response_model=Page[AdminSubscriptionOut])
async def list_subscriptions(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    links: LinksDep,
    subscription_status: Annotated[SubscriptionStatus | None, Query(alias="status")] = None,
    plan_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    expiring_within_days: Annotated[
        int | None, Query(ge=0, le=3650, description="Active, and ending within this many days")
    ] = None,
) -> Page[AdminSubscriptionOut]:
    """Subscriptions, the soonest to end first, filtered."""
    rows, total = await queries.list_subscriptions(
        db,
        user_id=user_id,
        status=subscription_status,
        plan_id=plan_id,
        expiring_within_days=expiring_within_days,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[AdminSubscriptionOut](
        items=links.all(await queries.admin_outs(db, rows)),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{subscription_id}", response_model=AdminSubscriptionDetail, responses=problems(404))
async def read_subscription(
    subscription_id: uuid.UUID, _staff: StaffUser, db: SessionDep, links: LinksDep
) -> AdminSubscriptionDetail:
    """One subscription with its periods and timeline, and its workflow's id and link."""
    found = await queries.detail(db, subscription_id=subscription_id, user_id=None)
    assert isinstance(found, AdminSubscriptionDetail)
    return links.add(found)


@router.post(
    "/{subscription_id}/extend",
    response_model=AdminSubscriptionDetail,
    responses=problems(404, 409),
)
async def extend(
    subscription_id: uuid.UUID,
    body: ExtendIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: LinksDep,
) -> AdminSubscriptionDetail:
    """Make the current period longer (a goodwill gesture, a missed visit), with a reason."""
    subscription = await queries.get_subscription(db, subscription_id=subscription_id, user_id=None)
    before = {"ends_at": subscription.ends_at.isoformat(), "status": subscription.status}
    state = await lifecycle.extend(
        temporal,
        subscription,
        ExtendRequest(days=body.days, reason=body.reason, actor=actors.staff(admin.id)),
    )
    audit.record(
        db,
        actor_id=admin.id,
        action="subscription.extend",
        entity_type="subscription",
        entity_id=subscription.id,
        before=before,
        after={
            "ends_at": state.ends_at.isoformat(),
            "status": state.status.value,
            "reason": body.reason,
        },
    )
    await db.commit()
    found = await queries.detail(db, subscription_id=subscription.id, user_id=None)
    assert isinstance(found, AdminSubscriptionDetail)
    return links.add(found)


@router.post("/{subscription_id}/cancel", response_model=CancelOut, responses=problems(404, 409))
async def cancel(
    subscription_id: uuid.UUID,
    body: AdminCancelIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
) -> CancelOut:
    """Cancel a customer's subscription with the refund the policy gives now, or none."""
    subscription = await queries.get_subscription(db, subscription_id=subscription_id, user_id=None)
    before = {"status": subscription.status}
    outcome = await lifecycle.cancel(
        temporal,
        subscription,
        CancelRequest(
            actor=actors.staff(admin.id),
            actor_id=admin.id,
            reason=body.reason,
            refund=RefundChoice(body.refund),
        ),
    )
    audit.record(
        db,
        actor_id=admin.id,
        action="subscription.cancel",
        entity_type="subscription",
        entity_id=subscription.id,
        before=before,
        after={
            "status": outcome.status.value,
            "refund_minor": outcome.refund_minor,
            "reason": body.reason,
        },
    )
    await db.commit()
    return cancel_out(outcome)
