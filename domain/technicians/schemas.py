"""Inputs and outputs of the technicians API. Inputs forbid unknown fields at every level.

Rules about one field live here (a postal code's shape, working hours that overlap, a time zone
zoneinfo does not know); rules that need the database (an unknown skill, a phone another account
has) live in the service and raise `InvalidField` or `Conflict`.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from core.errors import FieldProblem
from domain.catalog.schemas import Slug
from domain.numbers import RequestNumber
from domain.technicians.models import Technician, TechnicianTimeOff
from domain.types import Email, Flag, Name, Phone, omit_null

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 4
DEFAULT_TIMEZONE = "Asia/Kolkata"
# Between the ends of a span of time (an en dash), as people write "09:00 to 18:00".
DASH = "\u2013"


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_nulls(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


def _unique(what: str) -> Any:
    def check(values: list[str]) -> list[str]:
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise ValueError(f"{what} {value!r} is listed twice")
            seen.add(value)
        return values

    return check


# --- zones --------------------------------------------------------------------------------------


def normalize_postal_code(value: str) -> str:
    """A postal code as zones store it: upper-case, no spaces ("560 001" and "560001" are one).
    Service requests normalise their address's code the same way before dispatch compares."""
    return re.sub(r"\s+", "", value).upper()


def _zone(value: str) -> str:
    code = normalize_postal_code(value)
    if not 3 <= len(code) <= 10:
        raise ValueError("a postal code has 3 to 10 letters, digits or hyphens (spaces ignored)")
    return code


PostalCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=3,
        max_length=10,
        # 3 to 10 letters, digits or hyphens; spaces between them do not count.
        pattern=r"^ *(?:[A-Za-z0-9\-] *){3,10}$",
    ),
    AfterValidator(_zone),
]
Zones = Annotated[
    list[PostalCode],
    Field(
        min_length=1,
        max_length=200,
        description="Postal codes served",
        json_schema_extra={"uniqueItems": True},
    ),
    AfterValidator(_unique("postal code")),
]
Skills = Annotated[
    list[Slug],
    Field(
        min_length=1,
        max_length=20,
        description="Slugs of the service categories they do",
        json_schema_extra={"uniqueItems": True},
    ),
    AfterValidator(_unique("category")),
]


# --- working hours ------------------------------------------------------------------------------

# "24:00" ends a day: hours up to midnight need no "23:59".
Clock = Annotated[
    str,
    StringConstraints(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$"),
    Field(description="HH:MM, 24-hour clock; 24:00 only as an end"),
]


def minutes(clock: str) -> int:
    """Minutes since midnight of an HH:MM time."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def _interval(value: tuple[str, str]) -> tuple[str, str]:
    start, end = value
    if minutes(start) >= minutes(end):
        raise ValueError(f"starts at {start}, not before it ends at {end}")
    return value


Interval = Annotated[tuple[Clock, Clock], AfterValidator(_interval)]


def _day(intervals: list[tuple[str, str]]) -> list[tuple[str, str]]:
    ordered = sorted(intervals, key=lambda i: minutes(i[0]))
    for earlier, later in pairwise(ordered):
        if minutes(later[0]) < minutes(earlier[1]):
            raise ValueError(
                f"{earlier[0]}{DASH}{earlier[1]} and {later[0]}{DASH}{later[1]} overlap; join them"
            )
    return ordered


Day = Annotated[
    list[Interval],
    Field(max_length=MAX_INTERVALS_PER_DAY, description="[start, end] pairs; none: a day off"),
    AfterValidator(_day),
]


class WorkingHours(In):
    """A week of working hours in the technician's time zone. A day left out is a day off; a
    day's intervals are kept in order."""

    mon: Day = []
    tue: Day = []
    wed: Day = []
    thu: Day = []
    fri: Day = []
    sat: Day = []
    sun: Day = []

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
                    "tue": [["09:00", "18:00"]],
                    "sat": [["10:00", "14:00"]],
                }
            ]
        },
    )


# --- time zones ---------------------------------------------------------------------------------


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_timezone(value: str) -> str:
    if value not in _zone_names():
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Asia/Kolkata)")
    return value


TimeZone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_known_timezone),
    Field(description="IANA time zone name of the working hours, e.g. Asia/Kolkata"),
]


# --- inputs -------------------------------------------------------------------------------------


