"""Many live subscriptions, each holding its far timers, and the lateness of reminders that fall
due among them.

What runs, on a stack of its own (`bench.harness.running_stack` with no API): a throwaway
PostgreSQL, a Temporal dev server on a SQLite file in the temporary directory (WAL,
synchronous=off, as `make run` has it: in memory it grows by about 90 KB per open workflow, so
100,000 would need about 9 GB), and the real worker (`python -m worker`, settings by
environment; `BENCH_WORKER_MAX_CACHED_WORKFLOWS` becomes its `WORKER_MAX_CACHED_WORKFLOWS`).

1. Rows, not timed: the demo catalog, one customer with an email, and BENCH_SUBSCRIPTIONS
   (default 10,000) active subscriptions of its first plan, each with a 365-day period from now,
   its own order item (`subscriptions.order_item_id` is unique) and its first period; orders are
   shared, 10,000 items each (`order_items.position` is a SMALLINT). Written with COPY in one
   transaction. The workflow inputs are built as `domain.subscriptions.service.workflow_input`
   builds them: that function gives the first subscription's, the others are copies with their
   own id and dates, and it is called again for the last one to check the copy is identical.
   The policy is the worker's own (`activities.subscriptions.policy_from` on the same settings):
   reminders 30, 7 and 1 days before the end, so each workflow waits on a timer 335 days away.
2. Starts, timed: every workflow is started as the system starts it (the very method its
   activity uses, `SubscriptionActivities._start`: id `subscription:{id}`, USE_EXISTING,
   REJECT_DUPLICATE, the five search attributes), 32 start calls in flight. Figures: starts per
   second (the first call sent to the last one answered) and the time until every workflow had
   run its first task (it publishes its schedule: `subscriptions.next_reminder_at` becomes
   non-null for all of them), the CPU each process used over that time, then the resident memory
   (RSS, psutil, the process and its children) of the worker and of the Temporal dev server, and
   the peaks: sampled every second throughout, and the kernel's high-water mark (VmHWM).
3. Lateness, with those still alive: 1,000 more subscriptions whose periods end so that their
   last reminder (1 day before the end; the earlier reminders fall before their period began, so
   they have none) falls due at T0 + a random offset within 60 s. They are started at half the
   rate the live ones settled at in step 2, as their purchases would have spread them out (in a
   burst their first tasks would queue in the worker, and since a timer's duration counts from
   the start of the task that sets it, that wait would be added to every reminder); T0 leaves room
   for it (15 s plus 1.5 times what their starts take), and the figure is INVALID unless all had
   run their first task before the first due time. Lateness of one reminder = its outbox row's
   `notification_messages.created_at` (the database's clock at the insert that puts the message in
   the customer's inbox: with the embedded `outbox` provider the row is the delivery) minus its due
   time: what the customer sees. The timeline event's `at` (the workflow's time in the task its
   timer woke) is printed beside it: it leaves out the notify activity. Reminders without an
   outbox row 120 s after the last due time are not sent, counted as later than any that were
   (they are in the percentiles). From the 1,000 histories, the lateness step by step:
   - "timer set for": when the timer was set to expire (TIMER_STARTED's time plus its duration)
     against the due time: the workflow counts the duration from the start of its task
     (`workflow.now()`), the server from the end of it, so the length of the task that set the
     timer (its publish_schedule local activity included) is added to the reminder;
   - "timer fired after its expiry": the server's timer;
   - "workflow task started": from TIMER_FIRED to the worker picking up the task;
   - "activity scheduled": that task's run in the worker (replay first if it was evicted);
   - "activity started": notify waiting for a slot (about 0: the worker takes activities of its
     own task queue eagerly, with the task's completion);
   - "activity to the outbox insert": notify's run (timeline row, reads, outbox insert).

Targets (from the issue): worker RSS at most 512 MB at 100,000 live subscriptions (at a smaller
count the measured figure is printed, with "target applies at 100,000"); lateness p99 at most
1 s. A benchmark target, printed as MET or MISSED, never a test.

The driver is a separate process (`python -m bench.bench_subscriptions drive SPEC`) with the
stack's environment and working directory, so its settings (and so its policy) are the worker's;
it prints its figures as JSON and ends with `os._exit` (sdk-python#300).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
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
    tree_rss,
)

DEFAULT_COUNT = 10_000
REMINDERS = 1_000  # made to fall due within the window
WINDOW_S = 60.0
WAIT_S = 120.0  # after the window: a reminder not sent by then is "not sent"
STARTS_IN_FLIGHT = 32
PERIOD_DAYS = 365
ITEMS_PER_ORDER = 10_000  # order_items.position is a SMALLINT
SETTLE_STALL_S = 120.0  # no workflow settling for this long: stop waiting
TARGET_WORKER_RSS_MB = 512.0
TARGET_RSS_AT = 100_000
TARGET_P99_S = 1.0
MB = 1024 * 1024
EMAIL = "bench-subscriber@example.com"


@dataclass(frozen=True)
class SubscriptionFigures:
    subscriptions: int  # live subscriptions started in step 2
    temporal_store: str
    max_cached_workflows: int  # the worker's WORKER_MAX_CACHED_WORKFLOWS
    starts_in_flight: int
    prep_seconds: float  # rows + inputs of step 1 (not timed)
    started: int  # start calls answered without an error
    start_problems: dict[str, int]
    start_seconds: float  # first start call sent -> last one answered
    start_p50_ms: float  # one start call, as the client saw it
    start_p99_ms: float
    settle_seconds: float  # first start call sent -> every workflow had published its schedule
    settled: int  # workflows that had, when the bench stopped waiting
    start_cpu: dict[str, float]  # CPU seconds per process tree over settle_seconds, + machine
    rss_before: dict[str, int]  # bytes, the servers idle before any start
    rss_after: dict[str, int]  # all started and settled
    rss_end: dict[str, int]  # after the reminders
    rss_peak: dict[str, int]  # the largest sample (every second, steps 2 and 3)
    rss_hwm: dict[str, int]  # the kernel's high-water mark of each server's process
    temporal_db_bytes: int  # the SQLite file and its WAL after step 2
    reminders: int  # expected
    reminder_kind: str
    reminder_start_rate: float  # starts/s of the 1,000 (half the rate the live ones settled at)
    reminders_settled_before_s: float  # how long before the first due time all 1,000 had settled
    reminders_sent: int  # outbox rows by the end of the wait
    lateness_s: list[float]  # outbox created_at - due, ascending (sent ones)
    event_lateness_s: list[float]  # timeline event `at` - due, ascending
    steps_s: dict[str, list[float]] = field(default_factory=dict)  # per step, ascending
    window_cpu: dict[str, float] = field(default_factory=dict)  # during the reminders' minute

    @property
    def valid(self) -> bool:
        return (
            not self.start_problems
            and self.settled == self.subscriptions
            and self.reminders_settled_before_s > 0
            and self.reminders_sent > 0
        )

    def invalid_reason(self) -> str:
        why = []
        if self.start_problems:
            why.append(
                "start errors " + ", ".join(f"{k} {v}" for k, v in self.start_problems.items())
            )
        if self.settled != self.subscriptions:
            why.append(
                f"{self.subscriptions - self.settled:,} workflows never ran their first task"
            )
        if self.reminders_settled_before_s <= 0:
            why.append("the reminders' workflows were still starting when the first fell due")
        if self.reminders_sent == 0:
            why.append("no reminder was sent")
        return "; ".join(why)

    def lateness(self, pct: float) -> float:
        """Percentile over every expected reminder, those not sent counted as the latest."""
        values = self.lateness_s + [math.inf] * (self.reminders - self.reminders_sent)
        return percentile(values, pct)

    def lateness_met(self) -> bool | None:
        if not self.valid:
            return None
        return self.lateness(99) <= TARGET_P99_S

    def rss_met(self) -> bool | None:
        """None below 100,000 (the target is set at that count) or when the run is invalid."""
        if not self.valid or self.subscriptions < TARGET_RSS_AT:
            return None
        return self.worker_rss_mb() <= TARGET_WORKER_RSS_MB

    def worker_rss_mb(self) -> float:
        return max(self.rss_after["worker"], self.rss_peak["worker"]) / MB


def target_worker_rss_text() -> str:
    return f"worker RSS <= {TARGET_WORKER_RSS_MB:.0f} MB at {TARGET_RSS_AT:,}"


# --- the parent side: run from `python -m bench` ----------------------------------------------


def run(work: Path, *, count: int, max_cached: int | None) -> SubscriptionFigures:
    """The stack of this benchmark (its own: a Temporal SQLite file, no API), the driver, its
    figures."""
    work.mkdir()
    db_file = work / "temporal.db"
    settings = {} if max_cached is None else {"WORKER_MAX_CACHED_WORKFLOWS": str(max_cached)}
    with running_stack(work, temporal_db=db_file, api=False, settings=settings) as stack:
        spec = {"pids": stack.pids, "count": count, "temporal_db": str(db_file)}
        log(
            f"subscriptions driver: {count:,} live subscriptions, then {REMINDERS:,} reminders "
            f"due within {WINDOW_S:.0f} s (progress below)"
        )
        output = run_to_end(
            [PYTHON, "-m", "bench.bench_subscriptions", "drive", json.dumps(spec)],
            # Generous: 20 first tasks a second (about 30 were seen here), plus half an hour.
            timeout_s=1800 + count / 20,
            cwd=work / "cwd",
            env=stack.env,
            pass_stderr=True,
        )
    data = json.loads(output.strip().splitlines()[-1])
    return SubscriptionFigures(**data)


# --- the driver process -----------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _hwm(pid: int) -> int:
    """VmHWM of one process (its peak RSS), in bytes; 0 where /proc says nothing."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Memory:
    """RSS of the worker and of Temporal, sampled every second while `sampling()` runs."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = {name: pids[name] for name in ("worker", "Temporal")}
        self.peak = dict.fromkeys(self.pids, 0)

    def now(self) -> dict[str, int]:
        rss = {name: tree_rss(pid) for name, pid in self.pids.items()}
        for name, value in rss.items():
            self.peak[name] = max(self.peak[name], value)
        return rss

    def hwm(self) -> dict[str, int]:
        return {name: _hwm(pid) for name, pid in self.pids.items()}

    async def sample(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)


@dataclass(frozen=True)
class Base:
    """What every bench subscription shares: the customer, the plan and its current terms."""

    user_id: uuid.UUID
    plan_id: uuid.UUID
    version: dict[str, Any]


def _pg_conninfo(database_url: str) -> str:
    """SQLAlchemy's URL (postgresql+psycopg://...) as libpq takes it."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


