"""Support, as the app and staff meet it: the line's number (a tel: link) and hours, open or
closed in the support time zone at any moment we ask about (an injected clock, never the wall
clock's luck); callbacks private to who asked, capped and throttled; staff taking (one wins a
race, the other is told who has it) and closing them; the call log on a customer's record,
append-only; every staff move in the audit log; customers and technicians kept out of it all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.deps import get_now
from api.main import create_app
from core.settings import Settings
from domain.accounts.models import User
from domain.audit.models import AuditEntry
from domain.support.models import SupportCall
from tests.conftest import bearer, count_rows, make_settings, register

A_PHONE = "+919812300001"
OTHER_PHONE = "+919812300002"
# Monday 30 November 2026, 08:30 in India (UTC+05:30).
MONDAY_0830_IST = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

Opener = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def support_api(
    database_url: str, settings: Settings, temporal_env: WorkflowEnvironment, worker: Worker
) -> Opener:
    """An API client of an app built with the given settings; with `now`, the app's clock says
    that moment (the test's worker serves its workflows)."""

    @asynccontextmanager
    async def open_api(now: datetime | None = None, **values: Any) -> AsyncIterator[Any]:
        configured = make_settings(
            database_url=database_url, temporal_task_queue=settings.temporal_task_queue, **values
        )
        app = create_app(configured, temporal=temporal_env.client)
        if now is not None:
            app.dependency_overrides[get_now] = lambda: now
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
                yield c

    return open_api


async def _user(
    api: httpx.AsyncClient,
    db: AsyncSession,
    email: str,
    *,
    role: str = "customer",
    phone: str | None = None,
    name: str = "Test User",
) -> tuple[str, dict[str, str]]:
    """(user id, headers) of a new account with `role` (set in the database, as an admin would)."""
    body = await register(api, email, phone=phone, name=name)
    if role != "customer":
        await db.execute(update(User).where(User.email == email).values(role=role))
        await db.commit()
    return body["user"]["id"], bearer(body["tokens"])


async def _ask(
    api: httpx.AsyncClient, headers: dict[str, str], expect: int = 201, **body: Any
) -> dict[str, Any]:
    response = await api.post(
        "/support/callbacks", json={"reason": "billing", **body}, headers=headers
    )
    assert response.status_code == expect, response.text
    return dict(response.json())


async def _audit(db: AsyncSession, action: str, entity_id: str) -> list[AuditEntry]:
    rows = (
        await db.execute(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.at)
        )
    ).scalars()
    out = list(rows)
    await db.commit()
    return out


# --- the support line -----------------------------------------------------------------------------


