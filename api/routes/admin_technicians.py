"""Staff: the technicians who do the visits. Support may read; admins add and change them (their
details, hours, time off), each change in the audit log. Adding a technician makes the account
they sign in with (role `technician`, by a code sent to their phone). The time zones their hours
may be in, for a list to choose from."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import AdminUser, NowDep, SessionDep, StaffUser
from api.pagination import StaffPage, at_most
from api.problems import problems
from domain.technicians import service as technicians
from domain.technicians import time_off
from domain.technicians.schemas import (
    TechnicianIn,
    TechnicianOut,
    TechnicianUpdate,
    TimeOffAdded,
    TimeOffIn,
    TimeZoneOut,
    technician_out,
)
from domain.types import Page

router = APIRouter(prefix="/admin", tags=["admin: technicians"])


@router.get("/technicians", response_model=Page[TechnicianOut])
async def list_technicians(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    active: bool | None = None,
    skill: Annotated[str | None, Query(max_length=80, description="A category's slug")] = None,
    zone: Annotated[str | None, Query(max_length=20, description="A postal code served")] = None,
    q: Annotated[str | None, Query(max_length=100, description="name, phone or email")] = None,
) -> Page[TechnicianOut]:
    """Technicians by name, filtered by active flag, skill, postal code or a search text."""
    rows, total = await technicians.list_technicians(
        db, active=active, skill=skill, zone=zone, q=q, limit=page.limit, offset=page.offset
    )
    return Page[TechnicianOut](
        items=[technician_out(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/technicians",
    response_model=TechnicianOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def create_technician(body: TechnicianIn, admin: AdminUser, db: SessionDep) -> TechnicianOut:
    """Add a technician and the account they sign in with (by a code sent to their phone)."""
    technician = await technicians.create_technician(db, data=body, actor_id=admin.id)
    await db.commit()
    return technician_out(technician)


@router.get("/technicians/{technician_id}", response_model=TechnicianOut, responses=problems(404))
async def read_technician(
    technician_id: uuid.UUID, _staff: StaffUser, db: SessionDep
) -> TechnicianOut:
    """One technician."""
    return technician_out(await technicians.get_technician(db, technician_id=technician_id))


@router.patch(
    "/technicians/{technician_id}", response_model=TechnicianOut, responses=problems(404, 409)
)
async def update_technician(
    technician_id: uuid.UUID, body: TechnicianUpdate, admin: AdminUser, db: SessionDep
) -> TechnicianOut:
    """Change a technician (their account's name, phone and email follow). Deactivated, they
    get no new visits; they can still sign in and see the jobs they had."""
    technician = await technicians.update_technician(
        db, technician_id=technician_id, data=body, actor_id=admin.id
    )
    await db.commit()
    return technician_out(technician)


@router.post(
    "/technicians/{technician_id}/time-off",
    response_model=TimeOffAdded,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409),
)
async def add_time_off(
    technician_id: uuid.UUID, body: TimeOffIn, admin: AdminUser, db: SessionDep
) -> TimeOffAdded:
    """Record a period the technician is away: they are offered no visit then. The answer names
    the visits already booked in it, to give to someone else. Refused when it overlaps time off
    they have already."""
    added = await time_off.add_time_off(
        db, technician_id=technician_id, data=body, actor_id=admin.id
    )
    await db.commit()
    return added


@router.delete(
    "/technicians/{technician_id}/time-off/{time_off_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404),
)
async def remove_time_off(
    technician_id: uuid.UUID, time_off_id: uuid.UUID, admin: AdminUser, db: SessionDep
) -> None:
    """Remove a period of time off: the technician can be offered visits then again."""
    await time_off.remove_time_off(
        db, technician_id=technician_id, time_off_id=time_off_id, actor_id=admin.id
    )
    await db.commit()


@router.get("/time-zones", response_model=at_most(TimeZoneOut, time_off.MAX_TIME_ZONES))
async def time_zones(_staff: StaffUser, now: NowDep) -> list[TimeZoneOut]:
    """The time zones a technician's working hours may be in, by name, with today's offsets."""
    return time_off.time_zones(now)
