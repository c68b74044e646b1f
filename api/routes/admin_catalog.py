"""Admin: manage categories and plans. Every change is written to the audit log by the domain.

A draft's terms are edited in place; terms once published or sold are never edited: an edit makes
a new version (see `domain.catalog.plans`). A sold plan cannot be deleted; archive it. Every plan
and category has a place in the catalog: new ones go last, the move routes change it
(`domain.catalog.ordering`), and the public catalog follows it. The admin's outputs carry what a
risky change touches (`holders` of a plan, `active_plans` covering a category).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.caching import catalog_changed
from api.deps import AdminUser, SessionDep
from api.pagination import StaffPage, at_most
from api.problems import problems
from domain.catalog import impact, ordering, plans
from domain.catalog import service as catalog
from domain.catalog.categories import MAX_CATEGORIES
from domain.catalog.models import PlanStatus
from domain.catalog.plan_views import AdminPlanOut, PlanVersionOut, version_out
from domain.catalog.queries import MAX_VERSIONS_LISTED
from domain.catalog.schemas import (
    AdminCategoryOut,
    CategoryCreate,
    CategoryUpdate,
    MoveIn,
    Page,
    PlanCreate,
    PlanUpdate,
    ReorderIn,
)

router = APIRouter(prefix="/admin/catalog", tags=["admin: catalog"])


# --- categories ---------------------------------------------------------------------------------


@router.get("/categories", response_model=at_most(AdminCategoryOut, MAX_CATEGORIES))
async def list_categories(
    _admin: AdminUser,
    db: SessionDep,
    shown: Annotated[
        bool | None,
        Query(description="Only the categories shown in the catalog (true) or hidden (false)"),
    ] = None,
) -> list[AdminCategoryOut]:
    """Every category: the shown ones in catalog order, then the hidden ones."""
    rows = await catalog.list_admin_categories(db, shown=shown)
    return await impact.admin_categories_out(db, rows)


@router.post(
    "/categories",
    response_model=AdminCategoryOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def create_category(
    request: Request, body: CategoryCreate, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Add a category, last in the catalog."""
    category = await catalog.create_category(db, data=body, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_category(db, category)


@router.post("/categories/reorder", response_model=at_most(AdminCategoryOut, MAX_CATEGORIES))
async def reorder_categories(
    request: Request, body: ReorderIn, admin: AdminUser, db: SessionDep
) -> list[AdminCategoryOut]:
    """Set the catalog's order: the listed categories first, the rest after them."""
    await ordering.reorder_categories(db, ids=body.ids, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_categories_out(db, await catalog.list_admin_categories(db))


@router.post(
    "/categories/{category_id}/move", response_model=AdminCategoryOut, responses=problems(404)
)
async def move_category(
    request: Request, category_id: uuid.UUID, body: MoveIn, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Move a category one place up or down the catalog, past the next one shown (or hidden)
    like it; at the top (or bottom) already, nothing changes."""
    await ordering.move_category(
        db, category_id=category_id, direction=body.direction, actor_id=admin.id
    )
    await db.commit()
    catalog_changed(request)
    return await impact.admin_category(db, await catalog.get_category(db, category_id=category_id))


@router.patch(
    "/categories/{category_id}", response_model=AdminCategoryOut, responses=problems(404, 409)
)
async def update_category(
    request: Request, category_id: uuid.UUID, body: CategoryUpdate, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Change a category's name, slug, description, icon or shown flag."""
    category = await catalog.update_category(
        db, category_id=category_id, data=body, actor_id=admin.id
    )
    await db.commit()
    catalog_changed(request)
    return await impact.admin_category(db, category)


@router.post(
    "/categories/{category_id}/deactivate", response_model=AdminCategoryOut, responses=problems(404)
)
async def deactivate_category(
    request: Request, category_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Hide a category from the public catalog; plans keep covering it."""
    category = await catalog.update_category(
        db, category_id=category_id, data=CategoryUpdate(is_active=False), actor_id=admin.id
    )
    await db.commit()
    catalog_changed(request)
    return await impact.admin_category(db, category)


@router.post(
    "/categories/{category_id}/activate", response_model=AdminCategoryOut, responses=problems(404)
)
async def activate_category(
    request: Request, category_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Show a category in the public catalog again."""
    category = await catalog.update_category(
        db, category_id=category_id, data=CategoryUpdate(is_active=True), actor_id=admin.id
    )
    await db.commit()
    catalog_changed(request)
    return await impact.admin_category(db, category)


# --- plans --------------------------------------------------------------------------------------


@router.get("/plans", response_model=Page[AdminPlanOut])
async def list_plans(
    _admin: AdminUser,
    db: SessionDep,
    page: StaffPage,
    plan_status: Annotated[PlanStatus | None, Query(alias="status")] = None,
) -> Page[AdminPlanOut]:
    """Plans of any status: on sale in catalog order, then drafts, then archived ones."""
    rows, total = await catalog.list_plans(
        db, status=plan_status, limit=page.limit, offset=page.offset
    )
    return Page[AdminPlanOut](
        items=await impact.admin_plans_out(db, rows),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/plans",
    response_model=AdminPlanOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def create_plan(
    request: Request, body: PlanCreate, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Add a plan as a draft, last in the catalog. A price of 0 needs `confirm_free: true`."""
    plan = await plans.create_plan(db, data=body, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_plan(db, plan)


@router.post("/plans/reorder", response_model=list[AdminPlanOut])
async def reorder_plans(
    request: Request, body: ReorderIn, admin: AdminUser, db: SessionDep
) -> list[AdminPlanOut]:
    """Set the catalog's order: the listed plans first, the rest after them."""
    count = await ordering.reorder_plans(db, ids=body.ids, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    rows, _ = await catalog.list_plans(db, status=None, limit=count, offset=0)
    return await impact.admin_plans_out(db, rows)


@router.post("/plans/{plan_id}/move", response_model=AdminPlanOut, responses=problems(404))
async def move_plan(
    request: Request, plan_id: uuid.UUID, body: MoveIn, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Move a plan one place up or down the catalog, past the next plan of the same status; at
    the top (or bottom) already, nothing changes."""
    await ordering.move_plan(db, plan_id=plan_id, direction=body.direction, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_plan(db, await catalog.get_plan(db, plan_id=plan_id))


@router.get("/plans/{plan_id}", response_model=AdminPlanOut, responses=problems(404))
async def read_plan(plan_id: uuid.UUID, _admin: AdminUser, db: SessionDep) -> AdminPlanOut:
    """One plan of any status."""
    return await impact.admin_plan(db, await catalog.get_plan(db, plan_id=plan_id))


@router.get(
    "/plans/{plan_id}/versions",
    response_model=at_most(PlanVersionOut, MAX_VERSIONS_LISTED),
    responses=problems(404),
)
async def list_versions(
    plan_id: uuid.UUID, _admin: AdminUser, db: SessionDep
) -> list[PlanVersionOut]:
    """The plan's versions, newest first (the newest 100): every one published or sold, and the
    current one."""
    return [version_out(v) for v in await catalog.list_versions(db, plan_id=plan_id)]


@router.patch("/plans/{plan_id}", response_model=AdminPlanOut, responses=problems(404, 409))
async def update_plan(
    request: Request, plan_id: uuid.UUID, body: PlanUpdate, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Edit a plan: a draft's terms in place; terms once published or sold by a new version,
    which leaves them untouched. A price of 0 needs `confirm_free: true`."""
    plan = await plans.update_plan(db, plan_id=plan_id, data=body, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_plan(db, plan)


@router.post("/plans/{plan_id}/publish", response_model=AdminPlanOut, responses=problems(404, 409))
async def publish_plan(
    request: Request, plan_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Put the plan on sale (from draft or archived)."""
    plan = await plans.publish_plan(db, plan_id=plan_id, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_plan(db, plan)


@router.post("/plans/{plan_id}/archive", response_model=AdminPlanOut, responses=problems(404, 409))
async def archive_plan(
    request: Request, plan_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Take the plan off sale; its holders (`holders`) keep the terms they bought until their
    plan ends."""
    plan = await plans.archive_plan(db, plan_id=plan_id, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return await impact.admin_plan(db, plan)


@router.delete(
    "/plans/{plan_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **problems(404),
        409: {"description": "The plan has been sold: archive it instead"},
    },
)
async def delete_plan(
    request: Request, plan_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> None:
    """Delete a plan that was never sold (a sold one is 409: archive it)."""
    await plans.delete_plan(db, plan_id=plan_id, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