class TechnicianIn(In):
    """A new technician and the account they sign in with (by a code sent to `phone`)."""

    name: Name
    phone: Phone
    email: Email | None = None
    skills: Skills
    zones: Zones
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    timezone: TimeZone = DEFAULT_TIMEZONE
    is_active: Flag = True

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Ravi Kumar",
                    "phone": "+919812345678",
                    "skills": ["plumbing", "electrical"],
                    "zones": ["560001", "560002"],
                    "working_hours": {
                        day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
                    },
                    "timezone": "Asia/Kolkata",
                }
            ]
        },
    )


class TechnicianUpdate(In):
    """What changes; fields left out stay. `working_hours` is the whole week (a day left out is
    a day off); `email: null` removes the email."""

    name: Name | None = Field(default=None, json_schema_extra=omit_null)
    phone: Phone | None = Field(default=None, json_schema_extra=omit_null)
    email: Email | None = None
    skills: Skills | None = Field(default=None, json_schema_extra=omit_null)
    zones: Zones | None = Field(default=None, json_schema_extra=omit_null)
    working_hours: WorkingHours | None = Field(default=None, json_schema_extra=omit_null)
    timezone: TimeZone | None = Field(default=None, json_schema_extra=omit_null)
    is_active: Flag | None = Field(default=None, json_schema_extra=omit_null)

    @field_validator(
        "name", "phone", "skills", "zones", "working_hours", "timezone", "is_active", mode="before"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _no_nulls(value)


MAX_TIME_OFF = timedelta(days=366)


class TimeOffIn(In):
    """A period the technician is away (leave, training, a sick day): dispatch offers them no
    visit that overlaps it. Instants with their offset; whole days are midnight to midnight."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = Field(default=None, description="What staff see beside it, e.g. annual leave")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "starts_at": "2026-12-24T00:00:00+05:30",
                    "ends_at": "2026-12-27T00:00:00+05:30",
                    "reason": "annual leave",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimeOffIn:
        if self.ends_at <= self.starts_at:
            raise FieldProblem("ends_at", "must be after starts_at")
        if self.ends_at - self.starts_at > MAX_TIME_OFF:
            raise FieldProblem("ends_at", "time off is at most 366 days at a time")
        return self


# --- outputs ------------------------------------------------------------------------------------


class SkillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str


class WorkingHoursOut(BaseModel):
    mon: list[tuple[str, str]]
    tue: list[tuple[str, str]]
    wed: list[tuple[str, str]]
    thu: list[tuple[str, str]]
    fri: list[tuple[str, str]]
    sat: list[tuple[str, str]]
    sun: list[tuple[str, str]]


class TimeOffOut(BaseModel):
    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    reason: str | None


class BookedVisit(BaseModel):
    """A visit the technician is booked for."""

    id: uuid.UUID
    number: RequestNumber
    window_start: datetime
    window_end: datetime


class TimeOffAdded(TimeOffOut):
    visits_booked: list[BookedVisit] = Field(
        description="Visits already booked in this time: give each to someone else"
    )


class TimeZoneOut(BaseModel):
    name: str = Field(description="The IANA name, what `timezone` takes")
    label: str = Field(description="The name with its offset now, e.g. Asia/Kolkata (UTC+05:30)")


def time_off_out(period: TechnicianTimeOff) -> TimeOffOut:
    assert period.during.lower is not None
    assert period.during.upper is not None
    return TimeOffOut(
        id=period.id,
        starts_at=period.during.lower,
        ends_at=period.during.upper,
        reason=period.reason,
    )


class TechnicianOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    phone: str
    email: str | None
    skills: list[SkillOut]
    zones: list[str]
    working_hours: WorkingHoursOut
    timezone: str
    is_active: bool
    time_off: list[TimeOffOut] = Field(description="Time off not over yet, the soonest first")
    created_at: datetime
    updated_at: datetime


def technician_out(technician: Technician) -> TechnicianOut:
    """The API's view of a technician loaded with its user and skills."""
    hours = technician.working_hours or {}
    return TechnicianOut(
        id=technician.id,
        user_id=technician.user_id,
        name=technician.name,
        phone=technician.phone,
        email=technician.user.email,
        skills=[SkillOut.model_validate(skill) for skill in technician.skills],
        zones=list(technician.zones),
        working_hours=WorkingHoursOut(
            **{day: [tuple(i) for i in hours.get(day, [])] for day in DAYS}
        ),
        timezone=technician.timezone,
        is_active=technician.is_active,
        time_off=[time_off_out(t) for t in technician.time_off],
        created_at=technician.created_at,
        updated_at=technician.updated_at,
    )
