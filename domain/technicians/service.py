"""Technicians: the people who do the visits, and the accounts they sign in with.

A technician is a `technicians` row and a `users` row with role `technician`, made together. The
account has no password: the technician signs in with a code sent by SMS to their phone
(`POST /auth/phone/start`, `/auth/phone/verify`), so their phone is their identity and stays the
same on both rows. Deactivating a technician takes them out of dispatch and out of their jobs
(the job routes answer 403; a job's photos and live status 404, as to anyone else); their
account stays usable (profile, sign-in), and reactivating gives the jobs back.

Keyword-only functions, the session first; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import LIKE_ESCAPE, contains, utcnow
from core.errors import Conflict, InvalidField, NotFound
from domain.accounts import service as accounts
from domain.accounts.models import Role, User
from domain.audit import service as audit
from domain.catalog.models import ServiceCategory
from domain.technicians.models import Technician, TechnicianTimeOff
from domain.technicians.schemas import (
    TechnicianIn,
    TechnicianUpdate,
    normalize_postal_code,
    technician_out,
)


def _with_parts() -> tuple[Any, ...]:
    """What a technician's view shows: the account, the skills, the time off not yet over."""
    upcoming = Technician.time_off.and_(func.upper(TechnicianTimeOff.during) > func.now())
    return (
        selectinload(Technician.user),
        selectinload(Technician.skills),
        selectinload(upcoming),
    )


def _loaded() -> Select[Technician]:
    return select(Technician).options(*_with_parts())


def _snapshot(technician: Technician) -> dict[str, Any]:
    return technician_out(technician).model_dump(mode="json", exclude={"created_at", "updated_at"})


async def _resolve_skills(
    db: AsyncSession, *, slugs: Sequence[str], field: str = "skills"
) -> list[ServiceCategory]:
    found = {
        c.slug: c
        for c in (
            await db.execute(select(ServiceCategory).where(ServiceCategory.slug.in_(slugs)))
        ).scalars()
    }
    for index, slug in enumerate(slugs):
        if slug not in found:
            raise InvalidField((field, index), f"no category with slug {slug!r}")
    # In the order the relationship loads them, so an unchanged list compares equal.
    return sorted((found[slug] for slug in slugs), key=lambda c: (c.display_order, c.name))


async def _ensure_contacts_free(
    db: AsyncSession, *, phone: str | None, email: str | None, except_user: uuid.UUID | None
) -> None:
    """Conflict naming the contact another account already has: the technician's account is
    their own, never a customer's or another technician's."""
    for column, value, label in ((User.phone, phone, "phone"), (User.email, email, "email")):
        if value is None:
            continue
        stmt = select(User.role).where(column == value)
        if except_user is not None:
            stmt = stmt.where(User.id != except_user)
        role = (await db.execute(stmt)).scalar_one_or_none()
        if role is not None:
            owner = "another technician" if role == Role.technician.value else "another account"
            raise Conflict(f"the {label} {value} already belongs to {owner}; give another {label}")


