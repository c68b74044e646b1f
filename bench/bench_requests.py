"""Service requests at 100,000: the admin's filtered list, assignments through the API with real
workflows, and the time from a status change to its server-sent event at 100 open streams.

What runs, on a stack of its own (`bench.harness.running_stack`: a throwaway PostgreSQL, a
Temporal dev server in memory, the real worker and the API under one uvicorn process):

1. Rows, not timed (`bench.requests_seed`): BENCH_REQUESTS (default 100,000) requests with their
   customers, addresses, subscriptions, technicians, bookings, timelines, dispatch log and visit
   reservations, by COPY, then VACUUM ANALYZE (what autovacuum leaves a table like).
2. The list: an admin signs in (POST /auth/login) and calls GET /admin/service-requests with
   LIST_MIX's filter combinations (status, category, zone, date ranges, technician, SLA flags,
   pages up to offset 5,000), one request at a time as an admin's screen does; the technician,
   zone and category change every round. One round is not counted (warm-up), then
   BENCH_LIST_ROUNDS (default 20) rounds. Every answer must be 200. Figures: p50 / p99 / max over
   all of them and per combination; the target is p99 <= 50 ms. For a combination whose p99
   misses it (or every one, with BENCH_EXPLAIN=1), each SQL statement the route runs is captured
   (an engine event on the driver's own engine, running the same query functions) and printed
   with its EXPLAIN ANALYZE.
3. Assignments (`bench.requests_live`): LIVE_CUSTOMERS customers, each with a subscription whose
   SubscriptionWorkflow runs, sign in and each asks for a visit through the API (the request's
   workflow starts and reserves the visit); then the admin assigns each, one after another.
   Figure: the HTTP round trip of POST /assign (dispatch reads, the Workflow Update, the detail).
4. Streams: STREAMS of those requests, each followed by its own customer; once every stream has
   its `state`, the admin starts each request, then completes each. Figure: event arrival minus
   the change's HTTP call sent; target p99 <= 1 s.

The machine's load (os.getloadavg) and the CPU each process used are read around every timed
part: other work on the same cores (other test runs) slows every figure, and the lines say so.

The driver is a separate process (`python -m bench.bench_requests drive SPEC`) with the stack's
environment and working directory; it prints its figures as JSON and ends with `os._exit`
(sdk-python#300).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench.harness import (
    PYTHON,
    cpu_seconds,
    cpu_used,
    drive_main,
    exit_now,
    log,
    percentile,
    run_to_end,
    running_stack,
)

DEFAULT_COUNT = 100_000
DEFAULT_ROUNDS = 20
LIVE_CUSTOMERS = 200
LIVE_TECHNICIANS = 20
STREAMS = 100
TARGET_LIST_P99_MS = 50.0
TARGET_EVENT_P99_S = 1.0
BUSY_OUTSIDE_CORES = 0.25  # other work on the machine above this: the figures say so


@dataclass
class Part:
    """One timed part: its latencies (ms) with their labels, and the machine while it ran."""

    latencies_ms: list[float] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_before: list[float] = field(default_factory=list)  # os.getloadavg()
    load_after: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process + machine


@dataclass
class RequestFigures:
    requests: int
    seeded: dict[str, Any]
    prep_seconds: float
    rounds: int
    listing: Part
    by_combo: dict[str, list[float]]  # combination -> latencies (ms)
    plans: dict[str, list[str]]  # combination -> EXPLAIN ANALYZE of its statements
    opening: Part  # POST /service-requests (not a target; context for the assignment)
    assigning: Part
    streaming: Part  # latencies: event arrival - change sent
    stream_extra: dict[str, Any]

    @property
    def valid(self) -> bool:
        parts = (self.listing, self.assigning, self.streaming)
        return all(not p.problems and p.latencies_ms for p in parts)


# --- the parent side: run from `python -m bench` ----------------------------------------------


def run(work: Path, *, count: int, rounds: int) -> RequestFigures:
    work.mkdir()
    with running_stack(work) as stack:
        spec = {"pids": stack.pids, "count": count, "rounds": rounds, "api_url": stack.api_url}
        log(
            f"service-requests driver: {count:,} requests by COPY, then the list, assignments and "
            "streams (progress below)"
        )
        output = run_to_end(
            [PYTHON, "-m", "bench.bench_requests", "drive", json.dumps(spec)],
            timeout_s=3600,
            cwd=work / "cwd",
            env=stack.env,
            pass_stderr=True,
        )
    data = json.loads(output.strip().splitlines()[-1])
    for name in ("listing", "opening", "assigning", "streaming"):
        data[name] = Part(**data[name])
    return RequestFigures(**data)


# --- the driver process -----------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Meter:
    """Load average and CPU per process tree around one timed part."""

    def __init__(self, roots: dict[str, int], part: Part) -> None:
        self.roots, self.part = roots, part

    def __enter__(self) -> Part:
        self.part.load_before = list(os.getloadavg())
        self._cpu0 = cpu_seconds(self.roots)
        self._t0 = time.perf_counter()
        return self.part

    def __exit__(self, *exc: object) -> None:
        self.part.seconds = time.perf_counter() - self._t0
        self.part.cpu = cpu_used(self._cpu0, cpu_seconds(self.roots))
        self.part.load_after = list(os.getloadavg())


def list_mix(seeded: Any, rng: random.Random, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The filter combinations of one round: what an admin's screens ask for."""
    tech = rng.choice(seeded.technicians)
    zone = rng.choice(seeded.zones)
    category = rng.choice(list(seeded.categories.values()))
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def day(n: int) -> str:
        return (today + timedelta(days=n)).isoformat()

    return [
        ("no filter, first page", {}),
        ("status=pending", {"status": "pending"}),
        (
            "status=assigned, next 7 days",
            {"status": "assigned", "starts_from": day(0), "starts_before": day(7)},
        ),
        ("status=pending, category", {"status": "pending", "category_id": category}),
        ("zone", {"zone": zone}),
        (
            "zone, category, last 90 days",
            {
                "zone": zone,
                "category_id": category,
                "starts_from": day(-90),
                "starts_before": day(0),
            },
        ),
        ("technician", {"technician_id": tech}),
        (
            "technician, last 30 days",
            {"technician_id": tech, "starts_from": day(-30), "starts_before": day(1)},
        ),
        ("escalated", {"escalated": "true"}),
        ("overdue, status=assigned", {"overdue": "true", "status": "assigned"}),
        ("last 7 days", {"starts_from": day(-7), "starts_before": day(0)}),
        ("status=completed, page 3", {"status": "completed", "offset": 100}),
        ("status=completed, offset 5,000", {"status": "completed", "offset": 5000}),
        ("no filter, offset 2,000, limit 200", {"offset": 2000, "limit": 200}),
        (
            "status=cancelled, category, last 30 days",
            {
                "status": "cancelled",
                "category_id": category,
                "starts_from": day(-30),
                "starts_before": day(0),
            },
        ),
        ("escalated, zone", {"escalated": "true", "zone": zone}),
    ]


