"""Every time a person reads is in the business's zone (or the reader's own), with that zone's
label: one formatter (`domain.timefmt`) writes them all, and nothing else formats a time.

The windows here are chosen so that their date in UTC is not their date in India: a time shown in
UTC, or in UTC labelled IST, gets the day wrong as well as the hour."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain import timefmt
from tests.support.request_helpers import asked, shop, until

ROOT = Path(__file__).resolve().parents[2]
IST = ZoneInfo("Asia/Kolkata")


def _early_morning(days: int) -> tuple[datetime, datetime]:
    """02:00-05:00 in India `days` from now: 20:30-23:30 UTC the evening before."""
    local = datetime.now(IST).replace(hour=2, minute=0, second=0, microsecond=0)
    start = local + timedelta(days=days)
    return start, start + timedelta(hours=3)


def _shown(start: datetime) -> str:
    """How the test expects the window's day to read, worked out apart from the formatter."""
    return f"{start:%a} {start.day} {start:%b}, 02:00\u201305:00 IST"


async def test_a_rescheduled_window_reads_in_the_business_zone_in_timeline_and_message(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    rid = (await asked(api, s))["id"]
    start, end = _early_morning(days=4)
    assert start.astimezone(UTC).date() != start.date()  # the trap: UTC says the day before

    moved = await api.post(
        f"/service-requests/{rid}/reschedule",
        json={"window_start": start.isoformat(), "window_end": end.isoformat()},
        headers=s.customer,
    )
    assert moved.status_code == 200, moved.text

    mine = (await api.get(f"/service-requests/{rid}", headers=s.customer)).json()
    (entry,) = [e for e in mine["timeline"] if e["kind"] == "rescheduled"]
    assert entry["note"] == f"moved to {_shown(start)}"
    staff = (await api.get(f"/admin/service-requests/{rid}", headers=s.admin)).json()
    (entry,) = [e for e in staff["timeline"] if e["kind"] == "rescheduled"]
    assert entry["note"] == f"moved to {_shown(start)}"

    inbox = await until(
        api,
        "/me/notifications",
        s.customer,
        lambda page: any(i["kind"] == "request.rescheduled" for i in page["items"]),
    )
    (message,) = [i for i in inbox["items"] if i["kind"] == "request.rescheduled"]
    assert _shown(start) in message["text"]


async def test_the_receipt_shows_when_it_was_issued_in_the_business_zone(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    page = await api.get(f"/orders/{s.bought.order_id}/receipt", headers=s.customer)
    assert page.status_code == 200
    order = (await api.get(f"/orders/{s.bought.order_id}", headers=s.customer)).json()
    paid = datetime.fromisoformat(order["paid_at"]).astimezone(IST)
    # Issued as the payment settled: the same minute in India, or the next one.
    shown = {f"{paid + timedelta(minutes=m):%H:%M} IST" for m in (0, 1)}
    assert any(f"{paid.year}, {hhmm}" in page.text for hhmm in shown), page.text
    assert " UTC" not in page.text


# --- the formatter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "zone", "words"),
    [
        # the same day in India, the day before in UTC
        (
            "2026-12-12T20:30Z",
            "2026-12-12T23:30Z",
            "Asia/Kolkata",
            "Sun 13 Dec, 02:00\u201305:00 IST",
        ),
        # up to midnight: 24:00, not 00:00 of the next day
        (
            "2026-12-12T16:30Z",
            "2026-12-12T18:30Z",
            "Asia/Kolkata",
            "Sat 12 Dec, 22:00\u201324:00 IST",
        ),
        # across midnight: both days named
        (
            "2026-12-12T16:30Z",
            "2026-12-12T20:30Z",
            "Asia/Kolkata",
            "Sat 12 Dec, 22:00 \u2013 Sun 13 Dec, 02:00 IST",
        ),
        # summer time begins within it: each end with its own label
        (
            "2026-03-29T00:30Z",
            "2026-03-29T02:00Z",
            "Europe/London",
            "Sun 29 Mar, 00:30 GMT \u2013 Sun 29 Mar, 03:00 BST",
        ),
        # a zone with no abbreviation is labelled by its offset
        (
            "2026-12-12T05:30Z",
            "2026-12-12T06:30Z",
            "Asia/Dubai",
            "Sat 12 Dec, 09:30\u201310:30 UTC+04",
        ),
    ],
)
def test_a_window_reads_in_its_zone_with_its_label(
    start: str, end: str, zone: str, words: str
) -> None:
    assert timefmt.window(datetime.fromisoformat(start), datetime.fromisoformat(end), zone) == words


def test_moments_and_days_are_the_readers_and_a_naive_time_is_refused() -> None:
    late = datetime(2026, 12, 12, 20, 30, tzinfo=UTC)  # already the 13th in India
    assert timefmt.moment(late, IST) == "Sun 13 Dec 2026, 02:00 IST"
    assert timefmt.when(late, IST) == "Sun 13 Dec, 02:00 IST"
    assert timefmt.clock(late, IST) == "02:00 IST"
    assert timefmt.day(late, IST) == "Sun 13 Dec 2026"
    assert timefmt.day(date(2026, 12, 13)) == "Sun 13 Dec 2026"
    assert timefmt.moment(late, "UTC") == "Sat 12 Dec 2026, 20:30 UTC"
    with pytest.raises(ValueError, match="timezone-aware"):
        timefmt.moment(datetime(2026, 12, 12, 20, 30))


# Formatting that is not a moment for a person: a time of day in the reader's own zone.
NOT_A_MOMENT = {"domain/notifications/preferences.py"}  # quiet hours, "22:00-07:00"
# A moment for machines, not people: log lines' `time`, ISO 8601 in UTC with its `Z`.
MACHINE_STAMPS = {"core/logs.py"}


def test_no_time_is_formatted_outside_the_one_formatter() -> None:
    """`strftime`, or a `%` format in an f-string, anywhere in the application but
    `domain/timefmt.py`, is a time written by hand (before: "11:00 UTC" for 11:00 in India)."""
    found = []
    for folder in ("api", "core", "domain", "workflows", "activities", "providers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if name in {"domain/timefmt.py", *NOT_A_MOMENT, *MACHINE_STAMPS}:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "strftime":
                    found.append(f"{name}:{node.lineno} strftime")
                if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                    spec = ast.unparse(node.format_spec)
                    if "%" in spec:
                        found.append(f"{name}:{node.lineno} {spec}")
    assert found == []
