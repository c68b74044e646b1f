"""Dispatch: who can take a service request's visit, ranked with their reasons, and holding the
chosen technician for the visit's window.

What `ServiceRequestWorkflow`'s activities and the admin API call. A request is described by
`RequestFacts`; each technician's fit by `Fit` (JSON-able: the dispatch log keeps it). A
technician can take a visit when they are active, do its category, serve its postal code, work
the whole window (their hours are in their own time zone; the window is converted; `hours` does
that arithmetic), have no time off and no other booking overlapping it. `book` checks all of that
and leaves the last word on overlaps to the database: the exclusion constraint
`technician_bookings_no_overlap` refuses a second booking of one technician in an overlapping
window, so two concurrent bookings never both succeed.

Keyword-only functions, the session first; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.errors import Conflict, NotFound
from domain.catalog.models import ServiceCategory
from domain.technicians.hours import hours_summary, span, works_during
from domain.technicians.hours import zone as zone_named
from domain.technicians.models import Technician, TechnicianBooking, TechnicianTimeOff
from domain.technicians.schemas import normalize_postal_code

NO_OVERLAP = "technician_bookings_no_overlap"
# Load is counted over the seven days centred on the visit, so a visit early in a calendar week
# is not ranked as if the technician had nothing to do that week.
LOAD_SPAN = timedelta(days=7)

# Points of the score (out of 100); see `suggest`.
ZONE_POINTS = 40.0
HOURS_POINTS = 20.0
FREE_POINTS = 20.0
LOAD_POINTS = 20.0


@dataclass(frozen=True)
class RequestFacts:
    """What dispatch needs to know about a service request. The postal code is normalised like
    zones (upper-case, no spaces) and the window converted to UTC when made."""

    request_id: uuid.UUID
    category_id: uuid.UUID
    postal_code: str
    window_start: datetime
    window_end: datetime

    def __post_init__(self) -> None:
        if self.window_start.tzinfo is None or self.window_end.tzinfo is None:
            raise ValueError("a request's window needs time-zone-aware times")
        if self.window_end <= self.window_start:
            raise ValueError("a request's window must end after it starts")
        object.__setattr__(self, "postal_code", normalize_postal_code(self.postal_code))
        object.__setattr__(self, "window_start", self.window_start.astimezone(UTC))
        object.__setattr__(self, "window_end", self.window_end.astimezone(UTC))

    @property
    def during(self) -> Range[datetime]:
        return Range(self.window_start, self.window_end, bounds="[)")


class Fit(BaseModel):
    """How well one technician fits one request: eligible when there are no problems."""

    model_config = ConfigDict(frozen=True)

    technician_id: uuid.UUID
    name: str
    eligible: bool
    score: float
    reasons: list[str]
    problems: list[str]


class NotBookable(Conflict):
    """The technician cannot take the visit; `problems` are worded as in `Fit.problems`."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        super().__init__(f"{name} cannot take this visit: {'; '.join(problems)}")
        self.problems = list(problems)


# --- assessing ----------------------------------------------------------------------------------


@dataclass
class _Assessment:
    reasons: list[str] = field(default_factory=list)
    # By kind, so a moved booking can be refused for its time alone.
    problems: dict[str, list[str]] = field(default_factory=dict)
    score: float = 0.0

    def problem(self, kind: str, text: str) -> None:
        self.problems.setdefault(kind, []).append(text)

    def all_problems(self, *kinds: str) -> list[str]:
        chosen = kinds or ("active", "skill", "zone", "hours", "away", "booked")
        return [text for kind in chosen for text in self.problems.get(kind, [])]


def _jobs(count: int) -> str:
    if count == 0:
        return "no jobs booked in the week around the visit"
    return f"{count} job{'s' if count != 1 else ''} booked in the week around the visit"


def _assess(
    technician: Technician,
    facts: RequestFacts,
    *,
    category_name: str,
    clashes: Sequence[tuple[datetime, datetime]],
    away: Sequence[tuple[datetime, datetime, str | None]],
    load: int,
) -> _Assessment:
    tz = zone_named(technician.timezone)
    out = _Assessment()
    if not technician.is_active:
        out.problem("active", "inactive")
    skill = next((c for c in technician.skills if c.id == facts.category_id), None)
    if skill is not None:
        out.reasons.append(f"knows {skill.name}")
    else:
        out.problem("skill", f"does not do {category_name}")
    if facts.postal_code in technician.zones:
        out.reasons.append(f"serves {facts.postal_code}")
        out.score += ZONE_POINTS
    else:
        out.problem("zone", f"does not serve {facts.postal_code}")
    working = works_during(technician.working_hours, tz, facts.window_start, facts.window_end)
    for start, end, why in away:
        working = False
        out.problem("away", f"away {span(start, end, tz)}" + (f" ({why})" if why else ""))
    if working:
        out.score += HOURS_POINTS
    elif not away:
        week = hours_summary(technician.working_hours)
        zone = facts.window_start.astimezone(tz).tzname()
        out.problem(
            "hours",
            f"not working then (works {week} {zone})"
            if week
            else "not working then (no working hours set)",
        )
    if not clashes:
        out.score += FREE_POINTS
        if working:
            out.reasons.append(f"free {span(facts.window_start, facts.window_end, tz)}")
    for start, end in clashes:
        out.problem("booked", f"booked {span(start, end, tz)} for another visit")
    out.reasons.append(_jobs(load))
    out.score = round(out.score + LOAD_POINTS / (1 + load), 2)
    return out


