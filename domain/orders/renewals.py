"""Renewal orders: the next period of a subscription, bought like any plan.

A renewal is an order with one item that names the subscription it renews (no cart, no new
subscription): its payment goes through the same provider path, ledger, receipt and refunds as a
checkout. The customer's manual renewal is paid through CheckoutWorkflow; an automatic renewal is
charged by the subscription's workflow on the saved method (`charge_for`, then `charge_outcome`
with what the provider said; the activity does the talking). The terms are the plan's current
ones (a price change applies at renewal), for the subscription's address.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.errors import Conflict, InvalidField
from domain.accounts.models import Address, PaymentMethod, User
from domain.actors import CUSTOMER, WORKFLOW
from domain.catalog.models import Plan, PlanStatus
from domain.catalog.service import price_breakdown
from domain.orders import settlement
from domain.orders.cart import address_snapshot
from domain.orders.models import PROVIDERS, Order, OrderItem, OrderStatus, OrderStatusHistory
from domain.orders.service import get_order
from domain.payments import PaymentState, PaymentStatus, RecurringCharge
from domain.subscriptions import service as subscriptions
from domain.subscriptions.contracts import PeriodKind, RenewalCharge
from domain.subscriptions.models import Subscription


async def create_renewal_order(
    db: AsyncSession,
    *,
    subscription: Subscription,
    idempotency_key: str,
    provider: str,
    actor: str = CUSTOMER,
) -> tuple[Order, bool]:
    """The order that renews `subscription` for one more period at the plan's current terms;
    returns it and whether this call created it. The same key returns the order made the first
    time (concurrent calls too); Conflict when the plan is no longer on sale."""
    existing = await _by_key(db, subscription=subscription, idempotency_key=idempotency_key)
    if existing is not None:
        return existing, False
    if provider not in PROVIDERS:
        raise InvalidField(("provider",), f"unknown payment provider {provider!r}")
    plan = (
        await db.execute(
            select(Plan)
            .where(Plan.id == subscription.plan_id)
            .options(selectinload(Plan.current_version))
        )
    ).scalar_one()
    version = plan.current_version
    if plan.status != PlanStatus.active.value or version is None:
        raise Conflict("this plan is no longer sold, so it cannot be renewed")
    tax, total = price_breakdown(
        amount_minor=version.price_minor,
        tax_rate_bps=version.tax_rate_bps,
        includes_tax=version.prices_include_tax,
    )
    if total <= 0:
        raise Conflict("this plan costs nothing to renew")
    order_id = uuid.uuid4()
    inserted = (
        await db.execute(
            pg_insert(Order)
            .values(
                id=order_id,
                user_id=subscription.user_id,
                status=OrderStatus.pending_payment.value,
                provider=provider,
                currency=version.currency,
                subtotal_minor=total - tax,
                tax_minor=tax,
                total_minor=total,
                idempotency_key=idempotency_key,
                request_hash=f"renewal:{subscription.id}",
            )
            .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
            .returning(Order.id)
        )
    ).scalar_one_or_none()
    if inserted is None:  # a concurrent call with this key committed first
        found = await _by_key(db, subscription=subscription, idempotency_key=idempotency_key)
        assert found is not None
        return found, False
    address = await db.get(Address, subscription.address_id) if subscription.address_id else None
    first_item = await db.get(OrderItem, subscription.order_item_id)
    assert first_item is not None
    db.add(
        OrderItem(
            order_id=order_id,
            position=0,
            plan_id=plan.id,
            plan_version_id=version.id,
            address_id=subscription.address_id,
            # The address as it is now; as it was bought if the customer has deleted it since.
            address=address_snapshot(address) if address is not None else first_item.address,
            plan_name=version.name,
            amount_minor=version.price_minor,
            tax_minor=tax,
            total_minor=total,
            tax_rate_bps=version.tax_rate_bps,
            includes_tax=version.prices_include_tax,
            validity_days=version.validity_days,
            visit_cap=version.visit_cap,
            renews_subscription_id=subscription.id,
        )
    )
    db.add(
        OrderStatusHistory(
            order_id=order_id,
            from_status=None,
            to_status=OrderStatus.pending_payment.value,
            actor=actor,
            reason=f"renews subscription {subscription.id}",
        )
    )
    await db.flush()
    return await get_order(db, order_id=order_id, user_id=None), True


async def _by_key(
    db: AsyncSession, *, subscription: Subscription, idempotency_key: str
) -> Order | None:
    order = (
        await db.execute(
            select(Order).where(
                Order.user_id == subscription.user_id, Order.idempotency_key == idempotency_key
            )
        )
    ).scalar_one_or_none()
    if order is None:
        return None
    if order.request_hash != f"renewal:{subscription.id}":
        raise Conflict("this Idempotency-Key was used for a different request")
    return await get_order(db, order_id=order.id, user_id=None)


async def renewal_items(db: AsyncSession, *, order_id: uuid.UUID) -> list[OrderItem]:
    """The items of an order that renew a subscription."""
    return list(
        (
            await db.execute(
                select(OrderItem).where(
                    OrderItem.order_id == order_id, OrderItem.renews_subscription_id.is_not(None)
                )
            )
        )
        .scalars()
        .all()
    )


# --- automatic renewal: the charge on the saved method ------------------------------------------


async def charge_for(
    db: AsyncSession,
    *,
    subscription_id: uuid.UUID,
    payment_method_id: uuid.UUID | None,
    idempotency_key: str,
    provider: str,
) -> tuple[Order, RecurringCharge] | RenewalCharge:
    """The renewal order an automatic renewal charges (made once per key) and the charge to ask
    of `provider` for it; or, when it cannot be charged (no saved method of the customer's, one
    with a provider no longer in use, a plan no longer sold), the declined outcome with why."""
    subscription = await db.get(Subscription, subscription_id)
    assert subscription is not None
    method = await db.get(PaymentMethod, payment_method_id) if payment_method_id else None
    if method is None or method.user_id != subscription.user_id:
        return _declined("no saved payment method")
    if method.provider != provider:
        return _declined(
            f"the saved method is with {method.provider}, which is not in use any more"
        )
    try:
        order, _ = await create_renewal_order(
            db,
            subscription=subscription,
            idempotency_key=idempotency_key,
            provider=provider,
            actor=WORKFLOW,
        )
    except Conflict as exc:  # the plan is no longer sold
        return _declined(exc.detail)
    user = await db.get(User, subscription.user_id)
    assert user is not None
    return order, RecurringCharge(
        reference=str(order.id),
        amount_minor=order.total_minor,
        currency=order.currency,
        description=f"HomePlans renewal, order {str(order.id)[:8]}",
        provider_method_id=method.provider_method_id,
        provider_customer_id=method.provider_customer_id,
        customer_email=user.email,
        customer_phone=user.phone,
    )


def _declined(reason: str) -> RenewalCharge:
    return RenewalCharge(order_id=None, state="failed", failure_reason=reason)


async def refuse(db: AsyncSession, *, order_id: uuid.UUID, reason: str) -> None:
    """The provider will never take this charge: the renewal order failed with `reason` (a
    payment that settled it meanwhile stands)."""
    await _fail(db, order_id=order_id, reason=reason, status=None)


async def charge_outcome(
    db: AsyncSession, *, order_id: uuid.UUID, status: PaymentStatus | None
) -> tuple[Order, RenewalCharge]:
    """Settle or fail the renewal order as the provider's `status` says (None: as recorded
    already); the order as it now stands, and what the subscription's workflow is told: the
    period paid for, declined with the reason, or still processing."""
    if status is not None and status.state == PaymentState.succeeded:
        await settlement.settle_paid_order(db, order_id=order_id, status=status, keep_method=False)
    elif status is not None and status.state in (PaymentState.failed, PaymentState.cancelled):
        reason = status.failure_reason or "the payment was declined"
        await _fail(db, order_id=order_id, reason=reason, status=status)
    order = await get_order(db, order_id=order_id, user_id=None)
    user = await db.get(User, order.user_id)
    assert user is not None
    if order.status == OrderStatus.completed:
        paid = await subscriptions.renewal_paid(db, item=order.items[0])
        paid = paid.model_copy(update={"kind": PeriodKind.auto_renewal})
        return order, RenewalCharge(order_id=order.id, state="succeeded", paid=paid)
    if order.status == OrderStatus.failed:
        return order, RenewalCharge(
            order_id=order.id, state="failed", failure_reason=order.failure_reason
        )
    return order, RenewalCharge(order_id=order.id, state="processing")


async def _fail(
    db: AsyncSession, *, order_id: uuid.UUID, reason: str, status: PaymentStatus | None
) -> None:
    try:
        async with db.begin_nested():
            await settlement.mark_order_failed(db, order_id=order_id, reason=reason, status=status)
    except Conflict:  # settled meanwhile: the payment stands
        pass
