"""Live status of a service request: `GET /service-requests/{id}/events` (server-sent events).

The streams run against a real uvicorn (`uvicorn --factory api.main:app` as a process of its own,
on the suite's database and Temporal server, no worker), since httpx's ASGI transport buffers a
whole response. The customer and their subscription are real: `buy_plan` buys a plan through the
in-process API and its worker. The service requests and their timelines are written directly with
the ORM, as the service-request workflow's activities write them (the request's row changed, then
its timeline entry, in one transaction), so each change is announced by the real trigger.

A few checks of the stream's own logic (the fallback to reading the table, a queue that
overflows, the session check at each heartbeat) drive it in-process instead, where the listener's
state can be set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.deps import Principal
from api.routes.request_events import still_follows, stream_events
from api.streams import LISTENER_NAME, QUEUE_SIZE, RequestEventHub
from core.security import AccessTokens
from core.settings import Settings
from domain.accounts import service as accounts
from domain.accounts.models import User
from domain.catalog.models import ServiceCategory
from domain.service_requests import live
from domain.service_requests.models import RequestEvent, ServiceRequest
from domain.technicians.models import Technician
from tests.conftest import bearer, free_port, register
from tests.support.sse import (
    WAIT_S,
    ApiProcess,
    api_environment,
    follow,
    opened,
)
from tests.support.subscription_helpers import Bought, buy_plan

# --- a real API process ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_api(
    database_url: str, temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    env = api_environment(database_url, temporal_env)
    server = ApiProcess(env, free_port(), tmp_path_factory.mktemp("streams") / "api.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- requests and their timelines, written as the workflow's activities write them ----------------


async def new_request(db: AsyncSession, bought: Bought) -> uuid.UUID:
    category_id = (await db.execute(select(ServiceCategory.id).limit(1))).scalar_one()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    request = ServiceRequest(
        user_id=bought.buyer.id,
        subscription_id=bought.subscription_id,
        category_id=category_id,
        address_id=bought.buyer.address_id,
        address={"line1": "12 MG Road", "city": "Bengaluru", "postal_code": "560001"},
        postal_code="560001",
        description="The kitchen tap drips",
        window_start=start,
        window_end=start + timedelta(hours=2),
        status="pending",
    )
    db.add(request)
    await db.commit()
    return request.id


async def record(
    db: AsyncSession,
    request_id: uuid.UUID,
    kind: str,
    *,
    to_status: str | None = None,
    actor: str = "workflow",
    note: str | None = None,
    technician_id: uuid.UUID | None = None,
) -> int:
    """One change: the request's row first (which locks it), then its timeline entry, committed
    together. The id of the entry."""
    current = (
        await db.execute(select(ServiceRequest.status).where(ServiceRequest.id == request_id))
    ).scalar_one()
    values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if to_status is not None:
        values["status"] = to_status
    if technician_id is not None:
        values["technician_id"] = technician_id
    await db.execute(update(ServiceRequest).where(ServiceRequest.id == request_id).values(values))
    event = RequestEvent(
        request_id=request_id,
        event_key=f"req:{request_id}:{uuid.uuid4().hex}",
        at=datetime.now(UTC),
        actor=actor,
        kind=kind,
        from_status=current if to_status else None,
        to_status=to_status,
        note=note,
    )
    db.add(event)
    await db.commit()
    return event.id


async def user_with_role(
    api: httpx.AsyncClient, db: AsyncSession, email: str, role: str
) -> tuple[uuid.UUID, dict[str, str]]:
    body = await register(api, email)
    user_id = uuid.UUID(body["user"]["id"])
    await db.execute(update(User).where(User.id == user_id).values(role=role))
    await db.commit()
    return user_id, bearer(body["tokens"])


async def technician(
    api: httpx.AsyncClient, db: AsyncSession, email: str, name: str
) -> tuple[uuid.UUID, dict[str, str]]:
    """A technician (their technicians.id) and the headers of their account."""
    user_id, headers = await user_with_role(api, db, email, "technician")
    tech = Technician(
        user_id=user_id,
        name=name,
        phone=f"+9198{uuid.uuid4().int % 10**8:08d}",
        zones=["560001"],
        working_hours={"mon": [["09:00", "18:00"]]},
        timezone="Asia/Kolkata",
    )
    db.add(tech)
    await db.commit()
    return tech.id, headers


def access_token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


# --- the stream as the app sees it ----------------------------------------------------------------


async def test_the_customer_gets_the_state_then_every_change_until_it_is_completed(
    live_api: ApiProcess, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    asked = await record(db, request_id, "requested", to_status="pending", actor="customer")
    tech_id, _ = await technician(api, db, "ravi@example.com", "Ravi")
    admin_id = (await api.get("/me", headers=bought.admin)).json()["id"]

    async with follow(live_api, request_id, bought.buyer.headers) as stream:
        state = await opened(stream)
        assert state.id == str(asked)
        assert state.data["request_id"] == str(request_id)
        assert state.data["status"] == "pending"
        assert state.data["technician"] is None
        assert (state.data["escalated"], state.data["overdue"]) == (False, False)
        assert set(state.data["window"]) == {"start", "end"}

        assigned = await record(
            db,
            request_id,
            "assigned",
            to_status="assigned",
            actor=f"admin:{admin_id}",
            note="Ravi is nearby",
            technician_id=tech_id,
        )
        change = await stream.next_event()
        assert change is not None and change.name == "change"
        assert change.id == str(assigned)
        assert {k: v for k, v in change.data.items() if k != "at"} == {
            "id": assigned,
            "kind": "assigned",
            "from_status": "pending",
            "to_status": "assigned",
            "note": "Ravi is nearby",
            "actor": {"role": "staff", "name": "Support team"},  # never the admin's user id
        }

        started = await record(
            db, request_id, "started", to_status="in_progress", actor=f"technician:{tech_id}"
        )
        completed = await record(db, request_id, "completed", to_status="completed")
        await record(db, request_id, "rated", note="5 stars")  # after the end: not streamed
        rest = [await stream.next_event() for _ in range(2)]
        assert [(e.id, e.data["to_status"], e.data["actor"]) for e in rest if e] == [
            (str(started), "in_progress", {"role": "technician", "name": "Ravi"}),
            (str(completed), "completed", {"role": "system", "name": "System"}),
        ]
        assert await stream.next() is None  # the server ended the stream

    # Opened again later: the state, which says completed, and the end.
    async with follow(live_api, request_id, bought.buyer.headers) as stream:
        state = await opened(stream)
        assert state.data["status"] == "completed"
        assert state.data["technician"] == {"id": str(tech_id), "name": "Ravi"}
        assert await stream.next() is None
    # Resumed after the end it has already had: 204, which stops an EventSource reconnecting.
    async with follow(live_api, request_id, bought.buyer.headers, last_event_id=completed) as s:
        assert s.response.status_code == 204


async def test_a_stream_resumed_after_the_api_was_killed_gets_exactly_the_changes_it_missed(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    api: httpx.AsyncClient,
    db: AsyncSession,
) -> None:
    server = ApiProcess(
        api_environment(database_url, temporal_env), free_port(), tmp_path / "a.log"
    )
    server.start()
    try:
        bought = await buy_plan(api, db)
        request_id = await new_request(db, bought)
        other_request = await new_request(db, bought)
        await record(db, request_id, "requested", to_status="pending")
        tech_id, _ = await technician(api, db, "ravi@example.com", "Ravi")

        async with follow(server, request_id, bought.buyer.headers) as stream:
            await opened(stream)
            assigned = await record(
                db, request_id, "assigned", to_status="assigned", technician_id=tech_id
            )
            change = await stream.next_event()
            assert change is not None and change.id == str(assigned)
            last_seen = int(change.id)
            server.kill()
            assert await stream.next_event() is None  # cut off

        # While the API is down, the request moves on (and another request's entry takes an id
        # in between: ids are global).
        started = await record(db, request_id, "started", to_status="in_progress")
        await record(db, other_request, "requested", to_status="pending")
        noted = await record(db, request_id, "note", note="Parts on the way")

        server.start()
        async with follow(
            server, request_id, bought.buyer.headers, last_event_id=last_seen
        ) as stream:
            assert stream.response.status_code == 200
            retry = await stream.next()
            assert retry is not None and retry.retry == "3000"
            missed = [await stream.next_event() for _ in range(2)]
            assert [e.id for e in missed if e] == [str(started), str(noted)]
            assert all(e.name == "change" for e in missed if e)  # no state first when resuming
            completed = await record(db, request_id, "completed", to_status="completed")
            live_change = await stream.next_event()
            assert live_change is not None and live_change.id == str(completed)
            assert await stream.next() is None
    finally:
        server.stop()


async def test_an_api_told_to_stop_ends_its_open_streams_and_shuts_down_cleanly(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
    api: httpx.AsyncClient,
    db: AsyncSession,
) -> None:
    """An open stream never ends by itself, and a stopping server waits for its responses (uvicorn
    without `--timeout-graceful-shutdown`: for ever): the API ends its streams at the stop signal,
    so the server stops at once, and its shutdown (the listener's, the pool's) runs."""
    log = tmp_path / "api.log"
    server = ApiProcess(api_environment(database_url, temporal_env), free_port(), log)
    server.start()
    try:
        bought = await buy_plan(api, db)
        request_id = await new_request(db, bought)
        async with follow(server, request_id, bought.buyer.headers) as stream:
            await opened(stream)
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            assert await stream.next_event() is None  # ended by the server
        # uvicorn stops, then raises the signal it caught again: killed by SIGTERM, by itself.
        assert server.proc.wait(timeout=WAIT_S) == -signal.SIGTERM
        output = log.read_text()
        assert "Application shutdown complete" in output
        assert "Exception in ASGI application" not in output
    finally:
        server.kill()


async def test_only_the_customer_staff_and_the_assigned_technician_may_follow(
    live_api: ApiProcess, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    await record(db, request_id, "requested", to_status="pending")
    _, stranger = await user_with_role(api, db, "stranger@example.com", "customer")
    _, support = await user_with_role(api, db, "support@example.com", "support")
    assigned_id, assigned = await technician(api, db, "ravi@example.com", "Ravi")
    _, unassigned = await technician(api, db, "meera@example.com", "Meera")
    await record(db, request_id, "assigned", to_status="assigned", technician_id=assigned_id)

    async def refused(request: uuid.UUID, headers: dict[str, str]) -> dict[str, Any]:
        async with follow(live_api, request, headers) as stream:
            # Before reading the body: were it a stream, reading it would never end.
            assert stream.response.status_code == 404
            body = await stream.response.aread()  # the whole answer: no event, ever
            assert stream.response.headers["content-type"] == "application/problem+json"
            problem: dict[str, Any] = json.loads(body)
            return {k: v for k, v in problem.items() if k != "instance"}

    missing = await refused(uuid.uuid4(), stranger)
    assert await refused(request_id, stranger) == missing  # exactly like a missing request
    assert await refused(request_id, unassigned) == missing

    for headers in (assigned, support, bought.admin, bought.buyer.headers):
        async with follow(live_api, request_id, headers) as stream:
            state = await opened(stream)
            assert state.data["technician"] == {"id": str(assigned_id), "name": "Ravi"}

    async with follow(live_api, request_id, {}) as stream:
        assert stream.response.status_code == 401
        assert stream.response.headers["www-authenticate"] == "Bearer"

    # Taken off the roster, the assigned technician follows it no more.
    await db.execute(update(Technician).where(Technician.id == assigned_id).values(is_active=False))
    await db.commit()
    assert await refused(request_id, assigned) == missing


async def test_a_user_holds_at_most_max_streams_per_user_at_once(
    live_api: ApiProcess, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    limit = Settings(_env_file=None).max_streams_per_user
    async with contextlib.AsyncExitStack() as streams:
        held = [
            await streams.enter_async_context(follow(live_api, request_id, bought.buyer.headers))
            for _ in range(limit)
        ]
        for stream in held:
            await opened(stream)
        async with follow(live_api, request_id, bought.buyer.headers) as stream:
            assert stream.response.status_code == 429
            assert int(stream.response.headers["retry-after"]) > 0
            assert stream.response.headers["content-type"] == "application/problem+json"
        # Someone else is not counted against this user.
        async with follow(live_api, request_id, bought.admin) as stream:
            await opened(stream)
    # Once they close theirs, the places are free again (the server notices a closed stream at
    # once; bounded wait).
    deadline = time.monotonic() + WAIT_S
    while True:
        async with follow(live_api, request_id, bought.buyer.headers) as stream:
            if stream.response.status_code == 200:
                await opened(stream)
                break
        assert time.monotonic() < deadline, "the places were never given back"
        await asyncio.sleep(0.1)


async def test_the_stream_ends_with_reauth_when_the_access_token_expires(
    live_api: ApiProcess, api: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    tokens = AccessTokens(settings)
    claims = tokens.decode(access_token(bought.buyer.headers))
    tokens.ttl = timedelta(seconds=3)  # the real one lasts 15 minutes
    short = tokens.issue(user_id=claims.user_id, session_id=claims.session_id, role=claims.role)

    async with follow(live_api, request_id, {"Authorization": f"Bearer {short}"}) as stream:
        await opened(stream)
        reauth = await stream.next_event()
        assert reauth is not None and reauth.name == "reauth"
        assert "expired" in reauth.data["reason"]
        assert await stream.next() is None


async def test_a_stream_keeps_going_when_its_process_loses_the_listener(
    live_api: ApiProcess, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    async with follow(live_api, request_id, bought.buyer.headers) as stream:
        await opened(stream)
        # Every API process's listener on this database loses its connection.
        await db.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :n AND datname = current_database()"
            ),
            {"n": LISTENER_NAME},
        )
        await db.commit()
        noted = await record(db, request_id, "note", note="On the way")
        change = await stream.next_event()
        assert change is not None and change.id == str(noted)


# --- the stream's own logic, in-process -----------------------------------------------------------


async def _principal(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, headers: dict[str, str]
) -> Principal:
    claims = AccessTokens(settings).decode(access_token(headers))
    async with sessions() as db:
        found = await accounts.load_principal(
            db, user_id=claims.user_id, session_id=claims.session_id
        )
    assert found is not None
    return Principal(*found, expires_at=claims.expires_at)


async def _followed(
    sessions: async_sessionmaker[AsyncSession], request_id: uuid.UUID, principal: Principal
) -> live.Followed:
    async with sessions() as db:
        followed = await live.follow(db, request_id=request_id, user=principal.user)
    assert followed is not None
    return followed


async def test_without_its_listener_a_stream_reads_the_table_every_second(
    api: httpx.AsyncClient,
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    principal = await _principal(sessions, settings, bought.buyer.headers)
    hub = RequestEventHub(max_per_user=5)  # never started: it never hears of a change
    followed = await _followed(sessions, request_id, principal)
    subscription = hub.open(request_id, principal.user.id)
    events = stream_events(
        sessions=sessions,
        hub=hub,
        subscription=subscription,
        principal=principal,
        followed=followed,
        resume=None,
    )
    try:
        assert (await anext(events)).startswith(b"retry: 3000")
        assert b"event: state" in await anext(events)
        noted = await record(db, request_id, "note", note="On the way")
        async with asyncio.timeout(WAIT_S):
            change = await anext(events)
        assert f"id: {noted}".encode() in change
    finally:
        await events.aclose()
        subscription.close()
    assert hub.open_streams == 0


async def test_a_stream_whose_queue_overflows_reads_what_it_missed_by_position(
    api: httpx.AsyncClient,
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    principal = await _principal(sessions, settings, bought.buyer.headers)
    hub = RequestEventHub(max_per_user=5)
    hub.listening = True  # as if connected: announcements come only from `publish` below
    followed = await _followed(sessions, request_id, principal)
    slow = hub.open(request_id, principal.user.id)
    other = hub.open(request_id, principal.user.id)
    events = stream_events(
        sessions=sessions,
        hub=hub,
        subscription=slow,
        principal=principal,
        followed=followed,
        resume=None,
    )
    try:
        await anext(events)  # retry
        await anext(events)  # state
        # The stream reads once, then waits for an announcement (a moment for it to get there;
        # were it still reading, what it read directly would only make this test easier).
        first = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.2)
        ids = [await record(db, request_id, "note", note=f"#{n}") for n in range(QUEUE_SIZE * 2)]
        for event_id in ids:
            hub.publish(request_id, event_id)  # never blocks, however full a queue is
        assert other.news_after(0)  # the other stream was told too
        received = []
        async with asyncio.timeout(WAIT_S):
            chunk = await first
            while True:
                received.append(int(chunk.decode().split("id: ")[1].split("\n")[0]))
                if len(received) == len(ids):
                    break
                chunk = await anext(events)
        assert received == ids  # in order, none twice, none skipped
    finally:
        await events.aclose()
        slow.close()
        other.close()


async def test_at_each_heartbeat_a_stream_checks_its_session_and_access(
    api: httpx.AsyncClient,
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    bought = await buy_plan(api, db)
    request_id = await new_request(db, bought)
    ravi, ravi_headers = await technician(api, db, "ravi@example.com", "Ravi")
    meera, _ = await technician(api, db, "meera@example.com", "Meera")
    await record(db, request_id, "assigned", to_status="assigned", technician_id=ravi)
    tech = await _principal(sessions, settings, ravi_headers)
    customer = await _principal(sessions, settings, bought.buyer.headers)

    def check(p: Principal) -> Any:
        return still_follows(sessions, request_id, p.user.id, p.session.id)

    assert await check(tech) is True
    await record(db, request_id, "reassigned", technician_id=meera)
    assert await check(tech) is False  # ends the stream; reconnecting is a 404
    assert await check(customer) is True
    logout = await api.post("/auth/logout", headers=bought.buyer.headers)
    assert logout.status_code == 204
    assert await check(customer) is None  # `reauth`, then the end