def _fit(technician: Technician, assessment: _Assessment) -> Fit:
    problems = assessment.all_problems()
    return Fit(
        technician_id=technician.id,
        name=technician.name,
        eligible=not problems,
        score=assessment.score,
        reasons=assessment.reasons,
        problems=problems,
    )


def _ends(during: Range[datetime]) -> tuple[datetime, datetime]:
    # Bookings are always bounded: `during` is made from a request's window.
    assert during.lower is not None
    assert during.upper is not None
    return during.lower, during.upper


async def _clashes(
    db: AsyncSession, *, technician_ids: Sequence[uuid.UUID], facts: RequestFacts
) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
    """Other requests' bookings of these technicians that overlap the request's window."""
    stmt = (
        select(TechnicianBooking.technician_id, TechnicianBooking.during)
        .where(
            TechnicianBooking.technician_id.in_(technician_ids),
            TechnicianBooking.during.overlaps(facts.during),
            TechnicianBooking.request_id != facts.request_id,
        )
        .order_by(func.lower(TechnicianBooking.during))
    )
    found: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for technician_id, during in await db.execute(stmt):
        found.setdefault(technician_id, []).append(_ends(during))
    return found


async def _away(
    db: AsyncSession, *, technician_ids: Sequence[uuid.UUID], facts: RequestFacts
) -> dict[uuid.UUID, list[tuple[datetime, datetime, str | None]]]:
    """These technicians' time off that overlaps the request's window."""
    stmt = (
        select(TechnicianTimeOff.technician_id, TechnicianTimeOff.during, TechnicianTimeOff.reason)
        .where(
            TechnicianTimeOff.technician_id.in_(technician_ids),
            TechnicianTimeOff.during.overlaps(facts.during),
        )
        .order_by(func.lower(TechnicianTimeOff.during))
    )
    found: dict[uuid.UUID, list[tuple[datetime, datetime, str | None]]] = {}
    for technician_id, during, reason in await db.execute(stmt):
        found.setdefault(technician_id, []).append((*_ends(during), reason))
    return found


async def _loads(
    db: AsyncSession,
    *,
    technician_ids: Sequence[uuid.UUID],
    around: datetime,
    except_request: uuid.UUID | None = None,
) -> dict[uuid.UUID, int]:
    span = Range(around - LOAD_SPAN / 2, around + LOAD_SPAN / 2, bounds="[)")
    stmt = (
        select(TechnicianBooking.technician_id, func.count())
        .where(
            TechnicianBooking.technician_id.in_(technician_ids),
            TechnicianBooking.during.overlaps(span),
        )
        .group_by(TechnicianBooking.technician_id)
    )
    if except_request is not None:
        stmt = stmt.where(TechnicianBooking.request_id != except_request)
    return {technician_id: count for technician_id, count in await db.execute(stmt)}


async def _category_name(db: AsyncSession, category_id: uuid.UUID) -> str:
    name = (
        await db.execute(select(ServiceCategory.name).where(ServiceCategory.id == category_id))
    ).scalar_one_or_none()
    return name or "this kind of service"


async def _assess_all(
    db: AsyncSession, *, technicians: Sequence[Technician], facts: RequestFacts
) -> list[_Assessment]:
    """Every technician's assessment, in four queries whatever their number."""
    ids = [t.id for t in technicians]
    category_name = await _category_name(db, facts.category_id)
    clashes = await _clashes(db, technician_ids=ids, facts=facts)
    away = await _away(db, technician_ids=ids, facts=facts)
    loads = await _loads(
        db, technician_ids=ids, around=facts.window_start, except_request=facts.request_id
    )
    return [
        _assess(
            t,
            facts,
            category_name=category_name,
            clashes=clashes.get(t.id, []),
            away=away.get(t.id, []),
            load=loads.get(t.id, 0),
        )
        for t in technicians
    ]


async def _technician(db: AsyncSession, technician_id: uuid.UUID) -> Technician:
    technician = (
        await db.execute(
            select(Technician)
            .options(selectinload(Technician.skills))
            .where(Technician.id == technician_id)
        )
    ).scalar_one_or_none()
    if technician is None:
        raise NotFound("technician not found")
    return technician


# --- the interface ------------------------------------------------------------------------------


async def fitness(db: AsyncSession, *, technician_id: uuid.UUID, facts: RequestFacts) -> Fit:
    """How one technician fits the request, with the reasons and problems (NotFound if none)."""
    technician = await _technician(db, technician_id)
    (assessment,) = await _assess_all(db, technicians=[technician], facts=facts)
    return _fit(technician, assessment)


