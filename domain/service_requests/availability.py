"""The visit windows a customer can choose from: the day's slots (REQUEST_SLOTS, wall-clock
times in the business's zone), each marked free when at least one active technician who does the
category, serves the postal code and works then has no other booking over it. The request is
still checked against the bookings when it is assigned: a slot free now may be taken meanwhile.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain import timefmt
from domain.technicians import dispatch


class FreeWindow(BaseModel):
    start: datetime
    end: datetime
    free: bool = Field(description="A technician can come then (checked again when assigned)")
    label: str = Field(
        description="The window in the business's zone, e.g. Sat 12 Dec, 09:00-12:00 IST"
    )


def slots(settings: Settings) -> list[tuple[time, time]]:
    """REQUEST_SLOTS as (start, end) wall-clock times: `09:00-12:00,12:00-15:00`."""
    out = []
    for part in settings.request_slots.split(","):
        start, end = part.strip().split("-")
        out.append((time.fromisoformat(start), time.fromisoformat(end)))
    return out


async def free_windows(
    db: AsyncSession,
    *,
    category_id: uuid.UUID,
    postal_code: str,
    day: date,
    now: datetime,
    settings: Settings,
) -> list[FreeWindow]:
    """The day's slots a customer may still ask for (far enough ahead, not too far), each with
    whether someone can come."""
    zone = timefmt.zone()
    earliest = now + timedelta(minutes=settings.request_min_notice_minutes)
    latest = now + timedelta(days=settings.request_max_days_ahead)
    out = []
    for a, b in slots(settings):
        start = datetime.combine(day, a, tzinfo=zone)
        end = datetime.combine(day, b, tzinfo=zone)
        if start < earliest or start > latest:
            continue
        facts = dispatch.RequestFacts(
            request_id=uuid.uuid4(),  # no request yet: nothing of its own to exclude
            category_id=category_id,
            postal_code=postal_code,
            window_start=start,
            window_end=end,
        )
        fits = await dispatch.suggest(db, facts=facts, limit=1)
        out.append(
            FreeWindow(
                start=facts.window_start,
                end=facts.window_end,
                free=bool(fits) and fits[0].eligible,
                label=timefmt.window(start, end),
            )
        )
    return out
