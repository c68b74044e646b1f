"""Checkout: turn the cart into an order and hand back its payment session; confirm payment."""

from __future__ import annotations

import hashlib
import json
import uuid

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import inspect

from api import checkouts
from api.deps import CurrentUser, IdempotencyKey, PaymentsDep, SessionDep, SettingsDep, TemporalDep
from api.problems import problems
from core.errors import Conflict
from domain import workflow_facts
from domain.contracts import CheckoutState
from domain.orders import service as orders
from domain.orders import settlement
from domain.orders.models import Order, OrderStatus
from domain.orders.schemas import CheckoutIn, OrderOut, PaymentConfirmationIn
from domain.payments import InvalidSignature, PaymentSession

router = APIRouter(tags=["checkout"])

ORDER_COLUMNS = [column.key for column in inspect(Order).column_attrs]


class CheckoutOut(BaseModel):
    order: OrderOut
    payment: PaymentSession | None
    checkout: CheckoutState | None


def _request_hash(body: CheckoutIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.post(
    "/checkout",
    response_model=CheckoutOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same Idempotency-Key again: the same order"},
        **problems(409),
    },
)
async def checkout(
    body: CheckoutIn,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> CheckoutOut:
    """Create the order from the cart and start paying for it."""
    order, created = await orders.create_order_from_cart(
        db,
        user_id=user.id,
        idempotency_key=idempotency_key,
        request_hash=_request_hash(body),
        provider=settings.payments_provider,
        item_ids=body.item_ids,
    )
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
    # What the workflow has recorded since (the session; the outcome of an ended checkout). The
    # items were loaded with the order and do not change.
    await db.refresh(order, attribute_names=ORDER_COLUMNS)
    if state is None:  # this order's checkout has ended: the database has its outcome
        state = await settlement.ended_checkout(db, order=order)
    return CheckoutOut(order=OrderOut.model_validate(order), payment=state.payment, checkout=state)


@router.post(
    "/orders/{order_id}/confirm", response_model=CheckoutState, responses=problems(404, 409)
)
async def confirm_payment(
    order_id: uuid.UUID,
    body: PaymentConfirmationIn,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
    payments: PaymentsDep,
) -> CheckoutState:
    """The app finished paying: send the provider's handler response (Razorpay: order id,
    payment id, signature). The order is checked with the provider at once."""
    order = await orders.get_order(db, order_id=order_id, user_id=user.id, items=False)
    if order.provider_ref is None:
        raise Conflict("this order has no payment session yet")
    try:
        payments.verify_client_confirmation(order.provider_ref, body.model_dump(exclude_none=True))
    except InvalidSignature as exc:
        raise Conflict(f"the payment confirmation does not verify: {exc}") from exc
    state = await checkouts.confirm(temporal, order_id=order.id, source="client")
    if state is not None:
        return state
    # The checkout had already ended (often: the provider's webhook got there first).
    await db.refresh(order, attribute_names=ORDER_COLUMNS)
    if order.status in (OrderStatus.failed, OrderStatus.expired):
        raise Conflict(f"this order is {order.status}; check out again")
    return await settlement.ended_checkout(db, order=order)


@router.get(
    "/orders/{order_id}/checkout", response_model=CheckoutState, responses=problems(404, 409)
)
async def checkout_progress(
    order_id: uuid.UUID, user: CurrentUser, db: SessionDep, temporal: TemporalDep
) -> CheckoutState:
    """The state of the order's checkout: live from its workflow while the order awaits payment,
    from the database once it has ended (a closed workflow is not asked: that replays it)."""
    order = await orders.get_order(db, order_id=order_id, user_id=user.id, items=False)
    if order.status != OrderStatus.pending_payment:
        return await settlement.ended_checkout(db, order=order)
    state = await checkouts.checkout_state(temporal, order_id=order.id)
    if state is None:
        raise Conflict("this order's checkout has not started")
    return state