async def suggest(
    db: AsyncSession,
    *,
    facts: RequestFacts,
    limit: int = 10,
    excluding: uuid.UUID | None = None,
) -> list[Fit]:
    """Active technicians who do the request's category, best first, each with its reasons.

    Eligible technicians (no problems) come first, then by score, then by name. The score is out
    of 100: 40 for serving the postal code, 20 for working the whole window (in their time zone),
    20 for having no other booking overlapping it, and up to 20 for a light load: 20 / (1 + n)
    for n jobs booked in the seven days centred on the visit (20 with none, 10 with one, 6.67
    with two...). An eligible technician therefore always scores 80 or more; the load orders
    the eligible among themselves. Technicians outside the zone, busy or away (time off) are
    still listed (with their problems), so an admin sees why nobody fits. `excluding`: one
    technician left out (the one a reassignment moves the visit from).
    """
    if limit < 1:
        return []
    technicians = (
        (
            await db.execute(
                select(Technician)
                .options(selectinload(Technician.skills))
                .where(
                    Technician.is_active.is_(True),
                    Technician.skills.any(ServiceCategory.id == facts.category_id),
                    *([Technician.id != excluding] if excluding is not None else []),
                )
            )
        )
        .scalars()
        .all()
    )
    assessments = await _assess_all(db, technicians=technicians, facts=facts)
    fits = [_fit(t, a) for t, a in zip(technicians, assessments, strict=True)]
    fits.sort(key=lambda f: (not f.eligible, -f.score, f.name, str(f.technician_id)))
    return fits[:limit]


async def _booking(
    db: AsyncSession, *, request_id: uuid.UUID, for_update: bool = False
) -> tuple[uuid.UUID, datetime, datetime] | None:
    stmt = select(TechnicianBooking.technician_id, TechnicianBooking.during).where(
        TechnicianBooking.request_id == request_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    row = (await db.execute(stmt)).first()
    return None if row is None else (row[0], *_ends(row[1]))


def _same_window(booking: tuple[uuid.UUID, datetime, datetime] | None, facts: RequestFacts) -> bool:
    return (
        booking is not None and booking[1] == facts.window_start and booking[2] == facts.window_end
    )


async def _hold(
    db: AsyncSession, *, facts: RequestFacts, technician: Technician, stmt: Any
) -> None:
    """Run the insert or update of the request's booking; an overlap the constraint refuses is a
    NotBookable naming the booking that won."""
    try:
        async with db.begin_nested():
            await db.execute(stmt)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint != NO_OVERLAP:
            raise
        # The other booking committed before ours was refused, so this read sees it.
        clashes = (await _clashes(db, technician_ids=[technician.id], facts=facts)).get(
            technician.id, []
        )
        tz = zone_named(technician.timezone)
        problems = [f"booked {span(s, e, tz)} for another visit" for s, e in clashes]
        raise NotBookable(technician.name, problems or ["booked for another visit then"]) from exc


async def book(db: AsyncSession, *, facts: RequestFacts, technician_id: uuid.UUID) -> None:
    """Hold the technician for the request's window (moving the request's booking from another
    technician); NotBookable (a Conflict) with the problems if they cannot take it."""
    current = await _booking(db, request_id=facts.request_id, for_update=True)
    if current is not None and current[0] == technician_id and _same_window(current, facts):
        return  # booked already: a retried activity changes nothing
    technician = await _technician(db, technician_id)
    (assessment,) = await _assess_all(db, technicians=[technician], facts=facts)
    problems = assessment.all_problems()
    if problems:
        raise NotBookable(technician.name, problems)
    values = {"technician_id": technician.id, "during": facts.during}
    stmt = (
        pg_insert(TechnicianBooking)
        .values(request_id=facts.request_id, **values)
        .on_conflict_do_update(index_elements=[TechnicianBooking.request_id], set_=values)
    )
    await _hold(db, facts=facts, technician=technician, stmt=stmt)


async def move_booking(db: AsyncSession, *, facts: RequestFacts) -> None:
    """The request's window changed: its booking (if any) follows; NotBookable if the technician
    does not work or is booked then."""
    current = await _booking(db, request_id=facts.request_id, for_update=True)
    if current is None or _same_window(current, facts):
        return
    technician = await _technician(db, current[0])
    (assessment,) = await _assess_all(db, technicians=[technician], facts=facts)
    # Only the time changed: the skill, the zone and the active flag were checked at booking.
    problems = assessment.all_problems("hours", "away", "booked")
    if problems:
        raise NotBookable(technician.name, problems)
    stmt = (
        update(TechnicianBooking)
        .where(TechnicianBooking.request_id == facts.request_id)
        .values(during=facts.during)
    )
    await _hold(db, facts=facts, technician=technician, stmt=stmt)


async def release_booking(db: AsyncSession, *, request_id: uuid.UUID) -> None:
    """The request was cancelled or unassigned: its technician is free again (idempotent)."""
    await db.execute(delete(TechnicianBooking).where(TechnicianBooking.request_id == request_id))


async def load(db: AsyncSession, *, technician_id: uuid.UUID, around: datetime) -> int:
    """Jobs booked for the technician in the seven days centred on `around`."""
    loads = await _loads(db, technician_ids=[technician_id], around=around)
    return loads.get(technician_id, 0)
