"""Reading plans: the public catalog (active plans with their current terms) and the admin's view
(every plan, its versions, one version's exact terms). Loads each plan's terms in a fixed number of
queries, never one per plan.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, contains_eager, selectinload
from sqlalchemy.sql import ColumnElement, Select

from core.errors import NotFound
from domain.catalog.models import Plan, PlanStatus, PlanVersion, ServiceCategory
from domain.catalog.ordering import ADMIN_PLAN_ORDER
from domain.catalog.schemas import PlanSort


def _with_terms(stmt: Select[Plan], *, joined: bool = False) -> Select[Plan]:
    """Load each plan's current version (already joined, or by one more query) with its categories
    and inclusions: three or four queries for any number of plans, never one per plan."""
    load = contains_eager if joined else selectinload
    return stmt.options(
        load(Plan.current_version).selectinload(PlanVersion.categories),
        load(Plan.current_version).selectinload(PlanVersion.inclusions),
    )


async def list_public_plans(
    db: AsyncSession, *, category: str | None, sort: PlanSort, limit: int, offset: int
) -> tuple[list[Plan], int]:
    """Active plans with their current terms; filter by a category slug; sort by display order or
    by the price the customer pays (tax included)."""
    stmt = (
        select(Plan)
        .join(PlanVersion, Plan.current_version_id == PlanVersion.id)
        .where(Plan.status == PlanStatus.active.value)
    )
    if category:
        stmt = stmt.where(PlanVersion.categories.any(ServiceCategory.slug == category))
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    order: tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]
    if sort == "price_asc":
        order = (PlanVersion.total_minor, Plan.display_order, Plan.slug)
    elif sort == "price_desc":
        order = (PlanVersion.total_minor.desc(), Plan.display_order, Plan.slug)
    else:
        order = (Plan.display_order, PlanVersion.total_minor, Plan.slug)
    stmt = _with_terms(stmt.order_by(*order).limit(limit).offset(offset), joined=True)
    return list((await db.execute(stmt)).scalars().all()), total


async def get_public_plan(db: AsyncSession, *, ref: str) -> Plan:
    """An active plan by id or slug; drafts and archived plans are NotFound."""
    try:
        condition = Plan.id == uuid.UUID(ref)
    except ValueError:
        condition = Plan.slug == ref.lower()
    stmt = _with_terms(
        select(Plan)
        .join(PlanVersion, Plan.current_version_id == PlanVersion.id)
        .where(condition, Plan.status == PlanStatus.active.value),
        joined=True,
    )
    plan = (await db.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise NotFound("plan not found")
    return plan


def _admin_query() -> Select[Plan]:
    return (
        _with_terms(select(Plan))
        .options(selectinload(Plan.versions))
        .execution_options(populate_existing=True)
    )


async def list_plans(
    db: AsyncSession, *, status: PlanStatus | None, limit: int, offset: int
) -> tuple[list[Plan], int]:
    """All plans (drafts and archived too) for the admin: on sale in catalog order, then drafts,
    then archived ones (or those of one status)."""
    base = select(Plan)
    if status is not None:
        base = base.where(Plan.status == status.value)
    total = (await db.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    stmt = _admin_query()
    if status is not None:
        stmt = stmt.where(Plan.status == status.value)
    stmt = stmt.order_by(*ADMIN_PLAN_ORDER).limit(limit).offset(offset)
    return list((await db.execute(stmt)).scalars().all()), total


async def get_plan(db: AsyncSession, *, plan_id: uuid.UUID, for_update: bool = False) -> Plan:
    """A plan with its current terms and its versions (admin view)."""
    stmt = _admin_query().where(Plan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update(of=Plan)
    plan = (await db.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise NotFound("plan not found")
    return plan


# A plan's versions are listed whole, the newest this many.
MAX_VERSIONS_LISTED = 100


async def list_versions(db: AsyncSession, *, plan_id: uuid.UUID) -> list[PlanVersion]:
    """The versions of a plan, newest first (at most MAX_VERSIONS_LISTED): each one published or
    sold, and the current one."""
    await get_plan(db, plan_id=plan_id)
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id)
        .order_by(PlanVersion.number.desc())
        .limit(MAX_VERSIONS_LISTED)
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
    )
    return list((await db.execute(stmt)).scalars().all())


async def get_version(db: AsyncSession, *, version_id: uuid.UUID) -> PlanVersion:
    """One version with its categories and inclusions (the exact terms bought)."""
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.id == version_id)
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
    )
    version = (await db.execute(stmt)).scalar_one_or_none()
    if version is None:
        raise NotFound("plan version not found")
    return version
