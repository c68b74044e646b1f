"""When the support line answers: the week of `SUPPORT_HOURS` in `SUPPORT_TIMEZONE`, and whether
it is open at a given moment. No clock of its own: the caller passes `now`, so a test can ask
about any moment.

Hours are wall-clock times in the support time zone, so a change of summer time moves them in UTC
as people expect. Hours that run past midnight are written as two days' hours ("sat 20:00-24:00,
sun 00:00-02:00"); they join into one stretch, so `closes_at` is the real closing time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.settings import WEEKDAYS, Week

# Far enough to reach the next opening of any week with at least one open hour.
_DAYS_AHEAD = 8


@dataclass(frozen=True)
class OpeningState:
    open_now: bool
    closes_at: datetime | None  # when open: when it closes (UTC); None: open around the clock
    opens_at: datetime | None  # when closed: when it next opens (UTC); None: it never does


def _at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    if clock == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
    hours, minutes = clock.split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=zone).astimezone(UTC)


def _stretches(week: Week, zone: ZoneInfo, around: date) -> list[tuple[datetime, datetime]]:
    """The open stretches from the day before `around` to a week after, in UTC, joined where one
    ends as the next begins."""
    spans = []
    for offset in range(-1, _DAYS_AHEAD + 1):
        day = around + timedelta(days=offset)
        for opens, closes in week.get(WEEKDAYS[day.weekday()], []):
            spans.append((_at(day, opens, zone), _at(day, closes, zone)))
    spans.sort()
    joined: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def opening_state(week: Week, zone: ZoneInfo, now: datetime) -> OpeningState:
    """Whether support is open at `now` (an aware datetime), and when that changes."""
    local_day = now.astimezone(zone).date()
    horizon = _at(local_day + timedelta(days=_DAYS_AHEAD), "24:00", zone)
    for start, end in _stretches(week, zone, local_day):
        if start <= now < end:
            closes = end if end < horizon else None  # open to the end of what we look at
            return OpeningState(open_now=True, closes_at=closes, opens_at=None)
        if start > now:
            return OpeningState(open_now=False, closes_at=None, opens_at=start)
    return OpeningState(open_now=False, closes_at=None, opens_at=None)