async def test_the_support_line_is_public_with_a_tel_link_and_its_hours(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/support")  # no token: the app shows it before sign-in too
    assert response.status_code == 200, response.text
    line = response.json()
    assert line["phone"] == "+442079460000"  # the fictional development number
    assert line["tel"] == "tel:+442079460000"
    assert line["timezone"] == "Asia/Kolkata"
    assert line["hours"] == [
        {"day": day, "opens": "09:00", "closes": "18:00"}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat")
    ]
    assert isinstance(line["open_now"], bool)
    assert "max-age=60" in response.headers["cache-control"]


@pytest.mark.parametrize(
    ("now", "open_now", "closes_at", "opens_at"),
    [
        # 08:30 in India: opens at 09:00 IST, 03:30 UTC.
        (MONDAY_0830_IST, False, None, "2026-11-30T03:30:00Z"),
        # 09:30 in India: open until 18:00 IST, 12:30 UTC.
        (datetime(2026, 11, 30, 4, 0, tzinfo=UTC), True, "2026-11-30T12:30:00Z", None),
        # Friday 18:30 in India: closed for the weekend, opens on Monday.
        (datetime(2026, 12, 4, 13, 0, tzinfo=UTC), False, None, "2026-12-07T03:30:00Z"),
    ],
)
async def test_open_now_is_decided_in_the_support_time_zone(
    support_api: Opener, now: datetime, open_now: bool, closes_at: str | None, opens_at: str | None
) -> None:
    async with support_api(
        now=now,
        support_phone="+91 80 4567 8900",
        support_hours="mon-fri 09:00-18:00",
        support_timezone="Asia/Kolkata",
    ) as api:
        line = (await api.get("/support")).json()
    assert line["phone"] == "+918045678900"  # kept in E.164
    assert line["tel"] == "tel:+918045678900"
    assert (line["open_now"], line["closes_at"], line["opens_at"]) == (
        open_now,
        closes_at,
        opens_at,
    )


async def test_the_same_moment_is_open_in_one_zone_and_closed_in_another(
    support_api: Opener,
) -> None:
    # 03:00 UTC on a Monday: 08:30 in India (closed), 22:00 on Sunday in New York (open late).
    hours = "mon-fri 09:00-18:00, sun 20:00-24:00"
    async with support_api(now=MONDAY_0830_IST, support_hours=hours) as india:
        assert (await india.get("/support")).json()["open_now"] is False
    async with support_api(
        now=MONDAY_0830_IST, support_hours=hours, support_timezone="America/New_York"
    ) as new_york:
        line = (await new_york.get("/support")).json()
    assert line["open_now"] is True
    assert line["closes_at"] == "2026-11-30T05:00:00Z"  # midnight in New York


async def test_hours_follow_summer_time_and_join_across_midnight(support_api: Opener) -> None:
    # 08:30 UTC is 09:30 in London in summer time (open) and 08:30 in winter (closed).
    async with support_api(
        now=datetime(2026, 3, 30, 8, 30, tzinfo=UTC),
        support_hours="mon-fri 09:00-17:00",
        support_timezone="Europe/London",
    ) as api:
        summer = (await api.get("/support")).json()
    assert (summer["open_now"], summer["closes_at"]) == (True, "2026-03-30T16:00:00Z")
    async with support_api(
        now=datetime(2026, 3, 27, 8, 30, tzinfo=UTC),
        support_hours="mon-fri 09:00-17:00",
        support_timezone="Europe/London",
    ) as api:
        winter = (await api.get("/support")).json()
    assert (winter["open_now"], winter["opens_at"]) == (False, "2026-03-27T09:00:00Z")
    # Saturday night into Sunday is one stretch: it closes at 02:00, not at midnight.
    async with support_api(
        now=datetime(2026, 12, 5, 23, 0, tzinfo=UTC),
        support_hours="sat 20:00-24:00; sun 00:00-02:00",
        support_timezone="UTC",
    ) as api:
        late = (await api.get("/support")).json()
    assert (late["open_now"], late["closes_at"]) == (True, "2026-12-06T02:00:00Z")


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"support_hours": "mon-fri 9-18"}, "is not '<day>"),
        ({"support_hours": "fri-mon 09:00-18:00"}, "runs backwards"),
        ({"support_hours": "mon 18:00-09:00"}, "not before"),
        ({"support_hours": "mon 09:00-13:00, mon 12:00-18:00"}, "overlap"),
        ({"support_timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"support_phone": "12345"}, "international format"),
    ],
)
def test_bad_support_settings_fail_at_start_with_the_reason(
    values: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings(_env_file=None, **values)


def test_production_refuses_the_fictional_support_number() -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "jwt_secret": "x" * 40,
        "otp_secret": "y" * 40,
        "payments_provider": "stripe",
        "stripe_secret_key": "sk_live_x",
        "stripe_webhook_secret": "whsec_x",
    }
    with pytest.raises(ValidationError, match="SUPPORT_PHONE"):
        Settings(_env_file=None, **production)
    real = Settings(_env_file=None, **production, support_phone="+918045678900")
    assert real.support_phone == "+918045678900"


