"""The live parts of the service-requests benchmark, with real workflows: assignments through the
API, and the time from a status change to its server-sent event.

- `start_subscriptions`: each live customer's SubscriptionWorkflow, started as the system starts
  it (`SubscriptionActivities._start`, from `_input`), since a request reserves its visit
  on that workflow; waits until every one has run its first task.
- `open_requests`: each customer asks for a visit (POST /service-requests), 8 at once: the
  workflows run from there (update-with-start: the answer comes once the visit is reserved).
- `assign_all`: the admin assigns each, one after another, as an admin works (POST
  /admin/service-requests/{id}/assign: dispatch reads, then the Workflow Update, which books the
  technician and records the change, then the detail read back). Each request's window and
  technician are chosen so that every assignment is valid.
- `stream_changes`: one stream per request (GET /service-requests/{id}/events, each by its own
  customer: MAX_STREAMS_PER_USER is per user), all open before anything changes; then the admin
  starts every request, then completes every one (CHANGES_IN_FLIGHT calls at a time). Latency
  of one change = its `change` event's arrival on the request's stream minus the moment its
  HTTP call was sent.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

API = "/api/v1"
OPENS_IN_FLIGHT = 8
LOGINS_IN_FLIGHT = 4  # each is an argon2id verification on the API
CHANGES_IN_FLIGHT = 4
STREAM_READY_S = 60.0
EVENT_WAIT_S = 30.0  # after the last change: events not there by then are counted missing
SLOTS = (1, 4, 7, 10, 13, 16, 19)  # UTC hours of the 2-hour windows (technicians work 00-24)
PASSWORD = "bench passphrase, long enough"  # noqa: S105 (throwaway users of a throwaway DB)


def say(message: str) -> None:
    import sys

    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def login(client: Any, identifier: str) -> dict[str, str]:
    response = await client.post(
        f"{API}/auth/login", json={"identifier": identifier, "password": PASSWORD}
    )
    if response.status_code != 200:
        raise RuntimeError(f"login {identifier}: {response.status_code} {response.text[:300]}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def gather_limited(limit: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def start_subscriptions(settings: Any, sessions: Any, client: Any, ids: list[str]) -> float:
    """Every live customer's SubscriptionWorkflow started and past its first task; seconds."""
    import psycopg

    from activities.subscriptions import SubscriptionActivities
    from bench.requests_seed import conninfo
    from domain.notifications.service import Notifier
    from providers.notifications import notification_providers
    from providers.payments import payment_provider

    t0 = time.perf_counter()
    starter = SubscriptionActivities(
        sessions=sessions,
        settings=settings,
        provider=payment_provider(settings, sessions=sessions),
        notifier=Notifier(sessions, notification_providers(settings), settings),
        temporal=client,
        task_queue=settings.temporal_task_queue,
    )
    inputs = []
    async with sessions() as db:
        for sid in ids:
            inputs.append(await starter._input(db, uuid.UUID(sid)))
    await gather_limited(16, [partial(starter._start, inp, facts) for inp, facts in inputs])
    deadline = time.perf_counter() + 300
    async with await psycopg.AsyncConnection.connect(
        conninfo(settings.database_url), autocommit=True
    ) as conn:
        while True:
            cur = await conn.execute(
                "SELECT count(*) FROM subscriptions WHERE id = ANY(%s) "
                "AND next_reminder_at IS NOT NULL",
                ([uuid.UUID(s) for s in ids],),
            )
            row = await cur.fetchone()
            if row is not None and row[0] >= len(ids):
                return time.perf_counter() - t0
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {row[0] if row else 0} of {len(ids)} subscriptions ran")
            await asyncio.sleep(0.5)


