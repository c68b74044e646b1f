"""Staff: one customer on one screen (support staff read it too): the profile and the latest of
their subscriptions, orders, service requests (each with its workflow's link), callbacks and
calls. The full lists stay at their own routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, StaffUser
from api.problems import problems
from api.workflow_links import LinksDep
from domain.support.overview import CustomerOverview, overview

router = APIRouter(prefix="/admin/users", tags=["admin: users"])


@router.get("/{user_id}/overview", response_model=CustomerOverview, responses=problems(404))
async def read_overview(
    user_id: uuid.UUID,
    _staff: StaffUser,
    db: SessionDep,
    links: LinksDep,
    recent: Annotated[int, Query(ge=1, le=50, description="Items per section")] = 10,
) -> CustomerOverview:
    """A customer's profile and their latest subscriptions, orders, requests, callbacks, calls."""
    found = await overview(db, user_id=user_id, recent=recent)
    return found.model_copy(
        update={
            "subscriptions": links.page(found.subscriptions),
            "orders": links.page(found.orders),
            "service_requests": links.page(found.service_requests),
        }
    )
