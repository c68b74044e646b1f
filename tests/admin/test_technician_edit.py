"""Editing a technician in full from the panel: every detail, the time zone chosen from the list
the API gives, and time off: a period they are away, which suggestions and assignment honour
(they are offered nothing then, with the reason) until it is removed. Every write is in the
audit log, naming who did it; support reads, only admins write."""

from __future__ import annotations

from datetime import datetime, timedelta
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
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DASH = "\u2013"


def ist(days_ahead: int, clock: str) -> datetime:
    day = datetime.now(IST).date() + timedelta(days=days_ahead)
    hours, minutes = (int(p) for p in clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=IST)


async def _ravi(api: httpx.AsyncClient, s: Shop) -> dict[str, Any]:
    return await add_technician(
        api,
        s.admin,
        name="Ravi Kumar",
        phone="+919812340001",
        working_hours={d: [["08:00", "20:00"]] for d in EVERY_DAY},
        timezone="Asia/Kolkata",
    )


async def _audit(api: httpx.AsyncClient, admin: dict[str, str], entity: str) -> list[Any]:
    page = await api.get(
        "/admin/audit", params={"entity_type": "technician", "entity_id": entity}, headers=admin
    )
    assert page.status_code == 200, page.text
    return list(reversed(page.json()["items"]))  # oldest first


async def _suggested(api: httpx.AsyncClient, s: Shop, request_id: str) -> dict[str, Any]:
    found = await api.get(f"/admin/service-requests/{request_id}/suggestions", headers=s.admin)
    assert found.status_code == 200, found.text
    (ravi,) = [f for f in found.json() if f["name"] == "Ravi Kumar"]
    return dict(ravi)


