"""The windows a customer chooses a visit from: the day's slots in the business's zone, each
free while a technician who does the work, serves the postal code and works then is not booked
over it; never another customer's plan or address."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import bearer, register
from tests.support.request_helpers import asked, shop, technician

IST = ZoneInfo("Asia/Kolkata")
NINE_TO_SIX = {
    day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


async def test_the_days_slots_are_free_until_the_only_technician_is_booked(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    ravi = await technician(api, s.admin, "Ravi", "+919811100021")  # works around the clock
    day = (datetime.now(IST) + timedelta(days=3)).date()
    query = {
        "subscription_id": str(s.bought.subscription_id),
        "category_id": s.categories["plumbing"],
        "day": day.isoformat(),
    }
    windows = (
        await api.get("/service-requests/free-windows", params=query, headers=s.customer)
    ).json()
    assert [(w["label"].split(", ")[1], w["free"]) for w in windows] == [
        ("09:00\u201312:00 IST", True),
        ("12:00\u201315:00 IST", True),
        ("15:00\u201318:00 IST", True),
    ]
    assert datetime.fromisoformat(windows[0]["start"]) == datetime(
        day.year, day.month, day.day, 9, tzinfo=IST
    )

    first = windows[0]
    rid = (await asked(api, s, when=(first["start"], first["end"])))["id"]
    assigned = await api.post(
        f"/admin/service-requests/{rid}/assign", json={"technician_id": ravi["id"]}, headers=s.admin
    )
    assert assigned.status_code == 200, assigned.text
    again = (
        await api.get("/service-requests/free-windows", params=query, headers=s.customer)
    ).json()
    assert [w["free"] for w in again] == [False, True, True]

    # Electrical: Ravi does only plumbing, so nobody can come.
    other = {**query, "category_id": s.categories["electrical"]}
    nobody = (
        await api.get("/service-requests/free-windows", params=other, headers=s.customer)
    ).json()
    assert [w["free"] for w in nobody] == [False, False, False]

    # Too far ahead: nothing to choose.
    far = {**query, "day": (day + timedelta(days=90)).isoformat()}
    assert (
        await api.get("/service-requests/free-windows", params=far, headers=s.customer)
    ).json() == []


async def test_another_customers_plan_is_not_found(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    stranger = bearer((await register(api, "stranger@example.com"))["tokens"])
    query = {
        "subscription_id": str(s.bought.subscription_id),
        "category_id": s.categories["plumbing"],
        "day": (datetime.now(IST) + timedelta(days=3)).date().isoformat(),
    }
    answer = await api.get("/service-requests/free-windows", params=query, headers=stranger)
    assert answer.status_code == 404
