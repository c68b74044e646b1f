"""Service categories: the public list, the admin's list, adding and changing one.

Every change writes an audit entry (who, before, after) and replaces the catalog's revision token in
the caller's transaction; nothing here commits. Their place in the catalog changes by
`domain.catalog.ordering`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from domain.audit import service as audit
from domain.catalog.models import ServiceCategory
from domain.catalog.ordering import ADMIN_CATEGORY_ORDER, next_position
from domain.catalog.revision import flush_or_conflict, touch_revision
from domain.catalog.schemas import AdminCategoryOut, CategoryCreate, CategoryUpdate

# The catalog holds at most this many categories (shown or hidden): its lists are answered whole.
MAX_CATEGORIES = 200


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
    """Add a category, last in the catalog; Conflict past MAX_CATEGORIES."""
    await touch_revision(db)  # first: the revision's row lock orders concurrent catalog writes
    held = (await db.execute(select(func.count()).select_from(ServiceCategory))).scalar_one()
    if held >= MAX_CATEGORIES:
        raise Conflict(
            f"the catalog holds at most {MAX_CATEGORIES} categories; hide or reuse one instead"
        )
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
