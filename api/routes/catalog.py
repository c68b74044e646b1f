"""The public catalog: active categories and plans, no sign-in needed.

Every response carries an ETag and Cache-Control; send the ETag back in If-None-Match to get a
304 while nothing changed, so the app can keep the catalog for offline browsing. The routes take
no database session: `api.caching.conditional` answers from its cache after a (shared) revision
read, and opens a session only to build a body it does not have.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from api.caching import NOT_MODIFIED, conditional
from api.pagination import CustomerPage, at_most
from api.problems import problems
from domain.catalog import service as catalog
from domain.catalog.categories import MAX_CATEGORIES
from domain.catalog.plan_views import PlanOut, plan_out
from domain.catalog.schemas import CategoryList, CategoryOut, Page, PlanSort

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get(
    "/categories", response_model=at_most(CategoryOut, MAX_CATEGORIES), responses=NOT_MODIFIED
)
async def list_categories(request: Request) -> Response:
    """Active service categories, in the catalog's order (`position`, set by the admin)."""

    async def build(db: AsyncSession) -> CategoryList:
        rows = await catalog.list_categories(db)
        return CategoryList([CategoryOut.model_validate(row) for row in rows])

    return await conditional(request, key=("categories",), build=build)


@router.get("/plans", response_model=Page[PlanOut], responses=NOT_MODIFIED)
async def list_plans(
    request: Request,
    page: CustomerPage,
    category: Annotated[
        str | None, Query(max_length=80, description="Only plans covering this category (slug)")
    ] = None,
    sort: Annotated[
        PlanSort,
        Query(
            description="featured (the catalog's order, set by the admin), or by the price "
            "paid, tax included"
        ),
    ] = "featured",
) -> Response:
    """Active plans with their current terms; filter by category, sort by price, paginate."""
    category = category.strip().lower() if category else None

    async def build(db: AsyncSession) -> Page[PlanOut]:
        rows, total = await catalog.list_public_plans(
            db, category=category, sort=sort, limit=page.limit, offset=page.offset
        )
        return Page[PlanOut](
            items=[plan_out(row) for row in rows], total=total, limit=page.limit, offset=page.offset
        )

    key = ("plans", category, sort, page.limit, page.offset)
    return await conditional(request, key=key, build=build)


@router.get("/plans/{plan}", response_model=PlanOut, responses={**NOT_MODIFIED, **problems(404)})
async def read_plan(
    request: Request,
    plan: Annotated[str, Path(max_length=80, description="The plan's id or slug")],
) -> Response:
    """One active plan by id or slug, with the version a checkout would buy."""

    async def build(db: AsyncSession) -> PlanOut:
        return plan_out(await catalog.get_public_plan(db, ref=plan))

    return await conditional(request, key=("plan", plan), build=build)


# HEAD answers what GET does, without the body (the server leaves it out): a cache, a crawler or
# a link checker asks HEAD first. Not in the document: HEAD is implied by GET (RFC 9110, 9.3.2).
for _route in list(router.routes):
    if isinstance(_route, APIRoute) and "GET" in (_route.methods or ()):
        router.add_api_route(
            _route.path.removeprefix(router.prefix),
            _route.endpoint,
            methods=["HEAD"],
            include_in_schema=False,
            name=f"{_route.name}_head",
        )
