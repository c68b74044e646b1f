"""The signed-in customer's subscriptions: list and detail (visits left, next reminder and charge),
renew, automatic renewal on and off, and cancellation with the refund quoted first.

Another customer's subscription is a 404, exactly like a missing one. Changes go to the
subscription's workflow (api.subscriptions); reads come from the database it keeps.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from api import checkouts
from api import subscriptions as lifecycle
from api.deps import (
    CurrentUser,
    IdempotencyKey,
    SessionDep,
    SettingsDep,
    TemporalDep,
    reads_only,
)
from api.pagination import CustomerPage
from api.problems import problems
from api.routes.checkout import ORDER_COLUMNS, CheckoutOut
from core.errors import Conflict
from domain import actors, timefmt, workflow_facts
from domain.orders import renewals, settlement
from domain.orders.schemas import OrderOut
from domain.subscriptions import auto_renew, queries
from domain.subscriptions.contracts import (
    AutoRenewChange,
    CancelOutcome,
    CancelRequest,
    QuoteRequest,
    RefundChoice,
    SubscriptionStatus,
)
from domain.subscriptions.schemas import (
    AutoRenewIn,
    CancelIn,
    CancelOut,
    QuoteOut,
    RefundRef,
    SubscriptionDetail,
    SubscriptionOut,
)
from domain.types import Page

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


@router.get("", response_model=Page[SubscriptionOut])
@reads_only
async def list_mine(user: CurrentUser, db: SessionDep, page: CustomerPage) -> Page[SubscriptionOut]:
    """Your plans, the soonest to end first."""
    rows, total = await queries.list_subscriptions(
        db, user_id=user.id, limit=page.limit, offset=page.offset
    )
    return Page[SubscriptionOut](
        items=await queries.subscription_outs(db, rows),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{subscription_id}", response_model=SubscriptionDetail, responses=problems(404))
async def read_mine(
    subscription_id: uuid.UUID, user: CurrentUser, db: SessionDep
) -> SubscriptionDetail:
    """One of your plans, with its periods and everything that happened to it."""
    return await queries.detail(db, subscription_id=subscription_id, user_id=user.id)


@router.post(
    "/{subscription_id}/renew",
    response_model=CheckoutOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same Idempotency-Key again: the same renewal order"},
        **problems(404, 409),
    },
)
async def renew(
    subscription_id: uuid.UUID,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> CheckoutOut:
    """Pay for the next period now, at the plan's current price: it starts when this one ends
    (or now, if the plan has expired). Pay the returned session like a checkout's."""
    subscription = await queries.get_subscription(
        db, subscription_id=subscription_id, user_id=user.id
    )
    if subscription.status == SubscriptionStatus.cancelled:
        raise Conflict("a cancelled plan cannot be renewed; buy the plan again")
    ahead = await queries.renewed_ahead(db, subscription=subscription)
    order, created = await renewals.create_renewal_order(
        db,
        subscription=subscription,
        idempotency_key=idempotency_key,
        provider=settings.payments_provider,
    )
    if created and ahead is not None:
        await db.rollback()
        raise Conflict(f"this plan is already renewed until {timefmt.day(ahead)}")
    await db.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    state = await checkouts.begin(
        temporal,
        settings,
        order_id=order.id,
        user_id=user.id,
        facts=workflow_facts.order_facts(order, workflow_facts.customer(user)),
    )
    await db.refresh(order, attribute_names=ORDER_COLUMNS)
    if state is None:
        state = await settlement.ended_checkout(db, order=order)
    return CheckoutOut(order=OrderOut.model_validate(order), payment=state.payment, checkout=state)


@router.put(
    "/{subscription_id}/auto-renew", response_model=SubscriptionOut, responses=problems(404, 409)
)
async def set_auto_renew(
    subscription_id: uuid.UUID,
    body: AutoRenewIn,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> SubscriptionOut:
    """Turn automatic renewal on (charged on a saved method before the period ends; a notice
    comes first) or off."""
    subscription = await queries.get_subscription(
        db, subscription_id=subscription_id, user_id=user.id
    )
    method_id = None
    if body.enabled:
        method_id = await auto_renew.renewal_method(
            db, user=user, provider=settings.payments_provider, chosen=body.payment_method_id
        )
    await lifecycle.set_auto_renew(
        temporal,
        subscription,
        AutoRenewChange(enabled=body.enabled, payment_method_id=method_id, actor=actors.CUSTOMER),
    )
    await db.refresh(subscription)
    (view,) = await queries.subscription_outs(db, [subscription])
    return view


@router.post(
    "/{subscription_id}/cancellation-quote", response_model=QuoteOut, responses=problems(404, 409)
)
async def quote_cancellation(
    subscription_id: uuid.UUID, user: CurrentUser, db: SessionDep, temporal: TemporalDep
) -> QuoteOut:
    """What cancelling now would refund, and why. Cancel with its `quote_id` while it is valid:
    the refund made is the one quoted."""
    subscription = await queries.get_subscription(
        db, subscription_id=subscription_id, user_id=user.id
    )
    quote = await lifecycle.quote(temporal, subscription, QuoteRequest(actor=actors.CUSTOMER))
    return QuoteOut.model_validate(quote.model_dump())


@router.post("/{subscription_id}/cancel", response_model=CancelOut, responses=problems(404, 409))
async def cancel(
    subscription_id: uuid.UUID,
    body: CancelIn,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
) -> CancelOut:
    """Cancel, with the refund of the quote given: reminders and renewals stop at once."""
    subscription = await queries.get_subscription(
        db, subscription_id=subscription_id, user_id=user.id
    )
    outcome = await lifecycle.cancel(
        temporal,
        subscription,
        CancelRequest(
            actor=actors.CUSTOMER,
            actor_id=user.id,
            reason=body.reason or "cancelled by the customer",
            refund=RefundChoice.quoted,
            quote_id=body.quote_id,
        ),
    )
    return cancel_out(outcome)


def cancel_out(outcome: CancelOutcome) -> CancelOut:
    return CancelOut(
        status=outcome.status,
        refund_minor=outcome.refund_minor,
        currency=outcome.currency,
        why=outcome.why,
        refunds=[RefundRef.model_validate(r.model_dump()) for r in outcome.refunds],
    )