def windows(count: int, technicians: int) -> list[tuple[datetime, datetime]]:
    """Request i's window: technician i % technicians takes it, each of theirs in its own slot."""
    day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    out = []
    for i in range(count):
        slot = i // technicians
        start = day0 + timedelta(days=slot // len(SLOTS), hours=SLOTS[slot % len(SLOTS)])
        out.append((start, start + timedelta(hours=2)))
    return out


@dataclass
class Timed:
    latencies: list[float] = field(default_factory=list)  # seconds, in the order they ran
    problems: dict[str, int] = field(default_factory=dict)

    def problem(self, what: str) -> None:
        self.problems[what] = self.problems.get(what, 0) + 1


async def open_requests(
    client: Any,
    customers: list[dict[str, str]],
    subscriptions: list[str],
    category_id: str,
    slots: list[tuple[datetime, datetime]],
) -> tuple[list[str], Timed]:
    """Each customer asks for one visit; (request ids, the time of each POST)."""
    timed = Timed()
    ids: list[str] = [""] * len(customers)

    async def one(i: int) -> None:
        start, end = slots[i]
        body = {
            "subscription_id": subscriptions[i],
            "category_id": category_id,
            "description": "The kitchen tap drips all night.",
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        }
        headers = {**customers[i], "Idempotency-Key": f"bench-{uuid.uuid4()}"}
        t0 = time.perf_counter()
        response = await client.post(f"{API}/service-requests", json=body, headers=headers)
        elapsed = time.perf_counter() - t0
        if response.status_code != 201:
            timed.problem(f"status {response.status_code}: {response.text[:200]}")
            return
        timed.latencies.append(elapsed)
        ids[i] = response.json()["id"]

    await gather_limited(OPENS_IN_FLIGHT, [partial(one, i) for i in range(len(customers))])
    return ids, timed


async def assign_all(
    client: Any, admin: dict[str, str], ids: list[str], technicians: list[str]
) -> Timed:
    """One assignment after another; the answer must say assigned."""
    timed = Timed()
    for i, rid in enumerate(ids):
        body = {"technician_id": technicians[i % len(technicians)], "reason": "bench: nearest"}
        t0 = time.perf_counter()
        response = await client.post(
            f"{API}/admin/service-requests/{rid}/assign", json=body, headers=admin
        )
        elapsed = time.perf_counter() - t0
        if response.status_code != 200 or response.json().get("status") != "assigned":
            timed.problem(f"status {response.status_code}: {response.text[:200]}")
            continue
        timed.latencies.append(elapsed)
    return timed


@dataclass
class StreamRun:
    streams: int = 0
    opened_s: float = 0.0  # until every stream had its `state` event
    changes: int = 0  # status changes made
    # (request, to_status) -> seconds
    sent: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)
    ended: int = 0  # streams the server closed after the final change
    open_during: dict[str, int] = field(default_factory=dict)  # phase -> streams open at its start

    def problem(self, what: str) -> None:
        self.problems[what] = self.problems.get(what, 0) + 1


async def _follow(
    client: Any,
    rid: str,
    headers: dict[str, str],
    run: StreamRun,
    ready: asyncio.Event,
    counter: list[int],
    total: int,
) -> None:
    """Read one request's stream until the server ends it; record each change's arrival."""
    try:
        async with client.stream(
            "GET", f"{API}/service-requests/{rid}/events", headers=headers
        ) as response:
            if response.status_code != 200:
                run.problem(f"stream status {response.status_code}")
                return
            event, data = "", ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line == "" and event:
                    now = time.perf_counter()
                    if event == "state":
                        counter[0] += 1
                        if counter[0] >= total:
                            ready.set()
                    elif event == "change":
                        change = json.loads(data)
                        run.arrived.setdefault(f"{rid} {change['to_status']}", now)
                    event, data = "", ""
            run.ended += 1
    except Exception as exc:  # a broken stream is a finding, not a crash
        run.problem(f"stream {type(exc).__name__}")


async def stream_changes(
    base_url: str,
    admin_client: Any,
    admin: dict[str, str],
    ids: list[str],
    customers: list[dict[str, str]],
) -> StreamRun:
    """Open one stream per request, then start every request, then complete every one."""
    import httpx

    run = StreamRun(streams=len(ids))
    limits = httpx.Limits(max_connections=len(ids) + 10, max_keepalive_connections=len(ids) + 10)
    ready = asyncio.Event()
    counter = [0]
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=httpx.Timeout(30.0, read=None), trust_env=False
    ) as streams_client:
        t0 = time.perf_counter()
        readers = [
            asyncio.create_task(
                _follow(streams_client, rid, customers[i], run, ready, counter, len(ids))
            )
            for i, rid in enumerate(ids)
        ]
        try:
            await asyncio.wait_for(ready.wait(), STREAM_READY_S)
        except TimeoutError:
            run.problem(f"only {counter[0]} of {len(ids)} streams opened")
        run.opened_s = time.perf_counter() - t0
        await asyncio.sleep(1.0)  # let the last streams reach their first wait

        async def change(rid: str, move: str, to_status: str) -> None:
            key = f"{rid} {to_status}"
            body = {"notes": "Done, tested."} if move == "complete" else None
            run.sent[key] = time.perf_counter()
            response = await admin_client.post(
                f"{API}/admin/service-requests/{rid}/{move}", json=body, headers=admin
            )
            run.answered[key] = time.perf_counter()
            if response.status_code != 200:
                run.problem(f"{move} status {response.status_code}: {response.text[:200]}")
            run.changes += 1

        for move, to_status in (("start", "in_progress"), ("complete", "completed")):
            run.open_during[move] = sum(1 for r in readers if not r.done())
            await gather_limited(
                CHANGES_IN_FLIGHT,
                [partial(change, rid, move, to_status) for rid in ids],
            )
        # Each stream ends after its request's completion: wait for them, then for no more.
        _, pending = await asyncio.wait(readers, timeout=EVENT_WAIT_S)
        for task in pending:
            task.cancel()
    return run
