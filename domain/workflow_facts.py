"""The display facts of a workflow's start (`domain/workflow_labels.py`), read from what the
caller has at hand: the order and its buyer the API has just loaded, or the database. Each reader
is one or two primary-key reads; the starts that happen on every purchase build theirs from the
objects already loaded (`order_facts`), with no query."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.campaigns.models import Campaign
from domain.catalog.models import PlanVersion, ServiceCategory
from domain.display import Customer
from domain.orders import service as orders
from domain.orders.models import Order, Refund
from domain.subscriptions.models import Subscription
from domain.workflow_labels import (
    CampaignFacts,
    OrderFacts,
    RefundFacts,
    RequestFacts,
    SubscriptionFacts,
)


def customer(user: User | None) -> Customer:
    if user is None:
        return Customer()
    return Customer(name=user.name, email=user.email, phone=user.phone)


async def customer_of(db: AsyncSession, user_id: uuid.UUID) -> Customer:
    return customer(await db.get(User, user_id))


def order_facts(order: Order, buyer: Customer) -> OrderFacts:
    """An order whose items are loaded (the one the checkout has just created or found)."""
    items = sorted(order.items, key=lambda i: i.position)
    return OrderFacts(
        number=order.number,
        plans=tuple(item.plan_name for item in items),
        total_minor=order.total_minor,
        currency=order.currency,
        customer=buyer,
        renewal=any(item.renews_subscription_id is not None for item in items),
    )


async def order(db: AsyncSession, order_id: uuid.UUID) -> OrderFacts:
    found = await orders.get_order(db, order_id=order_id, user_id=None)
    return order_facts(found, await customer_of(db, found.user_id))


async def refund(db: AsyncSession, refund_id: uuid.UUID) -> RefundFacts:
    made = await db.get(Refund, refund_id)
    assert made is not None, "a refund's workflow starts once its row exists"
    paid = await db.get(Order, made.order_id)
    assert paid is not None
    return RefundFacts(
        amount_minor=made.amount_minor,
        currency=made.currency,
        order_number=paid.number,
        customer=await customer_of(db, paid.user_id),
        reason=made.reason,
    )


async def plan_name(db: AsyncSession, plan_version_id: uuid.UUID) -> str:
    version = await db.get(PlanVersion, plan_version_id)
    return version.name if version is not None else "a plan"


async def subscription(db: AsyncSession, subscription_id: uuid.UUID) -> SubscriptionFacts:
    sub = await db.get(Subscription, subscription_id)
    assert sub is not None, "a subscription's workflow starts once its row exists"
    return SubscriptionFacts(
        plan=await plan_name(db, sub.plan_version_id), customer=await customer_of(db, sub.user_id)
    )


async def request(
    db: AsyncSession, *, category_id: uuid.UUID, subscription: Subscription, buyer: Customer
) -> RequestFacts:
    category = await db.get(ServiceCategory, category_id)
    return RequestFacts(
        category=category.name if category is not None else "Service",
        plan=await plan_name(db, subscription.plan_version_id),
        customer=buyer,
    )


def _audience(audience: dict[str, Any]) -> str:
    kind = str(audience.get("kind", "all"))
    if kind == "expiring":
        return f"expiring within {audience.get('within_days')} days"
    return {"all": "every customer", "plan": "one plan's customers"}.get(
        kind, f"one {kind}'s customers"
    )


def campaign(found: Campaign) -> CampaignFacts:
    return CampaignFacts(name=found.title, audience=_audience(found.audience))


async def campaign_of(db: AsyncSession, campaign_id: uuid.UUID) -> CampaignFacts:
    found = await db.get(Campaign, campaign_id)
    assert found is not None
    return campaign(found)
