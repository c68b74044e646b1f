"""Times as a person reads them: the one place a moment becomes words.

Inside, every time is timezone-aware UTC. Whatever a person reads (a timeline's note, a message,
a receipt, a refusal, a dispatcher's suggestion) is written here, in one zone, with that zone's
label: the business's (`DEFAULT_TIME_ZONE`) unless the reader has their own (a customer's chosen
zone in their messages, a technician's in their hours). A time is never shown without its label,
and never labelled with a zone it is not in.

    moment  Sat 12 Dec 2026, 11:00 IST      (a time on its own)
    when    Sat 12 Dec, 11:00 IST           (a time in a message, the year understood)
    clock   11:00 IST
    day     Sat 12 Dec 2026                 (a date: the reader's calendar day)
    window  Sat 12 Dec, 11:00-14:00 IST     (a span, with an en dash; across midnight, both days)

Machine-readable answers (JSON, CSV) keep ISO 8601 with their offset; screens format those in
the business's zone with the same label (the admin panel and the app read the zone from the API).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

DASH = "\u2013"  # an en dash between the ends of a span


@cache
def zone(name: str | None = None) -> ZoneInfo:
    """The zone called `name`, or the business's (the `DEFAULT_TIME_ZONE` setting)."""
    if name is None:
        from core.settings import get_settings  # read when first asked, not at import

        name = get_settings().default_time_zone
    return ZoneInfo(name)


Zone = ZoneInfo | str | None  # a zone, its name, or None for the business's


def _zone(tz: Zone) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else zone(tz)


def local(at: datetime, tz: Zone = None) -> datetime:
    """`at` on the wall clocks of `tz`."""
    if at.tzinfo is None:
        raise ValueError("a time shown to a person must be timezone-aware")
    return at.astimezone(_zone(tz))


def label(at: datetime, tz: Zone = None) -> str:
    """The zone's short name at that moment (IST, GMT, BST, PST); a zone that has none (its name
    would be a bare offset such as `+04`) is labelled by its offset from UTC (`UTC+04`)."""
    name = local(at, tz).tzname() or "UTC"
    return f"UTC{name}" if name[0] in "+-" else name


def _weekday(at: datetime | date) -> str:
    return f"{at:%a} {at.day} {at:%b}"


def moment(at: datetime, tz: Zone = None) -> str:
    """`Sat 12 Dec 2026, 11:00 IST`."""
    mine = local(at, tz)
    return f"{_weekday(mine)} {mine.year}, {mine:%H:%M} {label(at, tz)}"


def when(at: datetime, tz: Zone = None) -> str:
    """`Sat 12 Dec, 11:00 IST`."""
    mine = local(at, tz)
    return f"{_weekday(mine)}, {mine:%H:%M} {label(at, tz)}"


def clock(at: datetime, tz: Zone = None) -> str:
    """`11:00 IST`."""
    return f"{local(at, tz):%H:%M} {label(at, tz)}"


def day(at: datetime | date, tz: Zone = None) -> str:
    """`Sat 12 Dec 2026`: the calendar day `at` falls on for the reader (a `date` is one)."""
    mine = local(at, tz) if isinstance(at, datetime) else at
    return f"{_weekday(mine)} {mine.year}"


def window(start: datetime, end: datetime, tz: Zone = None) -> str:
    """`Sat 12 Dec, 11:00-14:00 IST` (en dashes); a span that ends at the midnight after its
    start ends at 24:00; one that crosses midnight names both days:
    `Sat 12 Dec, 22:00 - Sun 13 Dec, 01:00 IST`."""
    a, b = local(start, tz), local(end, tz)
    tag = label(end, tz)
    if label(start, tz) != tag:  # summer time begins or ends within it: each end its own label
        return f"{_weekday(a)}, {a:%H:%M} {label(start, tz)} {DASH} {_weekday(b)}, {b:%H:%M} {tag}"
    if a.date() == b.date():
        return f"{_weekday(a)}, {a:%H:%M}{DASH}{b:%H:%M} {tag}"
    if b.date() == a.date() + timedelta(days=1) and b.time() == time(0, 0):
        return f"{_weekday(a)}, {a:%H:%M}{DASH}24:00 {tag}"
    return f"{_weekday(a)}, {a:%H:%M} {DASH} {_weekday(b)}, {b:%H:%M} {tag}"