async def _flush_or_conflict(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent sign-up or edit took the contact meanwhile
        raise Conflict("that phone or email now belongs to another account; give another") from exc


async def create_technician(
    db: AsyncSession, *, data: TechnicianIn, actor_id: uuid.UUID | None
) -> Technician:
    """Add a technician with the account they sign in with (role technician, no password)."""
    skills = await _resolve_skills(db, slugs=data.skills)
    await _ensure_contacts_free(db, phone=data.phone, email=data.email, except_user=None)
    try:
        user = await accounts.create_user(
            db,
            email=data.email,
            phone=data.phone,
            password_hash=None,
            name=data.name,
            role=Role.technician,
        )
    except Conflict as exc:
        raise Conflict(f"{exc.detail}; give another phone or email") from exc
    technician = Technician(
        user_id=user.id,
        name=data.name,
        phone=data.phone,
        zones=data.zones,
        working_hours=data.working_hours.model_dump(),
        timezone=data.timezone,
        is_active=data.is_active,
        skills=skills,
    )
    db.add(technician)
    await _flush_or_conflict(db)
    technician = await get_technician(db, technician_id=technician.id, refresh=True)
    audit.record(
        db,
        actor_id=actor_id,
        action="technician.create",
        entity_type="technician",
        entity_id=technician.id,
        after=_snapshot(technician),
    )
    return technician


async def update_technician(
    db: AsyncSession,
    *,
    technician_id: uuid.UUID,
    data: TechnicianUpdate,
    actor_id: uuid.UUID | None,
) -> Technician:
    """Change a technician; their account's name, phone and email follow."""
    technician = await get_technician(db, technician_id=technician_id)
    user = technician.user
    changes = data.model_dump(exclude_unset=True)
    before = _snapshot(technician)
    await _ensure_contacts_free(
        db, phone=changes.get("phone"), email=changes.get("email"), except_user=user.id
    )
    if "skills" in changes:
        technician.skills = await _resolve_skills(db, slugs=changes["skills"])
    if "name" in changes:
        technician.name = user.name = changes["name"]
    if "phone" in changes and changes["phone"] != user.phone:
        # A new number is unproven until its owner signs in with a code sent to it.
        technician.phone = user.phone = changes["phone"]
        user.phone_verified_at = None
    if "email" in changes and changes["email"] != user.email:
        user.email, user.email_verified_at = changes["email"], None
    if "working_hours" in changes:
        assert data.working_hours is not None
        technician.working_hours = data.working_hours.model_dump()
    for key in ("zones", "timezone", "is_active"):
        if key in changes:
            setattr(technician, key, changes[key])
    if _snapshot(technician) == before:
        return technician
    technician.updated_at = utcnow()  # also when only the account's contacts changed
    await _flush_or_conflict(db)
    technician = await get_technician(db, technician_id=technician.id, refresh=True)
    audit.record(
        db,
        actor_id=actor_id,
        action="technician.update",
        entity_type="technician",
        entity_id=technician.id,
        before=before,
        after=_snapshot(technician),
    )
    return technician


async def get_technician(
    db: AsyncSession, *, technician_id: uuid.UUID, refresh: bool = False
) -> Technician:
    """A technician with their account and skills; NotFound if there is none."""
    stmt = _loaded().where(Technician.id == technician_id)
    if refresh:  # reload what a flush changed (updated_at, the skills' order)
        stmt = stmt.execution_options(populate_existing=True)
    technician = (await db.execute(stmt)).scalar_one_or_none()
    if technician is None:
        raise NotFound("technician not found")
    return technician


async def list_technicians(
    db: AsyncSession,
    *,
    active: bool | None = None,
    skill: str | None = None,
    zone: str | None = None,
    q: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Technician], int]:
    """Technicians by name, filtered by active flag, a skill's slug, a postal code or a search
    text (name, phone or email); with the total across pages."""
    stmt = select(Technician).join(User, User.id == Technician.user_id)
    if active is not None:
        stmt = stmt.where(Technician.is_active.is_(active))
    if skill:
        stmt = stmt.where(Technician.skills.any(ServiceCategory.slug == skill.strip().lower()))
    if zone:
        stmt = stmt.where(Technician.zones.contains([normalize_postal_code(zone)]))
    if q:
        like = contains(q.strip().lower())
        stmt = stmt.where(
            or_(
                func.lower(Technician.name).like(like, escape=LIKE_ESCAPE),
                Technician.phone.like(like, escape=LIKE_ESCAPE),
                User.email.like(like, escape=LIKE_ESCAPE),
            )
        )
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await db.execute(
            stmt.options(*_with_parts())
            .order_by(Technician.name, Technician.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return list(rows.all()), total


async def technician_for_user(db: AsyncSession, user_id: uuid.UUID) -> Technician | None:
    """The technician who signs in as this user (active or not), or None."""
    stmt = _loaded().where(Technician.user_id == user_id)
    return (await db.execute(stmt)).scalar_one_or_none()
