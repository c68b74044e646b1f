"""Technicians' time off: periods they are away. Dispatch (`dispatch`) offers them no visit that
overlaps one; the board shows them. Adding one that overlaps another is refused (join them
instead); a visit already booked in the period is named, for staff to give to someone else.
Every change is in the audit log.

Keyword-only functions, the session first; the caller commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from domain import timefmt
from domain.audit import service as audit
from domain.service_requests.models import RequestStatus, ServiceRequest
from domain.technicians.models import Technician, TechnicianTimeOff
from domain.technicians.schemas import (
    BookedVisit,
    TimeOffAdded,
    TimeOffIn,
    TimeZoneOut,
    time_off_out,
)

# Statuses of a visit that still needs its technician.
TO_DO = (RequestStatus.assigned.value, RequestStatus.in_progress.value)


def _snapshot(period: TechnicianTimeOff) -> dict[str, str | None]:
    view = time_off_out(period)
    return {
        "starts_at": view.starts_at.isoformat(),
        "ends_at": view.ends_at.isoformat(),
        "reason": view.reason,
    }


async def _technician(db: AsyncSession, technician_id: uuid.UUID) -> Technician:
    found = await db.get(Technician, technician_id)
    if found is None:
        raise NotFound("technician not found")
    return found


async def add_time_off(
    db: AsyncSession,
    *,
    technician_id: uuid.UUID,
    data: TimeOffIn,
    actor_id: uuid.UUID | None,
) -> TimeOffAdded:
    """Record a period the technician is away, with the visits already booked in it."""
    technician = await _technician(db, technician_id)
    during = Range(data.starts_at, data.ends_at, bounds="[)")
    clash = (
        await db.execute(
            select(TechnicianTimeOff)
            .where(
                TechnicianTimeOff.technician_id == technician.id,
                TechnicianTimeOff.during.overlaps(during),
            )
            .order_by(func.lower(TechnicianTimeOff.during))
            .limit(1)
        )
    ).scalar_one_or_none()
    if clash is not None:
        other = time_off_out(clash)
        raise Conflict(
            f"{technician.name} is away {timefmt.window(other.starts_at, other.ends_at)} already; "
            "change or remove that time off instead"
        )
    period = TechnicianTimeOff(
        technician_id=technician.id, during=during, reason=data.reason, created_by=actor_id
    )
    db.add(period)
    await db.flush()
    audit.record(
        db,
        actor_id=actor_id,
        action="technician.time_off.add",
        entity_type="technician",
        entity_id=technician.id,
        after=_snapshot(period),
    )
    booked = (
        await db.execute(
            select(
                ServiceRequest.id,
                ServiceRequest.number,
                ServiceRequest.window_start,
                ServiceRequest.window_end,
            )
            .where(
                ServiceRequest.technician_id == technician.id,
                ServiceRequest.status.in_(TO_DO),
                ServiceRequest.window_start < data.ends_at,
                ServiceRequest.window_end > data.starts_at,
            )
            .order_by(ServiceRequest.window_start)
        )
    ).all()
    return TimeOffAdded(
        **time_off_out(period).model_dump(),
        visits_booked=[
            BookedVisit(id=i, number=n, window_start=s, window_end=e) for i, n, s, e in booked
        ],
    )


async def remove_time_off(
    db: AsyncSession,
    *,
    technician_id: uuid.UUID,
    time_off_id: uuid.UUID,
    actor_id: uuid.UUID | None,
) -> None:
    """The technician is not away then after all (NotFound if no such period of theirs)."""
    period = (
        await db.execute(
            select(TechnicianTimeOff).where(
                TechnicianTimeOff.id == time_off_id,
                TechnicianTimeOff.technician_id == technician_id,
            )
        )
    ).scalar_one_or_none()
    if period is None:
        raise NotFound("no such time off of this technician")
    audit.record(
        db,
        actor_id=actor_id,
        action="technician.time_off.remove",
        entity_type="technician",
        entity_id=technician_id,
        before=_snapshot(period),
    )
    await db.delete(period)
    await db.flush()


def _offset(zone: ZoneInfo, at: datetime) -> str:
    delta = at.astimezone(zone).utcoffset()
    assert delta is not None
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


# One list per day asked (today's offsets), about 600 entries each: only the last two days are
# kept (today and, around midnight, yesterday), not one more every day the process lives.
@lru_cache(maxsize=2)
def _zones(day: str) -> list[TimeZoneOut]:
    from zoneinfo import available_timezones

    at = datetime.fromisoformat(f"{day}T12:00:00+00:00")
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith("Etc/"))
    return [
        TimeZoneOut(name=name, label=f"{name.replace('_', ' ')} ({_offset(ZoneInfo(name), at)})")
        for name in [*names, "UTC"]
    ]


# More than the time zone database names (about 600): the list is answered whole.
MAX_TIME_ZONES = 1000


def time_zones(now: datetime) -> list[TimeZoneOut]:
    """The zones a technician's hours may be in, by name, each with its offset today."""
    return _zones(now.date().isoformat())[:MAX_TIME_ZONES]
