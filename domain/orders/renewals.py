"""Renewal orders: the next period of a subscription, bought like any plan.

A renewal is an order with one item that names the subscription it renews (no cart, no new
subscription): its payment goes through the same provider path, ledger, receipt and refunds as a
checkout. The customer's manual renewal is paid through CheckoutWorkflow; an automatic renewal is
charged by the subscription's workflow on the saved method. The terms are the plan's current ones
(a price change applies at renewal), for the subscription's address.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.errors import Conflict, InvalidField
from domain.accounts.models import Address
from domain.actors import CUSTOMER
from domain.catalog.models import Plan, PlanStatus
from domain.catalog.service import price_breakdown
from domain.orders.cart import address_snapshot
from domain.orders.models import PROVIDERS, Order, OrderItem, OrderStatus, OrderStatusHistory
from domain.orders.service import get_order
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
