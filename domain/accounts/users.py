"""Users: creating one, finding one (by id, sign-in identifier, outside identity), the profile a
user changes, contacts proven, and the admin's list.

Keyword-only functions, the session first. They raise `core.errors` exceptions, never HTTP ones.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import LIKE_ESCAPE, contains, utcnow
from core.errors import Conflict, NotFound
from domain.accounts.models import (
    Identity,
    Role,
    User,
)
from domain.accounts.schemas import UserUpdateMe
from domain.contracts import Channel
from domain.reports import rollups


async def create_user(
    db: AsyncSession,
    *,
    email: str | None,
    phone: str | None,
    password_hash: str | None,
    name: str | None = None,
    role: Role = Role.customer,
    email_verified_at: datetime | None = None,
    phone_verified_at: datetime | None = None,
) -> User:
    """Create a user; Conflict when the email or phone already belongs to an account."""
    await _ensure_contact_free(db, email=email, phone=phone)
    user = User(
        email=email,
        phone=phone,
        password_hash=password_hash,
        name=name,
        role=role.value,
        email_verified_at=email_verified_at,
        phone_verified_at=phone_verified_at,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("an account with that email or phone already exists") from exc
    if role != Role.technician:  # technicians are added by staff, not sign-ups
        await rollups.count_new_user(db, at=utcnow())
    return user


async def _ensure_contact_free(
    db: AsyncSession, *, email: str | None, phone: str | None, except_user: uuid.UUID | None = None
) -> None:
    for column, value, label in ((User.email, email, "email"), (User.phone, phone, "phone")):
        if value is None:
            continue
        stmt = select(User.id).where(column == value)
        if except_user is not None:
            stmt = stmt.where(User.id != except_user)
        if (await db.execute(stmt)).first() is not None:
            raise Conflict(f"an account with that {label} already exists")


async def get_user(db: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def find_by_identifier(db: AsyncSession, *, identifier: str) -> User | None:
    """The user whose email or phone is `identifier` (already normalised by the caller)."""
    column = User.email if "@" in identifier else User.phone
    return (await db.execute(select(User).where(column == identifier))).scalar_one_or_none()


async def update_me(db: AsyncSession, *, user: User, changes: UserUpdateMe) -> list[Channel]:
    """Apply a self-service profile change; returns the contacts that now need verifying."""
    data = changes.model_dump(exclude_unset=True)
    if user.role == Role.technician.value:
        # Both are on their technician row too, and the phone is how they sign in (they have
        # no password): admins change them, under /admin/technicians, keeping both in step.
        for key in ("name", "phone"):
            if key in data and data[key] != getattr(user, key):
                raise Conflict(f"a technician's {key} is changed by an admin")
    await _ensure_contact_free(
        db, email=data.get("email"), phone=data.get("phone"), except_user=user.id
    )
    to_verify: list[Channel] = []
    if "name" in data:
        user.name = data["name"]
    if "email" in data and data["email"] != user.email:
        if data["email"] is None and user.phone is None:
            raise Conflict("an account needs an email or a phone number")
        user.email, user.email_verified_at = data["email"], None
        if user.email:
            to_verify.append(Channel.email)
    if "phone" in data and data["phone"] != user.phone:
        if data["phone"] is None and user.email is None:
            raise Conflict("an account needs an email or a phone number")
        user.phone, user.phone_verified_at = data["phone"], None
        if user.phone:
            to_verify.append(Channel.phone)
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict("an account with that email or phone already exists") from exc
    return to_verify


async def mark_contact_verified(
    db: AsyncSession, *, user_id: uuid.UUID, channel: Channel, destination: str, at: datetime
) -> bool:
    """Mark the contact verified if it is still the account's; idempotent."""
    if channel == Channel.email:
        stmt = (
            update(User)
            .where(User.id == user_id, User.email == destination)
            .values(email_verified_at=func.coalesce(User.email_verified_at, at))
        )
    else:
        stmt = (
            update(User)
            .where(User.id == user_id, User.phone == destination)
            .values(phone_verified_at=func.coalesce(User.phone_verified_at, at))
        )
    result = await db.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def link_identity(db: AsyncSession, *, user: User, provider: str, subject: str) -> None:
    """Link an external identity to the user; a concurrent first sign-in is a no-op."""
    await db.execute(
        pg_insert(Identity)
        .values(id=uuid.uuid4(), user_id=user.id, provider=provider, subject=subject)
        .on_conflict_do_nothing(index_elements=["provider", "subject"])
    )


async def find_by_identity(db: AsyncSession, *, provider: str, subject: str) -> User | None:
    stmt = (
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.provider == provider, Identity.subject == subject)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def list_users(
    db: AsyncSession, *, role: Role | None, query: str | None, limit: int, offset: int
) -> tuple[list[User], int]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    if query:
        like = contains(query.lower())
        stmt = stmt.where(
            func.lower(User.name).like(like, escape=LIKE_ESCAPE)
            | User.email.like(like, escape=LIKE_ESCAPE)
            | User.phone.like(like, escape=LIKE_ESCAPE)
        )
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await db.execute(
                stmt.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset)
            )
        )
        .scalars()
        .all()
    )
    return list(rows), total


def snapshot(user: User) -> dict[str, Any]:
    """The fields of a user that an audit entry records."""
    return {"role": user.role, "is_active": user.is_active, "name": user.name}