async def _base(database_url: str) -> Base:
    """The demo catalog (if not there), the customer, the first published plan's terms."""
    import psycopg
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from domain.catalog.demo import load_demo_catalog

    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            await load_demo_catalog(db)
            await db.commit()
    finally:
        await engine.dispose()
    async with await psycopg.AsyncConnection.connect(_pg_conninfo(database_url)) as conn:
        user_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO users (id, name, email, email_verified_at) VALUES (%s, %s, %s, now())",
            (user_id, "Bench Subscriber", EMAIL),
        )
        cur = await conn.execute(
            "SELECT p.id, v.id, v.name, v.price_minor, v.tax_minor, v.total_minor, "
            "v.tax_rate_bps, v.prices_include_tax, v.validity_days, v.visit_cap, v.currency "
            "FROM plans p JOIN plan_versions v ON v.id = p.current_version_id "
            "WHERE p.status = 'active' ORDER BY p.display_order, p.slug LIMIT 1"
        )
        row = await cur.fetchone()
        if row is None:
            raise RuntimeError("the demo catalog has no published plan")
        keys = (
            "id",
            "name",
            "price_minor",
            "tax_minor",
            "total_minor",
            "tax_rate_bps",
            "prices_include_tax",
            "validity_days",
            "visit_cap",
            "currency",
        )
        await conn.commit()
    return Base(user_id=user_id, plan_id=row[0], version=dict(zip(keys, row[1:], strict=True)))


