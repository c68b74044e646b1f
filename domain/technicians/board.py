"""The dispatch board: a day or a week of business days (midnight to midnight in the business's
zone), and for each active technician the stretches they work (their weekly hours, in their own
zone, made instants), the time off they have then and the visits they are booked for; beside it
the queue of visits nobody has yet (pending, the soonest first: those already late lead).

Instants are ISO 8601; screens format them in the business's zone. A few queries whatever the
number of technicians; the caller formats nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain import timefmt
from domain.accounts.models import User
from domain.catalog.models import ServiceCategory
from domain.numbers import RequestNumber
from domain.orders.cart import address_line
from domain.service_requests.models import RequestStatus, ServiceRequest
from domain.technicians.hours import hours_summary, stretches, zone
from domain.technicians.models import Technician, TechnicianTimeOff

# At most this many visits in the queue (the total says how many more there are).
QUEUE_LIMIT = 100
# At most this many technicians on one board.
TECHNICIAN_LIMIT = 200


class BoardVisit(BaseModel):
    id: uuid.UUID
    number: RequestNumber
    status: RequestStatus
    category: str = Field(description="What the visit is for, by name")
    customer_name: str | None
    customer_phone: str | None = Field(description="To call them (a tel: link on screens)")
    address: str
    postal_code: str
    description: str
    window_start: datetime
    window_end: datetime
    escalated: bool = Field(description="Not assigned in time")
    overdue: bool = Field(description="Not completed by the end of its window and a margin")
    technician_id: uuid.UUID | None


class Stretch(BaseModel):
    start: datetime
    end: datetime


class Away(Stretch):
    id: uuid.UUID
    reason: str | None


class BoardTechnician(BaseModel):
    id: uuid.UUID
    name: str
    phone: str
    timezone: str
    hours: str = Field(description="Their week in a few words, in their zone: Mon-Fri 09:00-18:00")
    skills: list[str] = Field(description="The categories they do, by name")
    zones: list[str]
    working: list[Stretch] = Field(description="When they work within the board's days")
    away: list[Away] = Field(description="Their time off within the board's days")
    visits: list[BoardVisit] = Field(description="Booked visits within the board's days")


class BoardDay(BaseModel):
    date: date
    label: str = Field(description="The day as people read it: Sat 12 Dec 2026")
    starts_at: datetime
    ends_at: datetime


class Board(BaseModel):
    zone: str = Field(description="The business's time zone, which the days are in")
    days: list[BoardDay]
    starts_at: datetime
    ends_at: datetime
    technicians: list[BoardTechnician]
    unassigned: list[BoardVisit] = Field(
        description="Visits nobody has yet that start before the board ends, the soonest first"
    )
    unassigned_total: int


def _visits(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.add_columns(ServiceCategory.name, User.name, User.phone)
        .join(ServiceCategory, ServiceCategory.id == ServiceRequest.category_id)
        .join(User, User.id == ServiceRequest.user_id)
        .order_by(ServiceRequest.window_start, ServiceRequest.id)
    )


def _visit(r: ServiceRequest, category: str, name: str | None, phone: str | None) -> BoardVisit:
    return BoardVisit(
        id=r.id,
        number=r.number,
        status=RequestStatus(r.status),
        category=category,
        customer_name=name,
        customer_phone=phone,
        address=address_line(r.address) or r.postal_code,
        postal_code=r.postal_code,
        description=r.description,
        window_start=r.window_start,
        window_end=r.window_end,
        escalated=r.escalated,
        overdue=r.overdue,
        technician_id=r.technician_id,
    )


def _days(first: date, count: int) -> list[BoardDay]:
    tz = timefmt.zone()
    out = []
    for n in range(count):
        day = first + timedelta(days=n)
        starts = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        out.append(BoardDay(date=day, label=timefmt.day(day), starts_at=starts, ends_at=ends))
    return out


async def _time_off(
    db: AsyncSession, ids: Sequence[uuid.UUID], during: Range[datetime]
) -> dict[uuid.UUID, list[Away]]:
    found: dict[uuid.UUID, list[Away]] = {}
    rows = await db.execute(
        select(TechnicianTimeOff)
        .where(TechnicianTimeOff.technician_id.in_(ids), TechnicianTimeOff.during.overlaps(during))
        .order_by(func.lower(TechnicianTimeOff.during))
    )
    for period in rows.scalars():
        assert period.during.lower is not None
        assert period.during.upper is not None
        found.setdefault(period.technician_id, []).append(
            Away(
                id=period.id,
                start=period.during.lower,
                end=period.during.upper,
                reason=period.reason,
            )
        )
    return found


async def board(db: AsyncSession, *, first: date, days: int) -> Board:
    """The board of `days` business days from `first`."""
    shown = _days(first, days)
    start, end = shown[0].starts_at, shown[-1].ends_at
    technicians = (
        (
            await db.execute(
                select(Technician)
                .options(selectinload(Technician.skills))
                .where(Technician.is_active.is_(True))
                .order_by(Technician.name, Technician.id)
                .limit(TECHNICIAN_LIMIT)
            )
        )
        .scalars()
        .all()
    )
    ids = [t.id for t in technicians]
    away = await _time_off(db, ids, Range(start, end, bounds="[)"))
    booked: dict[uuid.UUID, list[BoardVisit]] = {}
    for r, category, name, phone in await db.execute(
        _visits(
            select(ServiceRequest).where(
                ServiceRequest.technician_id.in_(ids),
                ServiceRequest.status != RequestStatus.cancelled.value,
                ServiceRequest.window_start < end,
                ServiceRequest.window_end > start,
            )
        )
    ):
        booked.setdefault(r.technician_id, []).append(_visit(r, category, name, phone))
    waiting = select(ServiceRequest).where(
        ServiceRequest.status == RequestStatus.pending.value, ServiceRequest.window_start < end
    )
    total = (await db.execute(select(func.count()).select_from(waiting.subquery()))).scalar_one()
    queue = [_visit(*row) for row in await db.execute(_visits(waiting).limit(QUEUE_LIMIT))]
    return Board(
        zone=timefmt.zone().key,
        days=shown,
        starts_at=start,
        ends_at=end,
        technicians=[
            BoardTechnician(
                id=t.id,
                name=t.name,
                phone=t.phone,
                timezone=t.timezone,
                hours=hours_summary(t.working_hours),
                skills=[c.name for c in t.skills],
                zones=list(t.zones),
                working=[
                    Stretch(start=a, end=b)
                    for a, b in stretches(t.working_hours, zone(t.timezone), start, end)
                ],
                away=away.get(t.id, []),
                visits=booked.get(t.id, []),
            )
            for t in technicians
        ],
        unassigned=queue,
        unassigned_total=total,
    )
