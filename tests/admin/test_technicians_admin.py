"""Technicians through the admin API: adding one makes the account they sign in with (by a code
sent to their phone, role `technician`); edits keep that account in step; support reads, admins
write, customers and technicians are refused; invalid input is named at its field."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.audit.models import AuditEntry
from domain.technicians import service as technicians
from tests.conftest import bearer, count_rows, latest_code, register
from tests.support.catalog_helpers import add_categories, make_admin, make_customer
from tests.support.technician_helpers import add_technician, nine_to_six, technician_body


@pytest.fixture
async def admin(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    headers = await make_admin(api, db)
    await add_categories(api, headers)
    return headers


async def _user(db: AsyncSession, user_id: str) -> User:
    user = (
        await db.execute(
            select(User)
            .where(User.id == uuid.UUID(user_id))
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    await db.commit()
    return user


async def test_admin_adds_a_technician_with_the_account_they_sign_in_with(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    created = await add_technician(
        api,
        admin,
        phone="+91 98123 40001",
        email="Ravi@Example.com",
        skills=["electrical", "plumbing"],
        zones=["560 001", "ka-12 3"],
        working_hours={
            "mon": [["14:00", "18:00"], ["09:00", "13:00"]],
            "sat": [["10:00", "24:00"]],
        },
        timezone="Europe/London",
    )
    assert created["name"] == "Ravi Kumar"
    assert created["phone"] == "+919812340001"
    assert created["email"] == "ravi@example.com"
    assert [s["slug"] for s in created["skills"]] == ["plumbing", "electrical"]  # display order
    assert set(created["skills"][0]) == {"id", "slug", "name"}
    assert created["zones"] == ["560001", "KA-123"]
    assert created["working_hours"] == {
        "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
        "tue": [],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [["10:00", "24:00"]],
        "sun": [],
    }
    assert created["timezone"] == "Europe/London"
    assert created["is_active"] is True

    user = await _user(db, created["user_id"])
    assert (user.role, user.phone, user.email, user.name) == (
        "technician",
        "+919812340001",
        "ravi@example.com",
        "Ravi Kumar",
    )
    assert user.password_hash is None
    assert user.is_active
    assert await count_rows(db, AuditEntry, AuditEntry.action == "technician.create") == 1

    read = await api.get(f"/admin/technicians/{created['id']}", headers=admin)
    assert read.status_code == 200
    assert read.json() == created
    missing = await api.get(f"/admin/technicians/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404


async def test_defaults_are_the_india_time_zone_and_active(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await add_technician(api, admin, working_hours={})
    assert created["timezone"] == "Asia/Kolkata"
    assert created["is_active"] is True
    assert created["email"] is None
    assert all(hours == [] for hours in created["working_hours"].values())


async def test_a_technician_signs_in_with_a_phone_code_and_is_not_staff(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    created = await add_technician(api, admin, phone="+919812340002")
    started = await api.post("/auth/phone/start", json={"phone": "+91 98123 40002"})
    assert started.status_code == 202, started.text
    code = await latest_code(db, "+919812340002")
    signed_in = await api.post("/auth/phone/verify", json={"phone": "+919812340002", "code": code})
    assert signed_in.status_code == 200, signed_in.text
    headers = bearer(signed_in.json())

    me = (await api.get("/me", headers=headers)).json()
    assert me["role"] == "technician"
    assert me["phone_verified"] is True
    found = await technicians.technician_for_user(db, uuid.UUID(me["id"]))
    assert found is not None and str(found.id) == created["id"]
    assert await technicians.technician_for_user(db, uuid.uuid4()) is None

    # A technician is not staff: no admin list, no admin change.
    assert (await api.get("/admin/technicians", headers=headers)).status_code == 403
    assert (await api.get("/admin/users", headers=headers)).status_code == 403

    # Their name and phone are on the technician row too, and the phone is how they sign in.
    for change in ({"phone": "+919812340009"}, {"phone": None}, {"name": "Someone Else"}):
        refused = await api.patch("/me", json=change, headers=headers)
        assert refused.status_code == 409, refused.text
        assert "changed by an admin" in refused.json()["detail"]
    assert (await api.patch("/me", json={"name": "Ravi Kumar"}, headers=headers)).status_code == 200
    email = await api.patch("/me", json={"email": "ravi@example.com"}, headers=headers)
    assert email.status_code == 200, email.text
    read = await api.get(f"/admin/technicians/{created['id']}", headers=admin)
    assert read.json()["email"] == "ravi@example.com"


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"working_hours": {"mon": [["18:00", "09:00"]]}}, "working_hours.mon.0", "not before"),
        ({"working_hours": {"mon": [["09:00", "09:00"]]}}, "working_hours.mon.0", "not before"),
        (
            {"working_hours": {"tue": [["09:00", "13:00"], ["12:00", "18:00"]]}},
            "working_hours.tue",
            "overlap",
        ),
        ({"working_hours": {"wed": [["9:00", "18:00"]]}}, "working_hours.wed.0.0", "pattern"),
        ({"working_hours": {"wed": [["09:00", "24:30"]]}}, "working_hours.wed.0.1", "pattern"),
        (
            {"working_hours": {"thu": [[f"{h:02}:00", f"{h:02}:30"] for h in range(8, 13)]}},
            "working_hours.thu",
            "at most 4",
        ),
        ({"working_hours": {"funday": []}}, "working_hours.funday", "not permitted"),
        ({"working_hours": {"fri": None}}, "working_hours.fri", "valid list"),
        ({"skills": ["plumbing", "gardening"]}, "skills.1", "no category with slug 'gardening'"),
        ({"skills": ["plumbing", "plumbing"]}, "skills", "listed twice"),
        ({"skills": []}, "skills", "at least 1"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not an IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "not an IANA time zone"),
        ({"zones": ["56#001"]}, "zones.0", "pattern"),
        ({"zones": ["12"]}, "zones.0", "at least 3"),
        ({"zones": ["56 0001 000"]}, "zones.0", "at most 10"),
        ({"zones": ["560001", "560 001"]}, "zones", "listed twice"),
        ({"zones": []}, "zones", "at least 1"),
        ({"phone": "98123"}, "phone", "international format"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"name": ""}, "name", "at least 1"),
        ({"role": "admin"}, "role", "not permitted"),
    ],
)
async def test_invalid_input_is_named_at_its_field(
    api: httpx.AsyncClient,
    db: AsyncSession,
    admin: dict[str, str],
    overrides: dict[str, Any],
    field: str,
    says: str,
) -> None:
    response = await api.post(
        "/admin/technicians", json=technician_body(**overrides), headers=admin
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and says in e["message"] for e in errors), errors
    assert await count_rows(db, User, User.role == "technician") == 0


async def test_a_phone_or_email_another_account_has_is_a_conflict(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    await register(api, "asha@example.com", phone="+919812340003")
    taken_phone = await api.post(
        "/admin/technicians", json=technician_body(phone="+919812340003"), headers=admin
    )
    assert taken_phone.status_code == 409, taken_phone.text
    assert (
        "phone +919812340003 already belongs to another account" in (taken_phone.json()["detail"])
    )
    taken_email = await api.post(
        "/admin/technicians", json=technician_body(email="ASHA@example.com"), headers=admin
    )
    assert taken_email.status_code == 409
    assert (
        "email asha@example.com already belongs to another account"
        in (taken_email.json()["detail"])
    )

    first = await add_technician(api, admin, phone="+919812340004")
    again = await api.post(
        "/admin/technicians", json=technician_body(phone="+919812340004"), headers=admin
    )
    assert again.status_code == 409
    assert "already belongs to another technician" in again.json()["detail"]
    assert await count_rows(db, User, User.role == "technician") == 1
    assert first["phone"] == "+919812340004"


async def test_support_reads_but_does_not_change_and_customers_are_refused(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    created = await add_technician(api, admin)
    support = await make_customer(api, "support@example.com")
    await db.execute(update(User).where(User.email == "support@example.com").values(role="support"))
    await db.commit()
    listed = await api.get("/admin/technicians", headers=support)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [created["id"]]
    read = await api.get(f"/admin/technicians/{created['id']}", headers=support)
    assert read.status_code == 200
    body = technician_body(phone="+919812340005")
    assert (await api.post("/admin/technicians", json=body, headers=support)).status_code == 403
    patched = await api.patch(
        f"/admin/technicians/{created['id']}", json={"name": "X"}, headers=support
    )
    assert patched.status_code == 403

    customer = await make_customer(api, "someone@example.com")
    for response in (
        await api.get("/admin/technicians", headers=customer),
        await api.get(f"/admin/technicians/{created['id']}", headers=customer),
        await api.post("/admin/technicians", json=body, headers=customer),
        await api.patch(f"/admin/technicians/{created['id']}", json={}, headers=customer),
    ):
        assert response.status_code == 403, response.text
    assert (await api.get("/admin/technicians")).status_code == 401


async def test_an_edit_keeps_the_account_in_step_and_deactivating_keeps_it_usable(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    created = await add_technician(api, admin, phone="+919812340006", email="old@example.com")
    url = f"/admin/technicians/{created['id']}"
    patched = await api.patch(
        url,
        json={
            "name": "Ravi K.",
            "phone": "+919812340007",
            "email": "new@example.com",
            "skills": ["carpentry"],
            "zones": ["560002"],
            "working_hours": nine_to_six("sat"),
            "timezone": "Asia/Dubai",
            "is_active": False,
        },
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    out = patched.json()
    assert (out["name"], out["phone"], out["email"]) == (
        "Ravi K.",
        "+919812340007",
        "new@example.com",
    )
    assert [s["slug"] for s in out["skills"]] == ["carpentry"]
    assert out["zones"] == ["560002"]
    assert out["working_hours"]["sat"] == [["09:00", "18:00"]]
    assert out["working_hours"]["mon"] == []  # the whole week is replaced
    assert (out["timezone"], out["is_active"]) == ("Asia/Dubai", False)
    assert out["updated_at"] >= created["updated_at"]

    user = await _user(db, created["user_id"])
    assert (user.name, user.phone, user.email) == ("Ravi K.", "+919812340007", "new@example.com")
    assert user.phone_verified_at is None  # the new number is proven by signing in with it
    assert user.is_active  # still signs in, sees past jobs
    assert user.role == "technician"
    entries = (
        (await db.execute(select(AuditEntry).where(AuditEntry.action == "technician.update")))
        .scalars()
        .all()
    )
    await db.commit()
    assert len(entries) == 1
    assert entries[0].before is not None and entries[0].before["phone"] == "+919812340006"
    assert entries[0].after is not None and entries[0].after["is_active"] is False

    # The same values again change nothing and write no audit entry.
    same = await api.patch(url, json={"name": "Ravi K.", "skills": ["carpentry"]}, headers=admin)
    assert same.status_code == 200
    assert await count_rows(db, AuditEntry, AuditEntry.action == "technician.update") == 1

    removed = await api.patch(url, json={"email": None}, headers=admin)
    assert removed.status_code == 200 and removed.json()["email"] is None

    for field in ("name", "phone", "skills", "zones", "working_hours", "timezone", "is_active"):
        response = await api.patch(url, json={field: None}, headers=admin)
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field
    unknown = await api.patch(url, json={"skills": ["gardening"]}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "skills.0"

    await register(api, "taken@example.com", phone="+919812340008")
    taken = await api.patch(url, json={"phone": "+919812340008"}, headers=admin)
    assert taken.status_code == 409
    assert "phone +919812340008 already belongs to another account" in taken.json()["detail"]
    # Its own number is not "taken".
    own = await api.patch(url, json={"phone": "+919812340007"}, headers=admin)
    assert own.status_code == 200
    missing = await api.patch(f"/admin/technicians/{uuid.uuid4()}", json={}, headers=admin)
    assert missing.status_code == 404


async def test_the_list_filters_by_active_skill_zone_and_text(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ravi = await add_technician(
        api, admin, name="Ravi", phone="+919812340011", skills=["plumbing"], zones=["560001"]
    )
    meera = await add_technician(
        api,
        admin,
        name="Meera",
        phone="+919812340012",
        email="meera@example.com",
        skills=["electrical", "plumbing"],
        zones=["560002", "560003"],
    )
    arjun = await add_technician(
        api,
        admin,
        name="Arjun",
        phone="+919812340013",
        skills=["carpentry"],
        zones=["560001"],
        is_active=False,
    )

    async def names(**params: Any) -> list[str]:
        response = await api.get("/admin/technicians", params=params, headers=admin)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [t["name"] for t in body["items"]]

    assert await names() == ["Arjun", "Meera", "Ravi"]
    assert await names(active="true") == ["Meera", "Ravi"]
    assert await names(active="false") == ["Arjun"]
    assert await names(skill="plumbing") == ["Meera", "Ravi"]
    assert await names(skill="gardening") == []
    assert await names(zone="560 001") == ["Arjun", "Ravi"]
    assert await names(zone="560003", skill="electrical") == ["Meera"]
    assert await names(q="mee") == ["Meera"]
    assert await names(q="meera@") == ["Meera"]
    assert await names(q="340011") == ["Ravi"]
    page = (await api.get("/admin/technicians?limit=1&offset=1", headers=admin)).json()
    assert (page["total"], [t["id"] for t in page["items"]]) == (3, [meera["id"]])
    assert {ravi["id"], arjun["id"]}.isdisjoint(t["id"] for t in page["items"])


async def test_a_role_to_or_from_technician_is_not_set_through_the_users_admin(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> None:
    created = await add_technician(api, admin)
    demoted = await api.patch(
        f"/admin/users/{created['user_id']}", json={"role": "customer"}, headers=admin
    )
    assert demoted.status_code == 409
    assert "/api/v1/admin/technicians" in demoted.json()["detail"]
    customer = (await register(api, "c@example.com"))["user"]
    promoted = await api.patch(
        f"/admin/users/{customer['id']}", json={"role": "technician"}, headers=admin
    )
    assert promoted.status_code == 409
    # Other changes to a technician's account still work.
    renamed = await api.patch(
        f"/admin/users/{created['user_id']}", json={"role": "technician"}, headers=admin
    )
    assert renamed.status_code == 200
    assert (await _user(db, created["user_id"])).role == "technician"