async def test_time_off_is_honoured_by_suggestions_and_assignment_until_removed(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    ravi = await _ravi(api, s)
    url = f"/admin/technicians/{ravi['id']}/time-off"
    request = await asked(api, s, when=(ist(3, "10:00").isoformat(), ist(3, "12:00").isoformat()))
    assert (await _suggested(api, s, request["id"]))["eligible"] is True

    added = await api.post(
        url,
        json={
            "starts_at": ist(3, "00:00").isoformat(),
            "ends_at": ist(5, "00:00").isoformat(),
            "reason": "annual leave",
        },
        headers=s.admin,
    )
    assert added.status_code == 201, added.text
    period = added.json()
    assert period["reason"] == "annual leave"
    assert period["visits_booked"] == []  # nothing of his in it yet

    # Shown with the technician, and his suggestion says why he cannot go.
    shown = (await api.get(f"/admin/technicians/{ravi['id']}", headers=s.admin)).json()
    assert [t["id"] for t in shown["time_off"]] == [period["id"]]
    fit = await _suggested(api, s, request["id"])
    assert fit["eligible"] is False
    day = ist(3, "00:00")
    end = ist(5, "00:00")
    expected = (
        f"away {day:%a} {day.day} {day:%b}, 00:00 {DASH} {end:%a} {end.day} {end:%b}, 00:00 IST"
        " (annual leave)"
    )
    assert fit["problems"] == [expected]
    refused = await api.post(
        f"/admin/service-requests/{request['id']}/assign",
        json={"technician_id": ravi["id"]},
        headers=s.admin,
    )
    assert refused.status_code == 409
    assert "away" in refused.json()["detail"]

    # Overlapping time off is refused (change the one there instead); a reversed one names ends_at.
    overlapping = await api.post(
        url,
        json={"starts_at": ist(4, "09:00").isoformat(), "ends_at": ist(6, "09:00").isoformat()},
        headers=s.admin,
    )
    assert overlapping.status_code == 409
    assert "away" in overlapping.json()["detail"]
    reversed_ = await api.post(
        url,
        json={"starts_at": ist(6, "09:00").isoformat(), "ends_at": ist(6, "08:00").isoformat()},
        headers=s.admin,
    )
    assert reversed_.status_code == 422
    assert reversed_.json()["errors"][0]["field"] == "ends_at"

    # Removed: he fits again and takes the visit.
    removed = await api.delete(f"{url}/{period['id']}", headers=s.admin)
    assert removed.status_code == 204
    assert (await api.delete(f"{url}/{period['id']}", headers=s.admin)).status_code == 404
    assert (await _suggested(api, s, request["id"]))["eligible"] is True
    assigned = await api.post(
        f"/admin/service-requests/{request['id']}/assign",
        json={"technician_id": ravi["id"]},
        headers=s.admin,
    )
    assert assigned.status_code == 200, assigned.text

    # Time off over a visit he has: the answer names it, to give to someone else.
    again = await api.post(
        url,
        json={"starts_at": ist(3, "09:00").isoformat(), "ends_at": ist(3, "18:00").isoformat()},
        headers=s.admin,
    )
    assert again.status_code == 201, again.text
    (booked,) = again.json()["visits_booked"]
    assert booked["number"] == request["number"]

    # Each write in the audit log, by whom, with what.
    entries = await _audit(api, s.admin, ravi["id"])
    actions = [e["action"] for e in entries]
    assert actions == [
        "technician.create",
        "technician.time_off.add",
        "technician.time_off.remove",
        "technician.time_off.add",
    ]
    assert entries[1]["detail"]["after"]["reason"] == "annual leave"
    assert entries[2]["detail"]["before"]["reason"] == "annual leave"
    assert all(e["actor_name"] for e in entries)


async def test_a_reassignment_never_offers_the_technician_it_has(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    ravi = await _ravi(api, s)
    await add_technician(
        api,
        s.admin,
        name="Bala Iyer",
        phone="+919812340002",
        working_hours={d: [["08:00", "20:00"]] for d in EVERY_DAY},
        timezone="Asia/Kolkata",
    )
    request = await asked(api, s, when=(ist(3, "10:00").isoformat(), ist(3, "12:00").isoformat()))
    assert (
        await api.post(
            f"/admin/service-requests/{request['id']}/assign",
            json={"technician_id": ravi["id"]},
            headers=s.admin,
        )
    ).status_code == 200
    offered = await api.get(f"/admin/service-requests/{request['id']}/suggestions", headers=s.admin)
    assert [f["name"] for f in offered.json()] == ["Bala Iyer"]
    detail = (await api.get(f"/admin/service-requests/{request['id']}", headers=s.admin)).json()
    assert detail["number"] == request["number"]
    (chosen,) = detail["dispatch_log"]
    assert chosen["technician_name"] == "Ravi Kumar"


async def test_every_detail_is_editable_and_the_zone_is_chosen_from_a_list(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    ravi = await _ravi(api, s)
    zones = await api.get("/admin/time-zones", headers=s.admin)
    assert zones.status_code == 200
    listed = {z["name"]: z["label"] for z in zones.json()}
    assert listed["Asia/Kolkata"] == "Asia/Kolkata (UTC+05:30)"
    assert "America/New_York" in listed
    assert (await api.get("/admin/time-zones", headers=s.customer)).status_code == 403

    changed = await api.patch(
        f"/admin/technicians/{ravi['id']}",
        json={
            "name": "Ravi K. Kumar",
            "phone": "+919812340009",
            "skills": ["electrical", "plumbing"],
            "zones": ["560001", "560002"],
            "working_hours": {"mon": [["10:00", "14:00"]], "sat": [["09:00", "12:00"]]},
            "timezone": "Asia/Dubai",
            "is_active": False,
        },
        headers=s.admin,
    )
    assert changed.status_code == 200, changed.text
    out = changed.json()
    assert out["name"] == "Ravi K. Kumar"
    assert out["phone"] == "+919812340009"
    assert [k["slug"] for k in out["skills"]] == ["plumbing", "electrical"]
    assert out["zones"] == ["560001", "560002"]
    assert out["working_hours"]["mon"] == [["10:00", "14:00"]]
    assert out["working_hours"]["tue"] == []
    assert (out["timezone"], out["is_active"]) == ("Asia/Dubai", False)
    (update_entry,) = [
        e for e in await _audit(api, s.admin, ravi["id"]) if e["action"] == "technician.update"
    ]
    assert update_entry["detail"]["before"]["timezone"] == "Asia/Kolkata"
    assert update_entry["detail"]["after"]["timezone"] == "Asia/Dubai"

    # Support reads technicians but changes nothing, time off included.
    support = await make_admin(api, db, "support@example.com")
    await db.execute(update(User).where(User.email == "support@example.com").values(role="support"))
    await db.commit()
    assert (await api.get(f"/admin/technicians/{ravi['id']}", headers=support)).status_code == 200
    for method, url, body in (
        ("PATCH", f"/admin/technicians/{ravi['id']}", {"name": "Nope"}),
        (
            "POST",
            f"/admin/technicians/{ravi['id']}/time-off",
            {"starts_at": ist(3, "09:00").isoformat(), "ends_at": ist(3, "18:00").isoformat()},
        ),
    ):
        assert (await api.request(method, url, json=body, headers=support)).status_code == 403
