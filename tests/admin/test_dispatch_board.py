"""The dispatch board through the API: a day (or a week) of business days in the business's zone,
each active technician's working stretches (their hours, in their own zone, as instants), their
time off and the visits they are booked for; beside it the unassigned queue. Support reads it;
customers are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.support.catalog_helpers import make_admin
from tests.support.request_helpers import Shop, asked, shop
from tests.support.technician_helpers import add_technician

IST = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ist(day: date, clock: str, tz: ZoneInfo = IST) -> datetime:
    hours, minutes = (int(p) for p in clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def board_day() -> date:
    """A business day far enough ahead for a customer to ask for a visit on it."""
    return datetime.now(IST).date() + timedelta(days=3)


async def _board(
    api: httpx.AsyncClient, headers: dict[str, str], day: date, days: int = 1
) -> dict[str, Any]:
    response = await api.get(
        "/admin/dispatch/board", params={"date": day.isoformat(), "days": days}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _row(board: dict[str, Any], name: str) -> dict[str, Any]:
    (row,) = [t for t in board["technicians"] if t["name"] == name]
    return row


async def _world(api: httpx.AsyncClient, db: AsyncSession) -> tuple[Shop, date]:
    s = await shop(api, db)
    day = board_day()
    await add_technician(
        api,
        s.admin,
        name="Ravi Kumar",
        phone="+919812340001",
        working_hours={d: [["09:00", "13:00"], ["14:00", "18:00"]] for d in EVERY_DAY},
        timezone="Asia/Kolkata",
    )
    # Works in London's hours: 09:00-17:00 there is 14:30-22:30 IST in winter, 13:30-21:30 in
    # summer; and not at all on the board's day of the week.
    off = day.strftime("%a").lower()
    await add_technician(
        api,
        s.admin,
        name="Lena Hart",
        phone="+919812340002",
        working_hours={d: [["09:00", "17:00"]] for d in EVERY_DAY if d != off},
        timezone="Europe/London",
    )
    return s, day


async def test_the_board_shows_each_technicians_hours_time_off_and_visits_and_the_queue(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, day = await _world(api, db)
    ravi = (await api.get("/admin/technicians", params={"q": "Ravi"}, headers=s.admin)).json()
    ravi_id = ravi["items"][0]["id"]
    booked = await asked(
        api, s, when=(ist(day, "10:00").isoformat(), ist(day, "12:00").isoformat())
    )
    waiting = await asked(
        api, s, when=(ist(day, "15:00").isoformat(), ist(day, "17:00").isoformat())
    )
    assigned = await api.post(
        f"/admin/service-requests/{booked['id']}/assign",
        json={"technician_id": ravi_id},
        headers=s.admin,
    )
    assert assigned.status_code == 200, assigned.text
    away = await api.post(
        f"/admin/technicians/{ravi_id}/time-off",
        json={
            "starts_at": ist(day, "16:00").isoformat(),
            "ends_at": ist(day + timedelta(days=2), "00:00").isoformat(),
            "reason": "a wedding",
        },
        headers=s.admin,
    )
    assert away.status_code == 201, away.text

    board = await _board(api, s.admin, day)
    assert board["zone"] == "Asia/Kolkata"
    (shown,) = board["days"]
    assert shown["date"] == day.isoformat()
    assert shown["label"] == f"{day:%a} {day.day} {day:%b} {day.year}"
    assert instant(shown["starts_at"]) == ist(day, "00:00")
    assert instant(board["ends_at"]) == ist(day + timedelta(days=1), "00:00")

    # Ravi: his two stretches of the day, his time off (cut to nothing: the whole of it is
    # given), the visit he is booked for, with its number and customer.
    row = _row(board, "Ravi Kumar")
    assert [(instant(w["start"]), instant(w["end"])) for w in row["working"]] == [
        (ist(day, "09:00"), ist(day, "13:00")),
        (ist(day, "14:00"), ist(day, "18:00")),
    ]
    assert [(instant(a["start"]), instant(a["end"]), a["reason"]) for a in row["away"]] == [
        (ist(day, "16:00"), ist(day + timedelta(days=2), "00:00"), "a wedding")
    ]
    (visit,) = row["visits"]
    assert visit["id"] == booked["id"]
    assert visit["number"] == booked["number"]
    assert visit["number"].startswith("R-")
    assert visit["status"] == "assigned"
    assert visit["category"] == "Plumbing"
    assert visit["customer_name"]
    assert instant(visit["window_start"]) == ist(day, "10:00")
    assert row["hours"] == "Mon\u2013Sun 09:00\u201313:00 and 14:00\u201318:00"

    # Lena does not work that day of the week: no stretch on it.
    assert _row(board, "Lena Hart")["working"] == []
    assert _row(board, "Lena Hart")["visits"] == []

    # The queue: the visit nobody has, not the one Ravi has.
    assert [v["id"] for v in board["unassigned"]] == [waiting["id"]]
    assert board["unassigned"][0]["technician_id"] is None
    assert board["unassigned_total"] == 1

    # A week from the day before: Lena's six working days, in London's hours as instants.
    week = await _board(api, s.admin, day - timedelta(days=1), days=7)
    assert len(week["days"]) == 7
    lena = _row(week, "Lena Hart")["working"]
    assert len(lena) == 6
    first = day - timedelta(days=1)
    assert (instant(lena[0]["start"]), instant(lena[0]["end"])) == (
        ist(first, "09:00", LONDON),
        ist(first, "17:00", LONDON),
    )
    assert all(instant(w["start"]).astimezone(LONDON).date() != day for w in lena)
    # Ravi's time off within the week is given whole; his visit is on it too.
    assert [v["id"] for v in _row(week, "Ravi Kumar")["visits"]] == [booked["id"]]
    assert len(_row(week, "Ravi Kumar")["away"]) == 1


async def test_a_day_without_visits_shows_hours_only_and_an_empty_queue(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, day = await _world(api, db)
    board = await _board(api, s.admin, day + timedelta(days=10))
    assert board["unassigned"] == []
    assert board["unassigned_total"] == 0
    assert {t["name"] for t in board["technicians"]} == {"Ravi Kumar", "Lena Hart"}
    assert len(_row(board, "Ravi Kumar")["working"]) == 2


async def test_support_reads_the_board_and_customers_are_refused(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, day = await _world(api, db)
    support = await make_admin(api, db, "support@example.com")
    await db.execute(update(User).where(User.email == "support@example.com").values(role="support"))
    await db.commit()
    assert (await _board(api, support, day))["technicians"]
    refused = await api.get("/admin/dispatch/board", headers=s.customer)
    assert refused.status_code == 403
    # Today when no day is given; a week at most.
    today = await api.get("/admin/dispatch/board", headers=s.admin)
    assert today.json()["days"][0]["date"] == datetime.now(IST).date().isoformat()
    too_long = await api.get("/admin/dispatch/board", params={"days": 8}, headers=s.admin)
    assert too_long.status_code == 422
    assert "days" in too_long.text


async def test_the_request_list_filters_by_category_technician_day_and_a_postal_codes_start(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, day = await _world(api, db)
    ravi_id = (await api.get("/admin/technicians", params={"q": "Ravi"}, headers=s.admin)).json()[
        "items"
    ][0]["id"]
    mine = await asked(api, s, when=(ist(day, "10:00").isoformat(), ist(day, "12:00").isoformat()))
    other = await asked(
        api,
        s,
        category="electrical",
        when=(
            ist(day + timedelta(days=1), "10:00").isoformat(),
            ist(day + timedelta(days=1), "12:00").isoformat(),
        ),
    )
    assert (
        await api.post(
            f"/admin/service-requests/{mine['id']}/assign",
            json={"technician_id": ravi_id},
            headers=s.admin,
        )
    ).status_code == 200

    async def ids(**params: Any) -> list[str]:
        found = await api.get("/admin/service-requests", params=params, headers=s.admin)
        assert found.status_code == 200, found.text
        return [r["id"] for r in found.json()["items"]]

    both = [mine["id"], other["id"]]
    assert await ids(zone="560") == both  # the shop's address is in 560001
    assert await ids(zone="5600 01") == both
    assert await ids(zone="561") == []
    assert await ids(technician_id=ravi_id) == [mine["id"]]
    assert await ids(category_id=s.categories["electrical"]) == [other["id"]]
    next_day = day + timedelta(days=1)
    assert await ids(
        starts_from=ist(next_day, "00:00").isoformat(),
        starts_before=ist(next_day + timedelta(days=1), "00:00").isoformat(),
    ) == [other["id"]]
