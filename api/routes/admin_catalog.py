"""Admin: manage categories and plans. Every change is written to the audit log by the service.

Terms of a plan that has been sold are never edited: an edit makes a new version (see
`domain.catalog.service`). A sold plan cannot be deleted; archive it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.caching import catalog_changed
from api.deps import AdminUser, SessionDep
from api.pagination import StaffPage
from api.problems import problems
from domain.catalog import service as catalog
from domain.catalog.models import PlanStatus
from domain.catalog.schemas import (
    AdminCategoryOut,
    AdminPlanOut,
    CategoryCreate,
    CategoryUpdate,
    Page,
    PlanCreate,
    PlanUpdate,
    PlanVersionOut,
    ReorderIn,
    admin_plan_out,
    version_out,
)

router = APIRouter(prefix="/admin/catalog", tags=["admin: catalog"])


# --- categories ---------------------------------------------------------------------------------


@router.get("/categories", response_model=list[AdminCategoryOut])
async def list_categories(_admin: AdminUser, db: SessionDep) -> list[AdminCategoryOut]:
    """Every category, inactive ones too, in display order."""
    rows = await catalog.list_categories(db, include_inactive=True)
    return [AdminCategoryOut.model_validate(row) for row in rows]


@router.post(
    "/categories",
    response_model=AdminCategoryOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def create_category(
    request: Request, body: CategoryCreate, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Add a category."""
    category = await catalog.create_category(db, data=body, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return AdminCategoryOut.model_validate(category)


@router.post("/categories/reorder", response_model=list[AdminCategoryOut])
async def reorder_categories(
    request: Request, body: ReorderIn, admin: AdminUser, db: SessionDep
) -> list[AdminCategoryOut]:
    """Set the display order: the listed categories first, the rest after them."""
    rows = await catalog.reorder_categories(db, ids=body.ids, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return [AdminCategoryOut.model_validate(row) for row in rows]


@router.patch(
    "/categories/{category_id}", response_model=AdminCategoryOut, responses=problems(404, 409)
)
async def update_category(
    request: Request, category_id: uuid.UUID, body: CategoryUpdate, admin: AdminUser, db: SessionDep
) -> AdminCategoryOut:
    """Change a category's name, slug, description, icon, order or active flag."""
    category = await catalog.update_category(
        db, category_id=category_id, data=body, actor_id=admin.id
    )
    await db.commit()
    catalog_changed(request)
    return AdminCategoryOut.model_validate(category)


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
    return AdminCategoryOut.model_validate(category)


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
    return AdminCategoryOut.model_validate(category)


# --- plans --------------------------------------------------------------------------------------


@router.get("/plans", response_model=Page[AdminPlanOut])
async def list_plans(
    _admin: AdminUser,
    db: SessionDep,
    page: StaffPage,
    plan_status: Annotated[PlanStatus | None, Query(alias="status")] = None,
) -> Page[AdminPlanOut]:
    """Plans of any status (drafts and archived too), in display order."""
    rows, total = await catalog.list_plans(
        db, status=plan_status, limit=page.limit, offset=page.offset
    )
    return Page[AdminPlanOut](
        items=[admin_plan_out(r) for r in rows], total=total, limit=page.limit, offset=page.offset
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
    """Add a plan as a draft, with its first version."""
    plan = await catalog.create_plan(db, data=body, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return admin_plan_out(plan)


@router.post("/plans/reorder", response_model=list[AdminPlanOut])
async def reorder_plans(
    request: Request, body: ReorderIn, admin: AdminUser, db: SessionDep
) -> list[AdminPlanOut]:
    """Set the display order: the listed plans first, the rest after them."""
    rows = await catalog.reorder_plans(db, ids=body.ids, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return [admin_plan_out(r) for r in rows]


@router.get("/plans/{plan_id}", response_model=AdminPlanOut, responses=problems(404))
async def read_plan(plan_id: uuid.UUID, _admin: AdminUser, db: SessionDep) -> AdminPlanOut:
    """One plan of any status."""
    return admin_plan_out(await catalog.get_plan(db, plan_id=plan_id))


@router.get(
    "/plans/{plan_id}/versions", response_model=list[PlanVersionOut], responses=problems(404)
)
async def list_versions(
    plan_id: uuid.UUID, _admin: AdminUser, db: SessionDep
) -> list[PlanVersionOut]:
    """The plan's kept versions, newest first: the current one and every one sold."""
    return [version_out(v) for v in await catalog.list_versions(db, plan_id=plan_id)]


@router.patch("/plans/{plan_id}", response_model=AdminPlanOut, responses=problems(404, 409))
async def update_plan(
    request: Request, plan_id: uuid.UUID, body: PlanUpdate, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Edit a plan; changed terms make a new version, and a sold version is never touched."""
    plan = await catalog.update_plan(db, plan_id=plan_id, data=body, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return admin_plan_out(plan)


@router.post("/plans/{plan_id}/publish", response_model=AdminPlanOut, responses=problems(404, 409))
async def publish_plan(
    request: Request, plan_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Put the plan on sale (from draft or archived)."""
    plan = await catalog.publish_plan(db, plan_id=plan_id, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return admin_plan_out(plan)


@router.post("/plans/{plan_id}/archive", response_model=AdminPlanOut, responses=problems(404, 409))
async def archive_plan(
    request: Request, plan_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> AdminPlanOut:
    """Take the plan off sale; customers keep the terms they bought."""
    plan = await catalog.archive_plan(db, plan_id=plan_id, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
    return admin_plan_out(plan)


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
    await catalog.delete_plan(db, plan_id=plan_id, actor_id=admin.id)
    await db.commit()
    catalog_changed(request)
