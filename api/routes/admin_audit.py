"""Admin: the audit log, the newest first, filtered by who, what, which and when. Admins only:
support staff do not read who changed what (the roles of issue 17)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminUser, SessionDep
from api.pagination import StaffPage
from api.periods import Since, Until, check_period
from domain.audit import queries
from domain.audit.queries import AuditEntryOut
from domain.types import Page

router = APIRouter(prefix="/admin/audit", tags=["admin: audit"])


@router.get("", response_model=Page[AuditEntryOut])
async def list_audit(
    _admin: AdminUser,
    db: SessionDep,
    page: StaffPage,
    actor_id: Annotated[uuid.UUID | None, Query(description="Done by this user")] = None,
    action: Annotated[
        str | None, Query(min_length=1, max_length=64, description="e.g. `plan.publish`")
    ] = None,
    entity_type: Annotated[
        str | None, Query(min_length=1, max_length=64, description="e.g. `plan`, `order`")
    ] = None,
    entity_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="The id of what changed")
    ] = None,
    since: Since = None,
    until: Until = None,
) -> Page[AuditEntryOut]:
    """Who changed what, when, with the before and after and the reason given."""
    check_period(since, until)
    items, total = await queries.list_entries(
        db,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[AuditEntryOut](items=items, total=total, limit=page.limit, offset=page.offset)
