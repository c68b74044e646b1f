"""Admin: list and manage user accounts. Every change is written to the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminUser, SessionDep, StaffUser
from api.pagination import StaffPage
from api.problems import problems
from core.errors import Conflict
from domain.accounts import service as accounts
from domain.accounts.models import Role
from domain.accounts.schemas import AdminUserOut, AdminUserUpdate
from domain.audit import service as audit
from domain.types import Page

router = APIRouter(prefix="/admin/users", tags=["admin: users"])


@router.get("", response_model=Page[AdminUserOut])
async def list_users(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    role: Role | None = None,
    q: Annotated[str | None, Query(max_length=100, description="name, email or phone")] = None,
) -> Page[AdminUserOut]:
    """Users, newest first; filter by role or a search text (support staff may read)."""
    rows, total = await accounts.list_users(
        db, role=role, query=q, limit=page.limit, offset=page.offset
    )
    return Page[AdminUserOut](
        items=[AdminUserOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{user_id}", response_model=AdminUserOut, responses=problems(404))
async def read_user(user_id: uuid.UUID, _staff: StaffUser, db: SessionDep) -> AdminUserOut:
    """One user."""
    return AdminUserOut.model_validate(await accounts.get_user(db, user_id=user_id))


@router.patch("/{user_id}", response_model=AdminUserOut, responses=problems(404, 409))
async def update_user(
    user_id: uuid.UUID, body: AdminUserUpdate, admin: AdminUser, db: SessionDep
) -> AdminUserOut:
    """Change a user's role, name or active flag. Deactivating ends all their sessions."""
    user = await accounts.get_user(db, user_id=user_id)
    if user.id == admin.id and (body.role not in (None, Role.admin) or body.is_active is False):
        raise Conflict("an admin cannot demote or deactivate themselves")
    before = accounts.snapshot(user)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("role") is not None and (changes["role"] == Role.technician) != (
        user.role == Role.technician.value
    ):
        # A technician's account and their technician row are made together; a role changed
        # here alone would leave a technician nobody signs in as, or a user with no technician.
        raise Conflict("technicians are added and changed under /api/v1/admin/technicians")
    if "role" in changes and changes["role"] is not None:
        user.role = changes["role"].value
    if "name" in changes:
        user.name = changes["name"]
    if changes.get("is_active") is not None:
        user.is_active = changes["is_active"]
        if not user.is_active:
            await accounts.revoke_all_sessions(db, user_id=user.id, reason="deactivated")
    audit.record(
        db,
        actor_id=admin.id,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=accounts.snapshot(user),
    )
    await db.commit()
    await db.refresh(user)
    return AdminUserOut.model_validate(user)
