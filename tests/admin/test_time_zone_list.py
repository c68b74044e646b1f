"""The list of time zones a technician's hours may be in (`GET /admin/technicians/time-zones`) is
built once per day for the offsets of that day; the process keeps the last two days' lists, not
one more for every day it lives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.technicians import time_off


def test_the_time_zone_lists_kept_are_bounded_whatever_the_days_asked() -> None:
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for day in range(30):
        zones = time_off.time_zones(start + timedelta(days=day))
        assert zones, day
    assert time_off._zones.cache_info().currsize <= 2
    # Each day's offsets are that day's: Berlin is UTC+01:00 in January, UTC+02:00 in July.
    july = {z.name: z.label for z in time_off.time_zones(datetime(2026, 7, 1, tzinfo=UTC))}
    assert july["Europe/Berlin"].endswith("(UTC+02:00)")