async def _create_rows(
    database_url: str, base: Base, periods: list[tuple[datetime, datetime]]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """One active subscription per (starts_at, ends_at), with its order item and first period;
    orders shared (ITEMS_PER_ORDER items each). COPY, one transaction. (Subscription id, order
    id) of each, in order."""
    import psycopg

    v = base.version
    ids = [uuid.uuid4() for _ in periods]
    items = [uuid.uuid4() for _ in periods]
    orders = [uuid.uuid4() for _ in range(math.ceil(len(periods) / ITEMS_PER_ORDER))]
    async with await psycopg.AsyncConnection.connect(_pg_conninfo(database_url)) as conn:
        cur = conn.cursor()
        async with cur.copy(
            "COPY orders (id, user_id, status, provider, currency, subtotal_minor, tax_minor, "
            "total_minor, idempotency_key, request_hash, paid_at, completed_at) FROM STDIN"
        ) as copy:
            for n, order_id in enumerate(orders):
                size = min(ITEMS_PER_ORDER, len(periods) - n * ITEMS_PER_ORDER)
                net = v["total_minor"] - v["tax_minor"]
                now = datetime.now(UTC)
                await copy.write_row(
                    (
                        order_id,
                        base.user_id,
                        "completed",
                        "sandbox",
                        v["currency"],
                        size * net,
                        size * v["tax_minor"],
                        size * v["total_minor"],
                        f"bench-subscriptions-{order_id}",
                        "bench",
                        now,
                        now,
                    )
                )
        async with cur.copy(
            "COPY order_items (id, order_id, position, plan_id, plan_version_id, address, "
            "plan_name, amount_minor, tax_minor, total_minor, tax_rate_bps, includes_tax, "
            "validity_days, visit_cap) FROM STDIN"
        ) as copy:
            for i, item_id in enumerate(items):
                await copy.write_row(
                    (
                        item_id,
                        orders[i // ITEMS_PER_ORDER],
                        i % ITEMS_PER_ORDER + 1,
                        base.plan_id,
                        v["id"],
                        "{}",
                        v["name"],
                        v["price_minor"],
                        v["tax_minor"],
                        v["total_minor"],
                        v["tax_rate_bps"],
                        v["prices_include_tax"],
                        v["validity_days"],
                        v["visit_cap"],
                    )
                )
        async with cur.copy(
            "COPY subscriptions (id, user_id, order_id, order_item_id, plan_id, plan_version_id, "
            "status, period, starts_at, ends_at, visits_allowed, visits_used) FROM STDIN"
        ) as copy:
            for i, (sid, (starts, ends)) in enumerate(zip(ids, periods, strict=True)):
                await copy.write_row(
                    (
                        sid,
                        base.user_id,
                        orders[i // ITEMS_PER_ORDER],
                        items[i],
                        base.plan_id,
                        v["id"],
                        "active",
                        1,
                        starts,
                        ends,
                        v["visit_cap"],
                        0,
                    )
                )
        async with cur.copy(
            "COPY subscription_periods (subscription_id, number, kind, starts_at, ends_at, "
            "plan_version_id, order_id) FROM STDIN"
        ) as copy:
            for i, (sid, (starts, ends)) in enumerate(zip(ids, periods, strict=True)):
                await copy.write_row(
                    (sid, 1, "initial", starts, ends, v["id"], orders[i // ITEMS_PER_ORDER])
                )
        await conn.commit()
        await conn.execute("ANALYZE orders, order_items, subscriptions, subscription_periods")
    return [(sid, orders[i // ITEMS_PER_ORDER]) for i, sid in enumerate(ids)]


async def _inputs(
    sessions: Any,
    policy: Any,
    rows: list[tuple[uuid.UUID, uuid.UUID]],
    periods: list[tuple[datetime, datetime]],
) -> list[Any]:
    """The workflows' inputs as `workflow_input` builds them: its answer for the first, copies
    of it with their own id, order and dates for the others, checked against its answer for the
    last (in another order than the first's when there are several)."""
    from domain.subscriptions.service import workflow_input

    async with sessions() as db:
        first = await workflow_input(db, subscription_id=rows[0][0], policy=policy)

    def like_first(sid: uuid.UUID, order_id: uuid.UUID, starts: datetime, ends: datetime) -> Any:
        period = {"starts_at": starts, "ends_at": ends, "order_id": order_id}
        return first.model_copy(
            update={"subscription_id": sid, "period": first.period.model_copy(update=period)}
        )

    inputs = [like_first(*row, *period) for row, period in zip(rows, periods, strict=True)]
    async with sessions() as db:
        last = await workflow_input(db, subscription_id=rows[-1][0], policy=policy)
    if last != inputs[-1]:
        raise RuntimeError(f"the inputs built differ from workflow_input's:\n{last}\n{inputs[-1]}")
    return inputs


@dataclass
class Starts:
    started: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    last_answered: float = 0.0


async def _start_all(
    start: Callable[[Any], Awaitable[None]], inputs: list[Any], *, rate: float | None = None
) -> Starts:
    """Every input started, STARTS_IN_FLIGHT calls at a time (`rate`: no more than that many
    per second); progress every 10 s."""
    run = Starts()
    pending = iter(inputs)
    total = len(inputs)
    sent = 0

    async def loop() -> None:
        nonlocal sent
        for inp in pending:  # one iterator shared by the loops: each input once
            if rate is not None:
                slot, sent = sent, sent + 1
                await asyncio.sleep(max(0.0, run.first_sent + slot / rate - time.perf_counter()))
            t0 = time.perf_counter()
            try:
                await start(inp)
            except Exception as exc:
                run.problems[type(exc).__name__] += 1
                continue
            run.latencies.append(time.perf_counter() - t0)
            run.started += 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(10.0)
            done = run.started + sum(run.problems.values())
            rate = done / max(time.perf_counter() - run.first_sent, 1e-3)
            _say(f"started {done:,} of {total:,} ({rate:,.0f}/s)")

    run.first_sent = time.perf_counter()
    reporter = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(loop() for _ in range(min(STARTS_IN_FLIGHT, total))))
    finally:
        reporter.cancel()
    run.last_answered = time.perf_counter()
    return run


async def _count(conninfo: str, sql: str, params: tuple[Any, ...] = ()) -> int:
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        cur = await conn.execute(sql, params)
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def _settled(
    conninfo: str, sql: str, expected: int, *, what: str, params: tuple[Any, ...] = ()
) -> tuple[int, float]:
    """Poll `sql` (a count) until it reaches `expected`; (the count, perf_counter() when it did).
    Gives up when the count has not moved for SETTLE_STALL_S."""
    seen, moved, reported = -1, time.perf_counter(), time.perf_counter()
    while True:
        count = await _count(conninfo, sql, params)
        now = time.perf_counter()
        if count >= expected:
            return count, now
        if count != seen:
            seen, moved = count, now
        elif now - moved > SETTLE_STALL_S:
            _say(f"{what}: {count:,} of {expected:,}, none more for {SETTLE_STALL_S:.0f} s")
            return count, now
        if now - reported >= 10.0:
            _say(f"{what}: {count:,} of {expected:,}")
            reported = now
        await asyncio.sleep(0.5 if expected <= 20_000 else 1.0)


def _db_bytes(db_file: Path) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        path = db_file.with_name(db_file.name + suffix)
        if path.exists():
            total += path.stat().st_size
    return total


async def _steps(
    client: Any, ids: list[uuid.UUID], dues: dict[uuid.UUID, datetime]
) -> list[dict[str, Any] | None]:
    """Per reminder, from its workflow's history (seconds; the outbox insert is taken from the
    database by the caller): when its timer was set to fire against its due time, and each step
    from the timer's expiry to the notify activity's start."""
    from temporalio.api.enums.v1 import EventType

    from domain.subscriptions.contracts import subscription_workflow_id

    gate = asyncio.Semaphore(16)

    def at(event: Any) -> datetime:
        return event.event_time.ToDatetime(tzinfo=UTC)

    async def one(sid: uuid.UUID) -> dict[str, Any] | None:
        async with gate:
            history = await client.get_workflow_handle(
                subscription_workflow_id(sid)
            ).fetch_history()
        timer_set = timer_fired = task_started = scheduled = started = None
        for event in history.events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_TIMER_STARTED and timer_set is None:
                attrs = event.timer_started_event_attributes
                timer_set = at(event) + attrs.start_to_fire_timeout.ToTimedelta()
            elif kind == EventType.EVENT_TYPE_TIMER_FIRED and timer_fired is None:
                timer_fired = at(event)
            elif (
                kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
                and timer_fired is not None
                and task_started is None
            ):
                task_started = at(event)
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and scheduled is None:
                if (
                    event.activity_task_scheduled_event_attributes.activity_type.name
                    in SEND_ACTIVITIES
                ):
                    scheduled = at(event)
            elif (
                kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and scheduled is not None
                and started is None
            ):
                started = at(event)
        if (
            timer_set is None
            or timer_fired is None
            or task_started is None
            or scheduled is None
            or started is None
        ):
            return None
        return {
            "timer set for": (timer_set - dues[sid]).total_seconds(),
            "timer fired after its expiry": (timer_fired - timer_set).total_seconds(),
            "workflow task started": (task_started - timer_fired).total_seconds(),
            "activity scheduled": (scheduled - task_started).total_seconds(),
            "activity started": (started - scheduled).total_seconds(),
            "_started": started,
        }

    return await asyncio.gather(*(one(sid) for sid in ids))


# The activity that sends the reminder: `notifications.send` (before the patch
# messages-through-notifications: the subscription's own `notify`).
SEND_ACTIVITIES = ("notifications.send", "notify")


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    from activities.subscriptions import DAY, SubscriptionActivities, policy_from
    from core.db import make_engine, make_sessionmaker
    from core.settings import get_settings
    from core.temporal import connect
    from domain.display import Customer
    from domain.notifications.service import Notifier
    from domain.subscriptions import policy as rules
    from domain.workflow_labels import SubscriptionFacts
    from providers.notifications import notification_providers
    from providers.payments import payment_provider

    # The stack's environment and working directory: the worker's settings, so its policy.
    settings = get_settings()
    policy = policy_from(settings, settings.payments_provider)
    count: int = spec["count"]
    conninfo = _pg_conninfo(settings.database_url)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    client = await connect(settings)
    starter = SubscriptionActivities(
        sessions=sessions,
        settings=settings,
        provider=payment_provider(settings, sessions=sessions),
        notifier=Notifier(sessions, notification_providers(settings), settings),
        temporal=client,
        task_queue=settings.temporal_task_queue,
    )
    memory = Memory(spec["pids"])
    roots = {**spec["pids"], "load driver": os.getpid()}
    # What the Web UI shows of each: one label for all (the activity reads it per subscription).
    facts = SubscriptionFacts(plan="bench plan", customer=Customer(email="bench@example.com"))

    async def start(inp: Any) -> None:
        await starter._start(inp, facts)

    # 1. Rows and inputs (not timed).
    t0 = time.perf_counter()
    _say(f"creating {count:,} subscriptions (COPY) and their workflow inputs (not timed)")
    base = await _base(settings.database_url)
    now = datetime.now(UTC)
    periods = [(now, now + timedelta(days=PERIOD_DAYS))] * count
    rows = await _create_rows(settings.database_url, base, periods)
    inputs = await _inputs(sessions, policy, rows, periods)
    prep_seconds = time.perf_counter() - t0
    _say(f"prepared in {prep_seconds:.1f} s")

    # 2. Starts (timed), then memory once all have run their first task.
    await asyncio.sleep(2.0)
    rss_before = memory.now()
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(memory.sample(stop_sampling))
    cpu0 = cpu_seconds(roots)
    _say(f"starting {count:,} SubscriptionWorkflows ({STARTS_IN_FLIGHT} start calls in flight)")
    starts = await _start_all(start, inputs)
    _say(
        f"{starts.started:,} started in {starts.last_answered - starts.first_sent:.1f} s; "
        "waiting until each has run its first task"
    )
    settled, settled_at = await _settled(
        conninfo,
        "SELECT count(*) FROM subscriptions WHERE next_reminder_at IS NOT NULL",
        count,
        what="first tasks run (schedules published)",
    )
    start_cpu = cpu_used(cpu0, cpu_seconds(roots))
    settle_seconds = settled_at - starts.first_sent
    rss_after = memory.now()
    db_bytes = _db_bytes(Path(spec["temporal_db"]))
    _say(
        f"all settled {settle_seconds:.1f} s after the first start; worker RSS "
        f"{rss_after['worker'] / MB:.0f} MB, Temporal {rss_after['Temporal'] / MB:.0f} MB"
    )

    # 3. 1,000 reminders due within a minute, beside the live ones.
    last = min(s for s in policy.reminder_seconds if s > 0)
    kind = rules.reminder_kind(last)
    # Started at half the rate the live ones settled at, so that their first tasks do not queue
    # in the worker: a timer's duration is counted from the start of the task that sets it, so
    # a task that waits in the worker would make its reminder late by that wait (see `_steps`).
    # Their purchases would have spread them out the same way.
    reminder_rate = min(max(0.5 * settled / max(settle_seconds, 1e-3), 10.0), 100.0)
    lead = 15.0 + 1.5 * REMINDERS / reminder_rate
    if lead + WINDOW_S >= min([*(s for s in policy.reminder_seconds if s > last), 10 * DAY]) - last:
        raise RuntimeError("the reminders before the last would fall inside the period")
    rng = random.Random(20261203)
    created = datetime.now(UTC)
    t_zero = created + timedelta(seconds=lead)
    due = [t_zero + timedelta(seconds=rng.uniform(0.0, WINDOW_S)) for _ in range(REMINDERS)]
    reminder_periods = [(created, d + timedelta(seconds=last)) for d in due]
    _say(
        f"{REMINDERS:,} subscriptions whose {kind} falls due from {lead:.0f} s from now, within "
        f"{WINDOW_S:.0f} s"
    )
    reminder_rows = await _create_rows(settings.database_url, base, reminder_periods)
    reminder_ids = [sid for sid, _ in reminder_rows]
    reminder_inputs = await _inputs(sessions, policy, reminder_rows, reminder_periods)
    more = await _start_all(start, reminder_inputs, rate=reminder_rate)
    problems = starts.problems + more.problems
    # The reminders' subscriptions end within days, the live ones in a year.
    reminders_settled, at_settled = await _settled(
        conninfo,
        "SELECT count(*) FROM subscriptions WHERE next_reminder_at IS NOT NULL "
        "AND ends_at < now() + make_interval(secs => %s)",
        REMINDERS,
        what="reminders' first tasks",
        params=(last + DAY,),
    )
    # How long before the first due time they had all run their first task.
    settled_before = (min(due) - datetime.now(UTC)).total_seconds() + (
        time.perf_counter() - at_settled
    )
    if reminders_settled < REMINDERS:
        settled_before = 0.0
    _say(f"all settled {settled_before:.1f} s before the first falls due; waiting for them")
    await asyncio.sleep(max(0.0, (t_zero - datetime.now(UTC)).total_seconds()))
    window0 = cpu_seconds(roots)
    keys = f"sub:%:period:1:{kind}:%"  # each message's key ends with its recipient's id
    deadline = max(due) + timedelta(seconds=WAIT_S)
    window_cpu: dict[str, float] = {}
    while datetime.now(UTC) < deadline:
        await asyncio.sleep(1.0)
        if not window_cpu and datetime.now(UTC) >= t_zero + timedelta(seconds=WINDOW_S):
            window_cpu = cpu_used(window0, cpu_seconds(roots))
        sent = await _count(
            conninfo, "SELECT count(*) FROM notification_messages WHERE key LIKE %s", (keys,)
        )
        if sent >= REMINDERS and window_cpu:
            break
    if not window_cpu:
        window_cpu = cpu_used(window0, cpu_seconds(roots))
    stop_sampling.set()
    await sampler
    rss_end = memory.now()
    hwm = memory.hwm()

    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        cur = await conn.execute(
            "SELECT s.id, n.created_at, e.at, s.ends_at - make_interval(secs => %s) "
            "FROM subscriptions s "
            "LEFT JOIN notification_messages n "
            "ON n.key = 'sub:' || s.id || %s || ':' || s.user_id "
            "LEFT JOIN subscription_events e ON e.event_key = 'sub:' || s.id || %s "
            "WHERE s.id = ANY(%s)",
            (last, f":period:1:{kind}", f":period:1:{kind}", reminder_ids),
        )
        sent_rows = await cur.fetchall()
    lateness = sorted((r[1] - r[3]).total_seconds() for r in sent_rows if r[1] is not None)
    event_lateness = sorted((r[2] - r[3]).total_seconds() for r in sent_rows if r[2] is not None)
    outbox_at = {r[0]: r[1] for r in sent_rows if r[1] is not None}
    dues = {r[0]: r[3] for r in sent_rows}

    _say("reading the reminders' histories (where the lateness goes)")
    steps: dict[str, list[float]] = {}
    for sid, found in zip(reminder_ids, await _steps(client, reminder_ids, dues), strict=True):
        if found is None:
            continue
        started = found.pop("_started")
        for name, value in found.items():
            steps.setdefault(name, []).append(value)
        if sid in outbox_at:
            steps.setdefault("activity to the outbox insert", []).append(
                (outbox_at[sid] - started).total_seconds()
            )
    await engine.dispose()
    latencies = sorted(starts.latencies)
    return asdict(
        SubscriptionFigures(
            subscriptions=count,
            temporal_store="SQLite file (WAL, synchronous=off)",
            max_cached_workflows=settings.worker_max_cached_workflows,
            starts_in_flight=STARTS_IN_FLIGHT,
            prep_seconds=prep_seconds,
            started=starts.started,
            start_problems=dict(problems),
            start_seconds=starts.last_answered - starts.first_sent,
            start_p50_ms=percentile(latencies, 50) * 1000.0,
            start_p99_ms=percentile(latencies, 99) * 1000.0,
            settle_seconds=settle_seconds,
            settled=settled,
            start_cpu=start_cpu,
            rss_before=rss_before,
            rss_after=rss_after,
            rss_end=rss_end,
            rss_peak=dict(memory.peak),
            rss_hwm=hwm,
            temporal_db_bytes=db_bytes,
            reminders=REMINDERS,
            reminder_kind=kind,
            reminder_start_rate=reminder_rate,
            reminders_settled_before_s=settled_before,
            reminders_sent=len(lateness),
            lateness_s=lateness,
            event_lateness_s=event_lateness,
            steps_s={name: sorted(values) for name, values in steps.items()},
            window_cpu=window_cpu,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "drive":
        exit_now(drive_main(_drive, sys.argv[2]))
    else:
        sys.exit("usage: python -m bench.bench_subscriptions drive SPEC_JSON")
