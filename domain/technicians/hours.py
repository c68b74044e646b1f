"""Working hours as time: whether a window lies within a technician's hours, the week in a few
words, and the stretches they work between two instants (what the dispatch board draws).

Hours are wall-clock times in the technician's own zone (`{"mon": [["09:00", "18:00"]], ...}`;
"24:00" ends a day), so a day's stretch is found on that zone's calendar and then made an instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from domain import timefmt
from domain.technicians.schemas import DASH, DAYS, minutes

DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """A span in the technician's time zone: "Sat 5 Dec, 10:00-12:00 IST" (an en dash)."""
    return timefmt.window(start, end, tz)


def _end_of_day(start: datetime, end: datetime) -> bool:
    """`end` is the midnight that ends `start`'s day (shown as 24:00)."""
    return end.date() == start.date() + timedelta(days=1) and end.time() == datetime.min.time()


def merged(intervals: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """A day's intervals in minutes, touching ones joined (09-13 and 13-18 work 09-18)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted((minutes(s), minutes(e)) for s, e in intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _seconds(moment: datetime) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def works_during(hours: dict[str, Any], tz: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether the window lies within one stretch of working hours of one local day; a window
    that spans days, or falls partly outside the hours, is not."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() == b.date():
        until = _seconds(b)
    elif _end_of_day(a, b):
        until = 24 * 3600
    else:
        return False
    since = _seconds(a)
    return any(
        s * 60 <= since and until <= e * 60 for s, e in merged(hours.get(DAYS[a.weekday()], []))
    )


def hours_summary(hours: dict[str, Any]) -> str:
    """The week's hours in a few words: "Mon-Fri 09:00-18:00, Sat 10:00-14:00"
    (with en dashes)."""
    groups: list[tuple[int, int, list[tuple[str, str]]]] = []
    for index, day in enumerate(DAYS):
        intervals = [(str(s), str(e)) for s, e in hours.get(day, [])]
        if groups and groups[-1][2] == intervals and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, intervals)
        else:
            groups.append((index, index, intervals))
    parts = []
    for first, last, intervals in groups:
        if not intervals:
            continue
        days = DAY_LABELS[first]
        if last != first:
            days += DASH + DAY_LABELS[last]
        parts.append(f"{days} {' and '.join(f'{s}{DASH}{e}' for s, e in intervals)}")
    return ", ".join(parts)


def _at(day: date, mins: int, tz: ZoneInfo) -> datetime:
    """The instant `mins` minutes after midnight of `day` on the zone's wall clocks (24:00 is the
    next midnight); a wall time a clock change skips is taken as zoneinfo does (fold 0)."""
    local = datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(minutes=mins)
    # Adding minutes to an aware datetime keeps the wall clock: re-read it in the zone.
    return datetime.combine(local.date(), local.time(), tzinfo=tz)


def stretches(
    hours: dict[str, Any], tz: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The stretches the technician works between two instants, each cut to them, in order."""
    out: list[tuple[datetime, datetime]] = []
    day = start.astimezone(tz).date() - timedelta(days=1)  # a stretch may begin the day before
    last = end.astimezone(tz).date()
    while day <= last:
        for s, e in merged(hours.get(DAYS[day.weekday()], [])):
            a, b = max(_at(day, s, tz), start), min(_at(day, e, tz), end)
            if a < b:
                out.append((a, b))
        day += timedelta(days=1)
    return out