def test_support_hours_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORT_HOURS", "sat-sun 10:00-14:00")
    settings = Settings(_env_file=None)
    week = settings.support_week
    assert week["sat"] == week["sun"] == [("10:00", "14:00")]
    assert week["mon"] == []
    # Kept as text, so it passes on to another process (a worker) as it came.
    assert settings.support_hours == "sat-sun 10:00-14:00"
    monkeypatch.setenv("SUPPORT_HOURS", "")  # compose passes an unset value as empty
    assert Settings(_env_file=None).support_week["mon"] == [("09:00", "18:00")]


# --- a customer's callbacks -----------------------------------------------------------------------


async def test_a_customer_asks_for_a_callback_on_their_account_phone(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    start = datetime.now(UTC) + timedelta(hours=2)
    created = await _ask(
        api,
        asha,
        reason="service",
        note="  The technician never came  ",
        preferred_from=start.isoformat(),
        preferred_to=(start + timedelta(hours=2)).isoformat(),
    )
    assert created["phone"] == A_PHONE
    assert created["status"] == "open"
    assert created["reason"] == "service"
    assert created["note"] == "The technician never came"
    assert created["outcome"] is None and created["taken_at"] is None
    assert "close_notes" not in created and "taken_by" not in created

    other = await _ask(api, asha, reason="plan", phone="+91 98123 00002")
    assert other["phone"] == OTHER_PHONE  # another number, normalised

    listed = (await api.get("/support/callbacks", headers=asha)).json()
    assert listed["total"] == 2
    assert [c["id"] for c in listed["items"]] == [other["id"], created["id"]]  # newest first
    read = await api.get(f"/support/callbacks/{created['id']}", headers=asha)
    assert read.status_code == 200
    assert read.json() == created


async def test_without_a_phone_on_the_account_the_number_must_be_given(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, headers = await _user(api, db, "nophone@example.com")
    refused = await api.post("/support/callbacks", json={"reason": "account"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "phone"
    assert "no phone" in refused.json()["detail"]
    created = await _ask(api, headers, reason="account", phone=A_PHONE)
    assert created["phone"] == A_PHONE


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"preferred_from": "+1h"}, "preferred_to"),  # one end only: the missing one
        ({"preferred_from": "+3h", "preferred_to": "+2h"}, "preferred_to"),  # backwards
        ({"preferred_from": "-3h", "preferred_to": "-1h"}, "preferred_to"),  # over already
        ({"preferred_from": "+400h", "preferred_to": "+402h"}, "preferred_from"),  # > 14 days
    ],
)
async def test_a_preferred_window_must_be_whole_to_come_and_near(
    api: httpx.AsyncClient, db: AsyncSession, window: dict[str, str], field: str
) -> None:
    _, headers = await _user(api, db, "window@example.com", phone=A_PHONE)
    now = datetime.now(UTC)
    body = {key: (now + timedelta(hours=int(v[:-1]))).isoformat() for key, v in window.items()}
    response = await api.post(
        "/support/callbacks", json={"reason": "billing", **body}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert (await api.get("/support/callbacks", headers=headers)).json()["total"] == 0


async def test_invalid_callback_input_is_named_at_its_field(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, headers = await _user(api, db, "bad@example.com", phone=A_PHONE)
    for body, field in (
        ({"reason": "gossip"}, "reason"),
        ({"reason": "other", "note": "x" * 1001}, "note"),
        ({"reason": "other", "phone": "12345"}, "phone"),
        ({"reason": "other", "priority": "high"}, "priority"),
    ):
        response = await api.post("/support/callbacks", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field, response.json()


async def test_another_customers_callback_is_not_found_and_cannot_be_cancelled(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    _, ben = await _user(api, db, "ben@example.com", phone=OTHER_PHONE)
    hers = await _ask(api, asha)

    for response in (
        await api.get(f"/support/callbacks/{hers['id']}", headers=ben),
        await api.post(f"/support/callbacks/{hers['id']}/cancel", headers=ben),
        await api.get(f"/support/callbacks/{uuid.uuid4()}", headers=ben),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "no such callback"  # the same as a missing one
    assert (await api.get("/support/callbacks", headers=ben)).json() == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }
    still = (await api.get(f"/support/callbacks/{hers['id']}", headers=asha)).json()
    assert still["status"] == "open"
    assert (await api.get("/support/callbacks")).status_code == 401


async def test_the_customer_cancels_until_it_is_closed(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    _, support = await _user(api, db, "desk@example.com", role="support")
    waiting = await _ask(api, asha)

    cancelled = await api.post(f"/support/callbacks/{waiting['id']}/cancel", headers=asha)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    again = await api.post(f"/support/callbacks/{waiting['id']}/cancel", headers=asha)
    assert again.json() == cancelled.json()  # no change
    take = await api.post(f"/admin/callbacks/{waiting['id']}/take", headers=support)
    assert take.status_code == 409
    assert "cancelled" in take.json()["detail"]

    done = await _ask(api, asha)
    closed = await api.post(
        f"/admin/callbacks/{done['id']}/close", json={"outcome": "resolved"}, headers=support
    )
    assert closed.status_code == 200, closed.text
    late = await api.post(f"/support/callbacks/{done['id']}/cancel", headers=asha)
    assert late.status_code == 409
    assert "already closed" in late.json()["detail"]
    mine = await api.get("/support/callbacks", params={"status": "cancelled"}, headers=asha)
    assert [c["id"] for c in mine.json()["items"]] == [waiting["id"]]


async def test_at_most_the_cap_of_callbacks_wait_at_once_even_asked_together(
    support_api: Opener, db: AsyncSession
) -> None:
    async with support_api(support_max_open_callbacks=3, support_callbacks_per_account=100) as api:
        _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
        answers = await asyncio.gather(
            *(
                api.post("/support/callbacks", json={"reason": "billing"}, headers=asha)
                for _ in range(6)
            )
        )
        assert sorted(r.status_code for r in answers) == [201, 201, 201, 409, 409, 409]
        refusal = next(r for r in answers if r.status_code == 409).json()
        assert "3 callbacks waiting (at most 3)" in refusal["detail"]
        assert (await api.get("/support/callbacks", headers=asha)).json()["total"] == 3

        # Cancelling one makes room; another customer has their own room.
        first = next(r for r in answers if r.status_code == 201).json()
        await api.post(f"/support/callbacks/{first['id']}/cancel", headers=asha)
        await _ask(api, asha)
        await _ask(api, asha, expect=409)
        _, ben = await _user(api, db, "ben@example.com", phone=OTHER_PHONE)
        await _ask(api, ben)


async def test_asking_too_often_is_a_429_with_retry_after(
    support_api: Opener, db: AsyncSession
) -> None:
    async with support_api(
        support_callbacks_per_account=2,
        support_callback_window_seconds=3600,
        support_max_open_callbacks=10,
    ) as api:
        _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
        first = await _ask(api, asha)
        await api.post(f"/support/callbacks/{first['id']}/cancel", headers=asha)
        await _ask(api, asha)  # a cancelled one still counted: this is the second
        refused = await api.post("/support/callbacks", json={"reason": "plan"}, headers=asha)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        assert "too many callbacks" in refused.json()["detail"]
        assert (await api.get("/support/callbacks", headers=asha)).json()["total"] == 2
        _, ben = await _user(api, db, "ben@example.com", phone=OTHER_PHONE)
        await _ask(api, ben)  # per account: someone else is not held back


# --- staff ----------------------------------------------------------------------------------------


async def test_customers_and_technicians_cannot_reach_staff_routes(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    asha_id, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    _, tech = await _user(api, db, "tech@example.com", role="technician")
    callback = await _ask(api, asha)
    routes = [
        ("GET", "/admin/callbacks", None),
        ("GET", f"/admin/callbacks/{callback['id']}", None),
        ("POST", f"/admin/callbacks/{callback['id']}/take", None),
        ("POST", f"/admin/callbacks/{callback['id']}/close", {"outcome": "resolved"}),
        ("GET", f"/admin/users/{asha_id}/calls", None),
        ("POST", f"/admin/users/{asha_id}/calls", {"outcome": "reached", "purpose": "support"}),
    ]
    for who in (asha, tech):
        for method, path, body in routes:
            response = await api.request(method, path, json=body, headers=who)
            assert response.status_code == 403, f"{method} {path}: {response.text}"
    for method, path, body in routes:
        assert (await api.request(method, path, json=body)).status_code == 401
    assert (await api.get(f"/support/callbacks/{callback['id']}", headers=asha)).json()[
        "status"
    ] == "open"
    assert await count_rows(db, SupportCall) == 0


async def test_staff_take_and_close_a_callback_logging_the_call(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    asha_id, asha = await _user(api, db, "asha@example.com", phone=A_PHONE, name="Asha")
    desk_id, desk = await _user(api, db, "desk@example.com", role="support", name="Dev")
    callback = await _ask(api, asha, note="Charged twice")

    queue = (await api.get("/admin/callbacks", params={"status": "open"}, headers=desk)).json()
    assert [c["id"] for c in queue["items"]] == [callback["id"]]
    item = queue["items"][0]
    assert (item["user_id"], item["customer_name"], item["tel"]) == (
        asha_id,
        "Asha",
        f"tel:{A_PHONE}",
    )
    assert item["taken_by"] is None

    taken = await api.post(f"/admin/callbacks/{callback['id']}/take", headers=desk)
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "taken"
    assert taken.json()["taken_by"] == {"id": desk_id, "name": "Dev"}
    mine = await api.get("/support/callbacks/" + callback["id"], headers=asha)
    assert mine.json()["status"] == "taken"

    closed = await api.post(
        f"/admin/callbacks/{callback['id']}/close",
        json={
            "outcome": "resolved",
            "notes": "Refunded the second charge",
            "call": {"outcome": "reached", "notes": "Explained the refund"},
        },
        headers=desk,
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["outcome"], body["close_notes"]) == (
        "closed",
        "resolved",
        "Refunded the second charge",
    )
    assert body["closed_by"] == {"id": desk_id, "name": "Dev"}
    call = body["call"]
    assert (call["number"], call["tel"], call["direction"], call["purpose"]) == (
        A_PHONE,
        f"tel:{A_PHONE}",
        "outbound",
        "callback",
    )
    assert (call["callback_id"], call["staff"]["id"], call["outcome"]) == (
        callback["id"],
        desk_id,
        "reached",
    )
    log = (await api.get(f"/admin/users/{asha_id}/calls", headers=desk)).json()
    assert [entry["id"] for entry in log["items"]] == [call["id"]]

    seen = (await api.get(f"/support/callbacks/{callback['id']}", headers=asha)).json()
    assert (seen["status"], seen["outcome"]) == ("closed", "resolved")
    assert "close_notes" not in seen  # staff's notes stay with staff

    take_audit = await _audit(db, "support_callback.take", callback["id"])
    assert len(take_audit) == 1
    assert take_audit[0].actor_id == uuid.UUID(desk_id)
    assert (take_audit[0].before or {})["status"] == "open"
    assert (take_audit[0].after or {})["status"] == "taken"
    close_audit = await _audit(db, "support_callback.close", callback["id"])
    assert len(close_audit) == 1
    assert (close_audit[0].after or {})["call_id"] == call["id"]
    assert len(await _audit(db, "support_call.create", call["id"])) == 1


async def test_a_callback_someone_else_took_is_theirs(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    _, dev = await _user(api, db, "dev@example.com", role="support", name="Dev")
    _, mia = await _user(api, db, "mia@example.com", role="support", name="Mia")
    _, boss = await _user(api, db, "boss@example.com", role="admin", name="Boss")
    callback = await _ask(api, asha)
    path = f"/admin/callbacks/{callback['id']}"

    assert (await api.post(f"{path}/take", headers=dev)).status_code == 200
    again = await api.post(f"{path}/take", headers=dev)
    assert again.status_code == 200  # already theirs: no change
    assert len(await _audit(db, "support_callback.take", callback["id"])) == 1

    stolen = await api.post(f"{path}/take", headers=mia)
    assert stolen.status_code == 409
    assert stolen.json()["detail"].startswith("Dev took this callback at ")
    refused = await api.post(f"{path}/close", json={"outcome": "resolved"}, headers=mia)
    assert refused.status_code == 409
    assert "Dev took this callback" in refused.json()["detail"]

    # An admin may close it for them (Dev is away).
    closed = await api.post(f"{path}/close", json={"outcome": "not_needed"}, headers=boss)
    assert closed.status_code == 200, closed.text
    assert closed.json()["taken_by"]["name"] == "Dev"
    assert closed.json()["closed_by"]["name"] == "Boss"
    assert closed.json()["call"] is None
    twice = await api.post(f"{path}/close", json={"outcome": "resolved"}, headers=boss)
    assert twice.status_code == 409
    assert "closed (not_needed)" in twice.json()["detail"]
    assert (await api.post(f"/admin/callbacks/{uuid.uuid4()}/take", headers=dev)).status_code == 404


async def test_of_two_staff_taking_one_callback_at_once_one_wins(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    dev_id, dev = await _user(api, db, "dev@example.com", role="support", name="Dev")
    mia_id, mia = await _user(api, db, "mia@example.com", role="admin", name="Mia")
    for _ in range(3):
        callback = await _ask(api, asha)
        path = f"/admin/callbacks/{callback['id']}/take"
        answers = await asyncio.gather(api.post(path, headers=dev), api.post(path, headers=mia))
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        winner = next(r for r in answers if r.status_code == 200).json()["taken_by"]
        loser = next(r for r in answers if r.status_code == 409).json()["detail"]
        assert winner["id"] in (dev_id, mia_id)
        assert loser.startswith(f"{winner['name']} took this callback")
        assert len(await _audit(db, "support_callback.take", callback["id"])) == 1
        await api.post(f"/support/callbacks/{callback['id']}/cancel", headers=asha)


async def test_the_staff_queue_is_filtered_and_paged(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    asha_id, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    _, ben = await _user(api, db, "ben@example.com", phone=OTHER_PHONE)
    dev_id, dev = await _user(api, db, "dev@example.com", role="support")
    first = await _ask(api, asha)
    second = await _ask(api, ben)
    third = await _ask(api, asha)
    await api.post(f"/admin/callbacks/{second['id']}/take", headers=dev)

    def ids(page: httpx.Response) -> list[str]:
        assert page.status_code == 200, page.text
        return [c["id"] for c in page.json()["items"]]

    assert ids(await api.get("/admin/callbacks", params={"status": "open"}, headers=dev)) == [
        first["id"],
        third["id"],
    ]  # the queue: oldest first
    assert ids(await api.get("/admin/callbacks", params={"taken_by": dev_id}, headers=dev)) == [
        second["id"]
    ]
    assert ids(await api.get("/admin/callbacks", params={"user_id": asha_id}, headers=dev)) == [
        third["id"],
        first["id"],
    ]
    paged = await api.get("/admin/callbacks", params={"limit": 1, "offset": 1}, headers=dev)
    assert ids(paged) == [second["id"]]
    assert paged.json()["total"] == 3
    one = await api.get(f"/admin/callbacks/{first['id']}", headers=dev)
    assert one.json()["tel"] == f"tel:{A_PHONE}"
    assert (await api.get(f"/admin/callbacks/{uuid.uuid4()}", headers=dev)).status_code == 404
    bad = await api.get("/admin/callbacks", params={"status": "lost"}, headers=dev)
    assert bad.status_code == 422


# --- the call log ---------------------------------------------------------------------------------


async def test_the_call_log_is_append_only_and_a_correction_is_a_new_entry(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    asha_id, _ = await _user(api, db, "asha@example.com", phone=A_PHONE)
    dev_id, dev = await _user(api, db, "dev@example.com", role="support", name="Dev")
    calls = f"/admin/users/{asha_id}/calls"

    logged = await api.post(
        calls,
        json={"outcome": "no_answer", "purpose": "verification", "notes": "Rang out"},
        headers=dev,
    )
    assert logged.status_code == 201, logged.text
    first = logged.json()
    assert (first["number"], first["tel"], first["direction"]) == (
        A_PHONE,
        f"tel:{A_PHONE}",
        "outbound",
    )
    assert first["staff"] == {"id": dev_id, "name": "Dev"}

    # No route changes or removes an entry ...
    for method in ("PATCH", "PUT", "DELETE"):
        assert (await api.request(method, f"{calls}/{first['id']}", headers=dev)).status_code in (
            404,
            405,
        )
    # ... and neither can anyone in the database.
    for statement in (
        "UPDATE support_calls SET outcome = 'reached' WHERE id = :id",
        "DELETE FROM support_calls WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text(statement), {"id": uuid.UUID(first["id"])})
        await db.rollback()

    correction = await api.post(
        calls,
        json={
            "outcome": "reached",
            "purpose": "verification",
            "number": "+91 98123 00002",
            "direction": "inbound",
            "notes": "It was them calling back; verified",
            "corrects_id": first["id"],
        },
        headers=dev,
    )
    assert correction.status_code == 201, correction.text
    fixed = correction.json()
    assert (fixed["number"], fixed["tel"], fixed["corrects_id"]) == (
        OTHER_PHONE,
        f"tel:{OTHER_PHONE}",
        first["id"],
    )
    log = (await api.get(calls, headers=dev)).json()
    assert log["total"] == 2
    assert [e["id"] for e in log["items"]] == [fixed["id"], first["id"]]  # latest first
    assert log["items"][1] == first  # unchanged
    assert len(await _audit(db, "support_call.create", first["id"])) == 1
    assert len(await _audit(db, "support_call.create", fixed["id"])) == 1


async def test_a_call_entry_refers_only_to_this_customer(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    asha_id, asha = await _user(api, db, "asha@example.com", phone=A_PHONE)
    ben_id, _ = await _user(api, db, "ben@example.com")  # no phone on the account
    _, dev = await _user(api, db, "dev@example.com", role="support")
    hers = await _ask(api, asha)
    her_call = (
        await api.post(
            f"/admin/users/{asha_id}/calls",
            json={"outcome": "reached", "purpose": "callback", "callback_id": hers["id"]},
            headers=dev,
        )
    ).json()
    assert her_call["callback_id"] == hers["id"]

    base = {"outcome": "reached", "purpose": "support", "number": OTHER_PHONE}
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for body, field in (
        ({"outcome": "reached", "purpose": "support"}, "number"),  # Ben has no phone
        ({**base, "callback_id": hers["id"]}, "callback_id"),
        ({**base, "corrects_id": her_call["id"]}, "corrects_id"),
        ({**base, "called_at": soon}, "called_at"),
        ({**base, "outcome": "shouted"}, "outcome"),
        ({**base, "notes": "x" * 2001}, "notes"),
    ):
        response = await api.post(f"/admin/users/{ben_id}/calls", json=body, headers=dev)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, response.json()
    assert (await api.get(f"/admin/users/{ben_id}/calls", headers=dev)).json()["total"] == 0
    missing = await api.post(f"/admin/users/{uuid.uuid4()}/calls", json=base, headers=dev)
    assert missing.status_code == 404
    assert (await api.get(f"/admin/users/{uuid.uuid4()}/calls", headers=dev)).status_code == 404