def _short(text: str, width: int = 240) -> str:
    """A statement or plan line for a terminal: long IN lists of ids folded, then cut."""
    text = re.sub(r"\(%\(id_1_1\)s::UUID(, %\(id_1_\d+\)s::UUID)+\)", "(<ids>)", text)
    text = re.sub(r"'\{[0-9a-f-]{36}(,[0-9a-f-]{36})+\}'", "'{<ids>}'", text)
    return text if len(text) <= width else text[: width - 3] + "..."


async def _explain(settings: Any, params: dict[str, Any]) -> list[str]:
    """Every statement the list route runs for these filters, with its EXPLAIN ANALYZE: the
    route's own query functions on an engine of ours whose statements are captured."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.db import make_engine
    from domain.service_requests import queries
    from domain.service_requests.models import RequestStatus

    engine = make_engine(settings)
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    out: list[str] = []
    try:
        async with AsyncSession(engine) as db:
            await queries.admin_list(
                db,
                status=RequestStatus(params["status"]) if "status" in params else None,
                category_id=params.get("category_id"),
                postal_code=params.get("zone"),
                starts_from=datetime.fromisoformat(params["starts_from"])
                if "starts_from" in params
                else None,
                starts_before=datetime.fromisoformat(params["starts_before"])
                if "starts_before" in params
                else None,
                technician_id=params.get("technician_id"),
                escalated=True if params.get("escalated") else None,
                overdue=True if params.get("overdue") else None,
                limit=int(params.get("limit", 50)),
                offset=int(params.get("offset", 0)),
            )
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
        async with engine.connect() as conn:
            for statement, parameters in captured:
                result = await conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                )
                out.append(_short(" ".join(statement.split())))
                out.extend(f"    {_short(line)}" for (line,) in result)
    finally:
        await engine.dispose()
    return out


async def _list_part(
    settings: Any, base_url: str, seeded: Any, rounds: int, roots: dict[str, int]
) -> tuple[Part, dict[str, list[float]], dict[str, list[str]]]:
    import httpx

    from bench import requests_live as live

    part = Part()
    by_combo: dict[str, list[float]] = {}
    rng = random.Random(20261204)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, trust_env=False) as client:
        admin = await live.login(client, seeded.admin_email)

        async def one_round(counted: bool) -> None:
            for label, params in list_mix(seeded, rng, now):
                t0 = time.perf_counter()
                response = await client.get(
                    f"{live.API}/admin/service-requests", params=params, headers=admin
                )
                elapsed_ms = (time.perf_counter() - t0) * 1000.0
                if not counted:
                    continue
                if response.status_code != 200:
                    key = f"{label}: status {response.status_code}"
                    part.problems[key] = part.problems.get(key, 0) + 1
                    continue
                part.latencies_ms.append(elapsed_ms)
                by_combo.setdefault(label, []).append(elapsed_ms)

        _say("the admin list: one warm-up round, then the measured rounds")
        await one_round(False)
        with Meter(roots, part):
            for _ in range(rounds):
                await one_round(True)
    plans: dict[str, list[str]] = {}
    explain_all = os.environ.get("BENCH_EXPLAIN") == "1"
    mix = dict(list_mix(seeded, random.Random(20261204), now))
    for label, values in by_combo.items():
        if explain_all or percentile(sorted(values), 99) > TARGET_LIST_P99_MS:
            plans[label] = await _explain(settings, mix[label])
    return part, by_combo, plans


def _part_of(timed: Any, meter_part: Part) -> Part:
    meter_part.latencies_ms = [1000.0 * s for s in timed.latencies]
    meter_part.problems = dict(timed.problems)
    return meter_part


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx

    import providers.models  # noqa: F401 (every table, so the ORM resolves every foreign key)
    from bench import requests_live as live
    from bench import requests_seed as seed
    from core.db import make_engine, make_sessionmaker
    from core.security import Passwords
    from core.settings import get_settings
    from core.temporal import connect

    settings = get_settings()
    roots = {**spec["pids"], "load driver": os.getpid()}
    t0 = time.perf_counter()
    password_hash = Passwords(settings).hash(live.PASSWORD)
    _say(f"seeding {spec['count']:,} requests and their history (COPY; not timed)")
    seeded = await seed.seed_history(
        settings.database_url, count=spec["count"], password_hash=password_hash, say=_say
    )
    live_rows = await seed.seed_live(
        settings.database_url,
        customers=LIVE_CUSTOMERS,
        technicians=LIVE_TECHNICIANS,
        password_hash=password_hash,
    )
    await seed.vacuum(settings.database_url)
    prep_seconds = time.perf_counter() - t0
    _say(f"seeded in {prep_seconds:.0f} s")

    listing, by_combo, plans = await _list_part(
        settings, spec["api_url"], seeded, spec["rounds"], roots
    )

    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    temporal = await connect(settings)
    _say(f"starting {LIVE_CUSTOMERS} SubscriptionWorkflows for the live customers")
    await live.start_subscriptions(
        settings, sessions, temporal, [c.subscription_id for c in live_rows.customers]
    )
    await engine.dispose()
    async with httpx.AsyncClient(base_url=spec["api_url"], timeout=60.0, trust_env=False) as client:
        _say(f"signing in {LIVE_CUSTOMERS} customers (argon2id each; not timed)")
        customers = await live.gather_limited(
            live.LOGINS_IN_FLIGHT,
            [partial(live.login, client, c.email) for c in live_rows.customers],
        )
        slots = live.windows(LIVE_CUSTOMERS, LIVE_TECHNICIANS)
        _say(f"{LIVE_CUSTOMERS} customers ask for a visit (POST /service-requests)")
        with Meter(roots, Part()) as opening_meter:
            ids, opened = await live.open_requests(
                client,
                customers,
                [c.subscription_id for c in live_rows.customers],
                seeded.categories["plumbing"],
                slots,
            )
        opening = _part_of(opened, opening_meter)
        ids = [rid for rid in ids if rid]
        admin = await live.login(client, seeded.admin_email)
        _say(f"assigning {len(ids)} requests, one after another")
        with Meter(roots, Part()) as assign_meter:
            assigned = await live.assign_all(client, admin, ids, live_rows.technicians)
        assigning = _part_of(assigned, assign_meter)
        followed = ids[:STREAMS]
        _say(f"{len(followed)} streams, then {2 * len(followed)} status changes")
        streaming = Part()
        with Meter(roots, streaming):
            streamed = await live.stream_changes(
                spec["api_url"], client, admin, followed, customers[:STREAMS]
            )
    streaming.latencies_ms = sorted(
        1000.0 * (streamed.arrived[key] - sent)
        for key, sent in streamed.sent.items()
        if key in streamed.arrived
    )
    missing = len(streamed.sent) - len(streaming.latencies_ms)
    streaming.problems = dict(streamed.problems)
    if missing:
        streaming.problems["events that never arrived"] = missing
    after_answer = sorted(
        1000.0 * (streamed.arrived[key] - answered)
        for key, answered in streamed.answered.items()
        if key in streamed.arrived
    )
    answer_ms = sorted(
        1000.0 * (streamed.answered[key] - sent)
        for key, sent in streamed.sent.items()
        if key in streamed.answered
    )
    stream_extra = {
        "streams": streamed.streams,
        "opened_s": streamed.opened_s,
        "changes": streamed.changes,
        "ended": streamed.ended,
        "open_during": streamed.open_during,
        "answer_ms": answer_ms,
        "after_answer_ms": after_answer,
        "in_flight": live.CHANGES_IN_FLIGHT,
    }
    return asdict(
        RequestFigures(
            requests=spec["count"],
            seeded=asdict(seeded),
            prep_seconds=prep_seconds,
            rounds=spec["rounds"],
            listing=listing,
            by_combo=by_combo,
            plans=plans,
            opening=opening,
            assigning=assigning,
            streaming=streaming,
            stream_extra=stream_extra,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "drive":
        exit_now(drive_main(_drive, sys.argv[2]))
    else:
        sys.exit("usage: python -m bench.bench_requests drive SPEC_JSON")
