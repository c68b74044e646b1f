"""Who a campaign is for: the four audiences as SQL, their size, the audience frozen when the
campaign starts, and the batches read from it by user id (keyset).

Everyone in an audience is an active customer with a verified email or phone. Holding a plan (or
a plan covering a category) means a live subscription of it: active, past due or in grace.
"Expiring within N days" means an active (or past-due) subscription ending between now and N
days from now.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidField
from domain.accounts.models import Role, User
from domain.campaigns.models import Campaign, CampaignRecipient
from domain.campaigns.schemas import AllCustomers, Audience, CategoryHolders, Expiring, PlanHolders
from domain.catalog.models import Plan, ServiceCategory, plan_version_categories
from domain.subscriptions.contracts import LIVE, SubscriptionStatus
from domain.subscriptions.models import Subscription

_LIVE = [s.value for s in LIVE]
_ENDING = [SubscriptionStatus.active.value, SubscriptionStatus.past_due.value]


async def check(db: AsyncSession, audience: Audience) -> None:
    """InvalidField (a 422 naming the field) when the plan or category it names does not exist."""
    if isinstance(audience, PlanHolders) and await db.get(Plan, audience.plan_id) is None:
        raise InvalidField(("audience", "plan_id"), "there is no plan with this id")
    if (
        isinstance(audience, CategoryHolders)
        and await db.get(ServiceCategory, audience.category_id) is None
    ):
        raise InvalidField(("audience", "category_id"), "there is no service category with this id")


def members(audience: Audience, now: datetime) -> Select[Any]:
    """The user ids of the audience as of `now`."""
    query = select(User.id).where(
        User.role == Role.customer.value,
        User.is_active,
        or_(User.email_verified_at.is_not(None), User.phone_verified_at.is_not(None)),
    )
    held = Subscription.user_id == User.id
    if isinstance(audience, PlanHolders):
        query = query.where(
            exists().where(
                held, Subscription.plan_id == audience.plan_id, Subscription.status.in_(_LIVE)
            )
        )
    elif isinstance(audience, CategoryHolders):
        covers = plan_version_categories.c
        query = query.where(
            select(Subscription.id)
            .join(plan_version_categories, covers.version_id == Subscription.plan_version_id)
            .where(held, covers.category_id == audience.category_id, Subscription.status.in_(_LIVE))
            .exists()
        )
    elif isinstance(audience, Expiring):
        query = query.where(
            exists().where(
                held,
                Subscription.status.in_(_ENDING),
                Subscription.ends_at >= now,
                Subscription.ends_at <= now + timedelta(days=audience.within_days),
            )
        )
    else:
        assert isinstance(audience, AllCustomers)
    return query


async def size(db: AsyncSession, audience: Audience, now: datetime) -> int:
    """How many people the audience holds at `now`."""
    found = await db.scalar(select(func.count()).select_from(members(audience, now).subquery()))
    return int(found or 0)


async def freeze(db: AsyncSession, campaign: Campaign, audience: Audience, now: datetime) -> int:
    """Write the audience as of `now` into campaign_recipients (the caller holds the campaign's
    row lock and commits); its size."""
    ids = members(audience, now).subquery()
    await db.execute(
        insert(CampaignRecipient).from_select(
            ["campaign_id", "user_id"], select(literal(campaign.id), ids.c.id)
        )
    )
    frozen = await db.scalar(
        select(func.count()).where(CampaignRecipient.campaign_id == campaign.id)
    )
    return int(frozen or 0)


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    name: str | None
    email: str | None  # only a verified address: offers are never sent to an unproven one
    active: bool


async def batch(
    db: AsyncSession, campaign_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[Member]:
    """The next `limit` people of the frozen audience after user id `after`, by user id."""
    query = (
        select(User.id, User.name, User.email, User.email_verified_at, User.is_active)
        .join(CampaignRecipient, CampaignRecipient.user_id == User.id)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .order_by(CampaignRecipient.user_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(CampaignRecipient.user_id > after)
    return [
        Member(user_id, name, email if verified is not None else None, active)
        for user_id, name, email, verified, active in await db.execute(query)
    ]
