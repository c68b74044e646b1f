"""The business calendar of the reports: days are counted in DEFAULT_TIME_ZONE.

Every process reads the same setting, so a change is counted on the same day wherever it is made.
The rollups already written keep the zone they were counted in: after changing DEFAULT_TIME_ZONE,
`python manage.py rebuild-rollups` counts them again in the new one.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from core.settings import get_settings


@cache
def zone_for(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_name() -> str:
    return get_settings().default_time_zone


def zone() -> ZoneInfo:
    return zone_for(zone_name())


def business_day(at: datetime, tz: ZoneInfo | None = None) -> date:
    """The business day `at` (timezone-aware) falls on."""
    return at.astimezone(tz or zone()).date()


def split(amount: int, parts: int) -> list[int]:
    """`amount` in `parts` integer shares that add up to it: even, the remainder to the first."""
    if parts <= 0:
        return []
    share, rest = divmod(amount, parts)
    return [share + rest] + [share] * (parts - 1)


def pro_rata(amount: int, weights: list[int]) -> list[int]:
    """`amount` in shares proportional to `weights` (rounded down), the remainder to the first;
    all of it to the first when the weights add up to nothing."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        return [amount] + [0] * (len(weights) - 1)
    shares = [amount * w // whole for w in weights]
    shares[0] += amount - sum(shares)
    return shares
