"""What a risky catalog change touches, in numbers an admin is shown before confirming it:
how many customers hold a plan (archiving takes it off sale; they keep it until it ends) and how
many plans on sale cover a category (hiding it takes it out of the public category list)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog.models import Plan, PlanStatus, ServiceCategory, plan_version_categories
from domain.catalog.plan_views import AdminPlanOut, admin_plan_out
from domain.catalog.schemas import AdminCategoryOut
from domain.subscriptions.contracts import LIVE
from domain.subscriptions.models import Subscription


async def plan_holders(db: AsyncSession, plan_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Customers holding each plan now: a subscription active, renewing or in grace."""
    if not plan_ids:
        return {}
    stmt = (
        select(Subscription.plan_id, func.count(func.distinct(Subscription.user_id)))
        .where(
            Subscription.plan_id.in_(set(plan_ids)),
            Subscription.status.in_([s.value for s in LIVE]),
        )
        .group_by(Subscription.plan_id)
    )
    return {plan_id: count for plan_id, count in (await db.execute(stmt)).all()}


async def active_plans_covering(
    db: AsyncSession, category_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Plans on sale whose current terms cover each category."""
    if not category_ids:
        return {}
    covers = plan_version_categories.c
    stmt = (
        select(covers.category_id, func.count())
        .join(Plan, Plan.current_version_id == covers.version_id)
        .where(Plan.status == PlanStatus.active.value, covers.category_id.in_(set(category_ids)))
        .group_by(covers.category_id)
    )
    return {category_id: count for category_id, count in (await db.execute(stmt)).all()}


async def admin_plans_out(db: AsyncSession, plans: Sequence[Plan]) -> list[AdminPlanOut]:
    holders = await plan_holders(db, [p.id for p in plans])
    return [admin_plan_out(p, holders=holders.get(p.id, 0)) for p in plans]


async def admin_plan(db: AsyncSession, plan: Plan) -> AdminPlanOut:
    return (await admin_plans_out(db, [plan]))[0]


async def admin_categories_out(
    db: AsyncSession, categories: Sequence[ServiceCategory]
) -> list[AdminCategoryOut]:
    counts = await active_plans_covering(db, [c.id for c in categories])
    return [
        AdminCategoryOut.model_validate(c).model_copy(update={"active_plans": counts.get(c.id, 0)})
        for c in categories
    ]


async def admin_category(db: AsyncSession, category: ServiceCategory) -> AdminCategoryOut:
    return (await admin_categories_out(db, [category]))[0]
