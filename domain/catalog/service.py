"""Catalog: service categories, plans and their versions: reading, categories, selling.

Keyword-only functions, the session first; they raise `core.errors` exceptions, never HTTP ones,
and never commit. Every function that changes the catalog writes an audit entry (who, before,
after) and replaces the catalog's revision token in the caller's transaction, so the change, its
record and the public caches' invalidation commit or roll back together.

Plans are changed in `domain.catalog.plans` (the versioning rule is there), places in the catalog
in `domain.catalog.ordering`, and what an admin is told before a risky change (how many customers
hold a plan) in `domain.catalog.impact`.

"Sold" means `plan_versions.sold_at` is set, by `lock_version_for_sale` or `mark_versions_sold`
(which the checkout calls in the transaction that records the purchase). A plan with a sold
version cannot be deleted (archive).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, contains_eager, selectinload
from sqlalchemy.sql import ColumnElement, Select

from core.errors import Conflict, NotFound
from domain.audit import service as audit
from domain.catalog.models import (
    Plan,
    PlanStatus,
    PlanVersion,
    ServiceCategory,
)
from domain.catalog.ordering import ADMIN_CATEGORY_ORDER, ADMIN_PLAN_ORDER, next_position

# The public cache reads the revision through this module.
from domain.catalog.revision import read_revision as read_revision
from domain.catalog.revision import touch_revision
from domain.catalog.schemas import (
    AdminCategoryOut,
    CategoryCreate,
    CategoryUpdate,
    PlanSort,
)

Loc = tuple[str | int, ...]


def price_breakdown(*, amount_minor: int, tax_rate_bps: int, includes_tax: bool) -> tuple[int, int]:
    """(tax_minor, total_minor) of a price, rounded half up to the minor unit (GST style: an
    inclusive price contains the tax; an exclusive one has it added)."""
    if includes_tax:
        divisor = 10_000 + tax_rate_bps
        net = (2 * amount_minor * 10_000 + divisor) // (2 * divisor)
        return amount_minor - net, amount_minor
    tax = (2 * amount_minor * tax_rate_bps + 10_000) // 20_000
    return tax, amount_minor + tax


# --- categories ---------------------------------------------------------------------------------


async def list_categories(db: AsyncSession) -> list[ServiceCategory]:
    """The categories shown in the public catalog, in their order."""
    stmt = (
        select(ServiceCategory)
        .where(ServiceCategory.is_active.is_(True))
        .order_by(ServiceCategory.display_order, ServiceCategory.name, ServiceCategory.id)
    )
    return list((await db.execute(stmt)).scalars().all())


async def list_admin_categories(
    db: AsyncSession, *, shown: bool | None = None
) -> list[ServiceCategory]:
    """Every category for the admin: the shown ones in catalog order, then the hidden ones; or
    only the shown (`shown=True`) or hidden (`shown=False`) ones."""
    stmt = select(ServiceCategory).order_by(*ADMIN_CATEGORY_ORDER)
    if shown is not None:
        stmt = stmt.where(ServiceCategory.is_active.is_(shown))
    return list((await db.execute(stmt)).scalars().all())


async def get_category(db: AsyncSession, *, category_id: uuid.UUID) -> ServiceCategory:
    category = await db.get(ServiceCategory, category_id)
    if category is None:
        raise NotFound("category not found")
    return category


def _category_snapshot(category: ServiceCategory) -> dict[str, Any]:
    return AdminCategoryOut.model_validate(category).model_dump(
        mode="json", exclude={"created_at", "updated_at", "active_plans"}
    )


async def _ensure_category_slug_free(
    db: AsyncSession, *, slug: str, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(ServiceCategory.id).where(ServiceCategory.slug == slug)
    if except_id is not None:
        stmt = stmt.where(ServiceCategory.id != except_id)
    if (await db.execute(stmt)).first() is not None:
        raise Conflict(f"a category with slug {slug!r} already exists")


async def create_category(
    db: AsyncSession, *, data: CategoryCreate, actor_id: uuid.UUID | None
) -> ServiceCategory:
    """Add a category, last in the catalog."""
    await _ensure_category_slug_free(db, slug=data.slug)
    category = ServiceCategory(
        **data.model_dump(), display_order=await next_position(db, ServiceCategory)
    )
    db.add(category)
    await flush_or_conflict(db, "a category with that slug already exists")
    await db.refresh(category)
    audit.record(
        db,
        actor_id=actor_id,
        action="category.create",
        entity_type="category",
        entity_id=category.id,
        after=_category_snapshot(category),
    )
    await touch_revision(db)
    return category


async def update_category(
    db: AsyncSession, *, category_id: uuid.UUID, data: CategoryUpdate, actor_id: uuid.UUID | None
) -> ServiceCategory:
    """Change a category's name, slug, description, icon or active flag."""
    category = await get_category(db, category_id=category_id)
    changes = data.model_dump(exclude_unset=True)
    if "slug" in changes:
        await _ensure_category_slug_free(db, slug=changes["slug"], except_id=category.id)
    before = _category_snapshot(category)
    for key, value in changes.items():
        setattr(category, key, value)
    after = _category_snapshot(category)
    if after == before:
        return category
    await flush_or_conflict(db, "a category with that slug already exists")
    await db.refresh(category)
    action = "category.update"
    if set(changes) == {"is_active"}:
        action = "category.activate" if category.is_active else "category.deactivate"
    audit.record(
        db,
        actor_id=actor_id,
        action=action,
        entity_type="category",
        entity_id=category.id,
        before=before,
        after=after,
    )
    await touch_revision(db)
    return category


# --- plans: reading -----------------------------------------------------------------------------


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


async def list_versions(db: AsyncSession, *, plan_id: uuid.UUID) -> list[PlanVersion]:
    """Every version of a plan, newest first: each one published or sold, and the current one."""
    await get_plan(db, plan_id=plan_id)
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id)
        .order_by(PlanVersion.number.desc())
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


# --- selling ------------------------------------------------------------------------------------


async def lock_version_for_sale(db: AsyncSession, *, version_id: uuid.UUID) -> PlanVersion:
    """Mark a version sold and return it with its terms; from then on it never changes and its
    plan can only be archived, not deleted. Idempotent (a retried checkout activity keeps the first
    `sold_at`). It does not check that the plan is still on sale: the checkout decides that before
    calling (a version superseded since it was shown is kept if it was published: the cart
    compares the version it holds with the plan's current one). NotFound for a version that
    does not exist.
    """
    # The UPDATE locks an unsold version until commit; a sold one can no longer be deleted.
    await mark_versions_sold(db, version_ids=[version_id])
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.id == version_id)
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
        .execution_options(populate_existing=True)
    )
    version = (await db.execute(stmt)).scalar_one_or_none()
    if version is None:
        raise NotFound("plan version not found")
    return version


async def mark_versions_sold(db: AsyncSession, *, version_ids: Sequence[uuid.UUID]) -> None:
    """Mark versions sold in one statement, without loading their terms (what settling an order
    needs: its foreign keys guarantee the versions exist). Versions already sold keep their first
    `sold_at`; the database refuses any other change to them."""
    await db.execute(
        update(PlanVersion)
        .where(PlanVersion.id.in_(set(version_ids)), PlanVersion.sold_at.is_(None))
        .values(sold_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def flush_or_conflict(db: AsyncSession, message: str) -> None:
    """Flush; a unique violation (a slug taken meanwhile) is a Conflict with `message`."""
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc
