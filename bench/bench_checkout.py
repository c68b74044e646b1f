"""Purchases end to end with the sandbox provider, beside the engine's limit (an empty workflow).

What runs (16 at a time), all against the stack of `bench.harness.running_stack`:

1. Empty workflows: a bench-only worker process (`python -m bench.bench_checkout worker`: the same
   SDK defaults and data converter as `python -m worker`, ONE no-op workflow,
   `bench.empty_workflow`, on a task queue of its own) on the same Temporal dev server. 16 tasks
   each start one and wait for its result, again and again. That rate is what the engine, one
   Python worker and the client manage for a workflow that does nothing: the checkout's ceiling.
2. Customers, prepared before anything is timed: each registers through the API, adds an address
   and puts one plan of the demo catalog in the cart. One customer buys once.
3. Purchases: 16 tasks, each taking the next prepared customer, as the app buys: POST /checkout
   (Idempotency-Key) -> POST /sandbox/payments/{provider_ref}/approve with the checkout's
   client_secret (the customer pays on the provider's page) -> POST /orders/{id}/confirm (the app
   says it paid; the answer is the checkout's outcome once the workflow has asked the provider and
   settled), which must say completed. Latency is from sending POST /checkout to that answer.
   First a pilot round (16 customers, one purchase each, not counted) warms the path up; its
   median purchase time is the ramp and its rate sizes the pool (`_pool_size`). Counted: the
   purchases that complete in the BENCH_SECONDS window after the ramp (`Run`), or until every
   prepared customer has bought. Before each timed window the bench waits until the servers are
   idle (registration leaves verification workflows running behind it).
4. One completed CheckoutWorkflow's history is fetched through the Temporal client (its event
   types are printed), and every timed purchase's history length is read with `describe()`.
   The subscriptions of the timed orders are counted in the database (all must be active).

The load driver is a separate process (`python -m bench.bench_checkout drive SPEC`, asyncio +
httpx + the Temporal client) that prints its figures as JSON, so the bench's own interpreter never
holds a Temporal client (sdk-python#300: a client can crash the interpreter at exit; the driver
ends with `os._exit`).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import sys
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.harness import (
    PYTHON,
    ROOT,
    LoadResult,
    Service,
    Stack,
    cpu_seconds,
    cpu_used,
    drive_main,
    exit_now,
    finish_profiles,
    log,
    percentile,
    run_to_end,
    start_profiles,
    wait_log_line,
)

API = "/api/v1"
CUSTOMERS = 16  # concurrent customers, and concurrent empty workflows
PURCHASE_TIMEOUT_S = 60.0
PREP_CONCURRENCY = 4  # registrations at once (each one is an argon2id hash on the API)
PASSWORD = "bench passphrase, long enough"  # noqa: S105 (throwaway users of a throwaway DB)
TARGET_CPU_MS = 80.0  # CPU per purchase, every process of the stack together (issue 28)
TARGET_EVENTS = 24  # history events per completed purchase (issue 28)
# The processes whose CPU a purchase is charged with (not the load driver nor the bench worker).
SERVERS = ("API", "worker", "Temporal", "PostgreSQL")
WORKER_READY = "bench worker polling"


@dataclass(frozen=True)
class CheckoutFigures:
    empty: LoadResult  # empty workflows started and awaited
    purchases: LoadResult  # completed purchases
    customers: int  # customers prepared for the timed part
    pool_exhausted: bool  # the window ended early: every prepared customer had bought
    ramp_seconds: float  # purchases before the window opened (not counted)
    prep_seconds: float  # time spent preparing them (not timed)
    phases_p50_ms: dict[str, float]  # checkout, approve, confirm (each request's answer time)
    phases_p99_ms: dict[str, float]
    active_subscriptions: int  # of the timed purchases' orders
    history_workflow_id: str
    history_events: int
    history_types: list[str]  # in order, EVENT_TYPE_ prefix dropped
    history_lengths: dict[str, int] = field(default_factory=dict)  # min, max over timed purchases
    # CPU seconds used during each timed window, per process tree (API, worker, Temporal,
    # PostgreSQL, bench worker, load driver) and `machine` (every process on every core).
    empty_cpu: dict[str, float] = field(default_factory=dict)
    purchase_cpu: dict[str, float] = field(default_factory=dict)


def cpu_per_purchase_ms(figures: CheckoutFigures) -> float | None:
    """CPU of the servers (API, worker(s), Temporal, PostgreSQL) per counted purchase, in ms;
    None without /proc or a valid figure."""
    purchases = figures.purchases
    if not purchases.valid or not figures.purchase_cpu:
        return None
    used = sum(
        seconds for name, seconds in figures.purchase_cpu.items() if name.split(" ")[0] in SERVERS
    )
    return 1000.0 * used / purchases.requests


def target_met(figures: CheckoutFigures) -> bool | None:
    cpu = cpu_per_purchase_ms(figures)
    return None if cpu is None else cpu <= TARGET_CPU_MS


# --- the parent side: run from `python -m bench` ----------------------------------------------


def pick_plan(stack: Stack) -> dict[str, Any]:
    import httpx

    response = httpx.get(f"{stack.api_url}{API}/catalog/plans", timeout=30.0)
    if response.status_code != 200:
        raise RuntimeError(f"GET /catalog/plans: {response.status_code} {response.text[:500]}")
    items: list[dict[str, Any]] = response.json()["items"]
    if not items:
        raise RuntimeError("the catalog has no plan to buy")
    return items[0]


def run(stack: Stack, *, seconds: int, warmup_s: int) -> CheckoutFigures:
    from bench import bench_catalog

    bench_catalog.ensure_demo_catalog(stack)
    plan = pick_plan(stack)
    empty_queue = f"bench-empty-{uuid.uuid4().hex[:12]}"
    env = {**stack.env, "BENCH_EMPTY_TASK_QUEUE": empty_queue}
    log("starting the bench-only worker (one empty workflow, its own task queue)")
    with Service(
        "bench worker",
        [PYTHON, "-m", "bench.bench_checkout", "worker"],
        logfile=stack.work / "bench-worker.log",
        env=env,
        cwd=stack.work / "cwd",
    ) as worker:
        wait_log_line(WORKER_READY, worker)
        assert worker.proc is not None
        spec = {
            "pids": {**stack.pids, "bench worker": worker.proc.pid},
            "api_url": stack.api_url,
            "database_url": stack.env["DATABASE_URL"],
            "temporal_address": stack.env["TEMPORAL_ADDRESS"],
            "namespace": stack.env["TEMPORAL_NAMESPACE"],
            "empty_queue": empty_queue,
            "plan_id": plan["id"],
            "seconds": seconds,
            "warmup": warmup_s,
        }
        log(
            f"checkout driver: empty workflows, then customers for {plan['slug']!r}, then "
            "purchases (progress below)"
        )
        output = run_to_end(
            [PYTHON, "-m", "bench.bench_checkout", "drive", json.dumps(spec)],
            timeout_s=15 * seconds + 10 * warmup_s + 600,
            cwd=ROOT,
            pass_stderr=True,
        )
        worker.check_alive()
    data = json.loads(output.strip().splitlines()[-1])
    data["empty"] = LoadResult(**data["empty"])
    data["purchases"] = LoadResult(**data["purchases"])
    return CheckoutFigures(**data)


# --- the bench-only worker --------------------------------------------------------------------


async def _worker_main() -> None:
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Worker

    from bench.empty_workflow import EmptyWorkflow

    queue = os.environ["BENCH_EMPTY_TASK_QUEUE"]
    client = await Client.connect(
        os.environ["TEMPORAL_ADDRESS"],
        namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"),
        data_converter=pydantic_data_converter,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The defaults of `worker.build_worker` (sandboxed workflows, SDK default limits).
    async with Worker(client, task_queue=queue, workflows=[EmptyWorkflow]):
        print(f"{WORKER_READY} {queue!r}", flush=True)
        await stop.wait()


# --- the driver process -----------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Customer:
    email: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Sample:
    """One completed unit of work (a purchase, an empty workflow)."""

    end: float  # perf_counter() when it completed
    latency: float
    phases: dict[str, float] = field(default_factory=dict)  # purchase: checkout, approve, confirm
    order_id: str = ""


@dataclass
class Run:
    """A closed-loop run: `tasks` loops, each doing one unit after another, from `started` until
    the end of the measured window (`window_end`) or until there is no more work. Only units that
    COMPLETED inside the window [window_start, window_end] are counted: the ramp before it lets the
    loops fall out of step (they all start together), and units still running at its end are not
    waited for, so neither the start nor the drain biases the rate."""

    started: float
    window_start: float
    window_end: float
    samples: list[Sample] = field(default_factory=list)
    problems: Counter[str] = field(default_factory=Counter)
    attempts: int = 0  # units started
    exhausted: bool = False  # the work ran out before the window ended
    last_end: float = 0.0  # when the last loop stopped
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used during the window

    def counted(self) -> list[Sample]:
        return [s for s in self.samples if self.window_start <= s.end <= self.window_end]

    def seconds(self) -> float:
        end = min(self.window_end, self.last_end) if self.exhausted else self.window_end
        return max(0.0, end - self.window_start)

    def result(self) -> LoadResult:
        counted = self.counted()
        done = sorted(s.latency for s in counted)
        seconds = self.seconds()
        return LoadResult(
            requests=len(done),
            seconds=seconds,
            rps=len(done) / seconds if seconds > 0 else 0.0,
            p50_ms=percentile(done, 50) * 1000.0,
            p99_ms=percentile(done, 99) * 1000.0,
            errors=sum(self.problems.values()),
            error_detail=", ".join(f"{k} {v}" for k, v in sorted(self.problems.items())),
        )


async def _closed_loop(
    *,
    ramp_s: float,
    seconds: float,
    tasks: int,
    step: Callable[[Run], Awaitable[bool]],
    roots: dict[str, int] | None = None,
) -> Run:
    """`tasks` loops calling `step` (which records into the run, and returns False when there is
    no more work) until the window ends. `roots`: process trees whose CPU use during the window
    is recorded (this process as `load driver`)."""
    started = time.perf_counter()
    run = Run(started=started, window_start=started + ramp_s, window_end=started + ramp_s + seconds)
    roots = {**(roots or {}), "load driver": os.getpid()}
    cpu: dict[str, dict[str, float]] = {}

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, run.window_start - time.perf_counter()))
        cpu["start"] = cpu_seconds(roots)
        await asyncio.sleep(max(0.0, run.window_end - time.perf_counter()))
        cpu["end"] = cpu_seconds(roots)

    async def loop() -> None:
        while time.perf_counter() < run.window_end:
            if not await step(run):
                run.exhausted = True
                return

    sampler = asyncio.create_task(sample_cpu())
    await asyncio.gather(*(loop() for _ in range(tasks)))
    run.last_end = time.perf_counter()
    if run.exhausted and "end" not in cpu:
        sampler.cancel()
        cpu["end"] = cpu_seconds(roots)
    else:
        await sampler
    if "start" in cpu:
        run.cpu = cpu_used(cpu["start"], cpu["end"])
    return run


async def _empty_workflows(spec: dict[str, Any]) -> Run:
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from bench.empty_workflow import EmptyWorkflow

    client = await Client.connect(
        spec["temporal_address"],
        namespace=spec["namespace"],
        data_converter=pydantic_data_converter,
    )

    async def one(run: Run) -> bool:
        run.attempts += 1
        t0 = time.perf_counter()
        try:
            await client.execute_workflow(
                EmptyWorkflow.run,
                id=f"bench-empty-{uuid.uuid4().hex}",
                task_queue=spec["empty_queue"],
            )
        except Exception as exc:
            run.problems[type(exc).__name__] += 1
            return True
        end = time.perf_counter()
        run.samples.append(Sample(end=end, latency=end - t0))
        return True

    # The warm-up is the ramp of the same run: loops already out of step when the window opens.
    return await _closed_loop(
        ramp_s=float(spec["warmup"]),
        seconds=float(spec["seconds"]),
        tasks=CUSTOMERS,
        step=one,
        roots=spec["pids"],
    )


async def _prepare(api: Any, plan_id: str, count: int) -> list[Customer]:
    """`count` registered customers, each with an address and `plan_id` in the cart."""
    import httpx

    client: httpx.AsyncClient = api
    customers: list[Customer] = []
    gate = asyncio.Semaphore(PREP_CONCURRENCY)

    async def expect(response: httpx.Response, status: int, what: str) -> Any:
        if response.status_code != status:
            raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
        return response.json()

    async def one() -> None:
        email = f"bench-buyer-{uuid.uuid4().hex[:12]}@example.com"
        async with gate:
            body = {"email": email, "password": PASSWORD, "name": "Bench Buyer"}
            registered = await expect(
                await client.post("/auth/register", json=body), 201, "POST /auth/register"
            )
        headers = {"Authorization": f"Bearer {registered['tokens']['access_token']}"}
        address = {
            "line1": "12 MG Road",
            "city": "Bengaluru",
            "postal_code": "560001",
            "country": "IN",
        }
        await expect(
            await client.post("/me/addresses", json=address, headers=headers),
            201,
            "POST /me/addresses",
        )
        await expect(
            await client.post("/cart", json={"plan_id": plan_id}, headers=headers),
            201,
            "POST /cart",
        )
        customers.append(Customer(email=email, headers=headers))

    await asyncio.gather(*(one() for _ in range(count)))
    return customers


async def _purchase(client: Any, who: Customer, run: Run) -> None:
    """One purchase, recorded in `run` (a sample, or the problem)."""
    import httpx

    api: httpx.AsyncClient = client
    t0 = time.perf_counter()
    started = await api.post(
        f"{API}/checkout",
        json={},
        headers={**who.headers, "Idempotency-Key": f"bench-{uuid.uuid4()}"},
    )
    if started.status_code != 201:
        run.problems[f"checkout {started.status_code}"] += 1
        return
    body = started.json()
    if body.get("payment") is None:
        run.problems["checkout without a payment session"] += 1
        return
    order_id, ref = body["order"]["id"], body["payment"]["provider_ref"]
    t1 = time.perf_counter()
    approved = await api.post(
        f"{API}/sandbox/payments/{ref}/approve",
        data={"client_secret": body["payment"]["client_secret"]},
    )
    if approved.status_code != 200:
        run.problems[f"approve {approved.status_code}"] += 1
        return
    t2 = time.perf_counter()
    confirmed = await api.post(
        f"{API}/orders/{order_id}/confirm", json={"session_id": ref}, headers=who.headers
    )
    if confirmed.status_code != 200:
        run.problems[f"confirm {confirmed.status_code}"] += 1
        return
    status = confirmed.json()["status"]
    if status != "completed":
        run.problems[f"confirm said {status}"] += 1
        return
    t3 = time.perf_counter()
    run.samples.append(
        Sample(
            end=t3,
            latency=t3 - t0,
            phases={"checkout": t1 - t0, "approve": t2 - t1, "confirm": t3 - t2},
            order_id=order_id,
        )
    )


async def _purchases(
    api_url: str,
    customers: list[Customer],
    *,
    ramp_s: float,
    seconds: float,
    roots: dict[str, int] | None = None,
) -> Run:
    import httpx

    pool = deque(customers)
    clients = [
        httpx.AsyncClient(
            base_url=api_url,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=PURCHASE_TIMEOUT_S,
            trust_env=False,
        )
        for _ in range(CUSTOMERS)
    ]
    free = deque(clients)

    async def step(run: Run) -> bool:
        if not pool:
            return False
        who = pool.popleft()
        run.attempts += 1
        client = free.popleft()
        try:
            await _purchase(client, who, run)
        except httpx.HTTPError as exc:
            run.problems[type(exc).__name__] += 1
        finally:
            free.append(client)
        return True

    try:
        return await _closed_loop(
            ramp_s=ramp_s, seconds=seconds, tasks=CUSTOMERS, step=step, roots=roots
        )
    finally:
        for client in clients:
            await client.aclose()


async def _histories(spec: dict[str, Any], order_ids: list[str]) -> dict[str, Any]:
    """One completed CheckoutWorkflow's events, and every counted one's history length."""
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from domain.contracts import checkout_workflow_id

    client = await Client.connect(
        spec["temporal_address"],
        namespace=spec["namespace"],
        data_converter=pydantic_data_converter,
    )
    ids = [checkout_workflow_id(uuid.UUID(order_id)) for order_id in order_ids]
    # The middle one: neither the first (cold) nor one of the last.
    sample = ids[len(ids) // 2]
    history = await client.get_workflow_handle(sample).fetch_history()
    types = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events]
    gate = asyncio.Semaphore(CUSTOMERS)

    async def length(workflow_id: str) -> int:
        async with gate:
            description = await client.get_workflow_handle(workflow_id).describe()
            return int(description.raw_description.workflow_execution_info.history_length)

    lengths = await asyncio.gather(*(length(i) for i in ids))
    return {
        "history_workflow_id": sample,
        "history_events": len(types),
        "history_types": types,
        "history_lengths": {"min": min(lengths), "max": max(lengths)},
    }


async def _active_subscriptions(database_url: str, order_ids: list[str]) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from domain.subscriptions.models import Subscription

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(Subscription)
                .where(
                    Subscription.order_id.in_([uuid.UUID(i) for i in order_ids]),
                    Subscription.status == "active",
                )
            )
            return int(count or 0)
    finally:
        await engine.dispose()


def _p(values: list[float], pct: float) -> float:
    return percentile(sorted(values), pct) * 1000.0


async def _quiet(roots: dict[str, int], *, below_cores: float = 0.15, limit_s: float = 20) -> None:
    """Until the servers are idle (the work a step left behind, e.g. the verification workflows
    that registrations start, must not land in the next timed window); at most `limit_s`."""
    deadline = time.perf_counter() + limit_s
    before = cpu_seconds(roots)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        after = cpu_seconds(roots)
        busy = sum(cpu_used(before, after).get(name, 0.0) for name in roots) / 0.5
        if busy < below_cores:
            return
        before = after
    _say(f"the servers were still busy after {limit_s:.0f} s; measuring anyway")


def _pool_size(run_s: float, pilot_rate: float, empty_rate: float) -> int:
    """Customers for a run of `run_s` seconds (ramp + window): 1.5 x what the pilot round's rate
    would use (it ran cold, so it underestimates) plus one per loop (still buying when the window
    closes), but no more than the empty workflows' rate would use; at least two rounds. If
    purchases run faster, the window ends when the pool is empty (the figure stays valid, over a
    shorter window, and says so)."""
    wanted = min(1.5 * pilot_rate, max(empty_rate, 1.0)) * run_s + CUSTOMERS
    return max(2 * CUSTOMERS, math.ceil(wanted / CUSTOMERS) * CUSTOMERS)


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    # See bench.harness._pyload: httpcore looks for sniffio on every connection lock it makes.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    import httpx

    seconds, warmup = float(spec["seconds"]), float(spec["warmup"])
    servers: dict[str, int] = spec["pids"]
    await _quiet(servers)
    _say(f"measuring empty workflows ({CUSTOMERS} concurrent, start + await)")
    empty_run = await _empty_workflows(spec)
    empty = empty_run.result()

    async with httpx.AsyncClient(
        base_url=f"{spec['api_url']}{API}", timeout=60.0, trust_env=False
    ) as api:
        # A pilot round (one purchase per customer, not counted) warms the path up and says how
        # long a purchase takes (the ramp) and how many customers the run needs.
        _say(f"pilot round: {CUSTOMERS} customers, one purchase each, not counted")
        pilot_customers = await _prepare(api, spec["plan_id"], CUSTOMERS)
        await _quiet(servers)
        pilot = await _purchases(
            spec["api_url"],
            pilot_customers,
            ramp_s=0.0,
            seconds=PURCHASE_TIMEOUT_S,
        )
        if pilot.problems:
            _say(f"pilot round problems: {dict(pilot.problems)}")
        pilot_latencies = sorted(s.latency for s in pilot.samples)
        ramp = max(warmup, percentile(pilot_latencies, 50) if pilot_latencies else 1.0)
        pilot_rate = len(pilot.samples) / max(pilot.last_end - pilot.started, 1e-3)
        wanted = _pool_size(ramp + seconds, pilot_rate, empty.rps)
        _say(
            f"preparing {wanted} customers (register, address, plan in the cart; the pilot ran "
            f"{pilot_rate:.1f} purchases/s)"
        )
        t0 = time.perf_counter()
        customers = await _prepare(api, spec["plan_id"], wanted)
        prep_seconds = time.perf_counter() - t0
    await _quiet(servers)
    _say(
        f"measuring purchases ({CUSTOMERS} customers at a time, {wanted} prepared, "
        f"{ramp:.1f} s ramp then {seconds:.0f} s counted)"
    )
    profiles = start_profiles(servers, label="purchases", seconds=ramp + seconds)
    run = await _purchases(spec["api_url"], customers, ramp_s=ramp, seconds=seconds, roots=servers)
    finish_profiles(profiles)
    counted = run.counted()
    if not run.samples:
        raise RuntimeError(f"no purchase completed: {dict(run.problems)}")
    # None in the window (the figure is then INVALID): the histories of those that completed.
    order_ids = [s.order_id for s in counted or run.samples]
    _say("reading the CheckoutWorkflow histories and the subscriptions")
    histories = await _histories(spec, order_ids)
    active = await _active_subscriptions(spec["database_url"], order_ids)
    missing = len(order_ids) - active  # every completed order has an active subscription
    if missing > 0:
        run.problems["completed without an active subscription"] += missing
    phases = {
        k: [s.phases[k] for s in counted or run.samples] for k in ("checkout", "approve", "confirm")
    }
    return {
        "empty": asdict(empty),
        "purchases": asdict(run.result()),
        "customers": wanted,
        "pool_exhausted": run.exhausted and run.last_end < run.window_end,
        "ramp_seconds": ramp,
        "prep_seconds": prep_seconds,
        "phases_p50_ms": {k: _p(v, 50) for k, v in phases.items()},
        "phases_p99_ms": {k: _p(v, 99) for k, v in phases.items()},
        "active_subscriptions": active,
        **histories,
        "empty_cpu": empty_run.cpu,
        "purchase_cpu": run.cpu,
    }


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "worker":
        try:
            asyncio.run(_worker_main())
        except Exception:
            traceback.print_exc()
            exit_now(1)
        exit_now(0)
    elif len(sys.argv) == 3 and sys.argv[1] == "drive":
        exit_now(drive_main(_drive, sys.argv[2]))
    else:
        sys.exit("usage: python -m bench.bench_checkout worker | drive SPEC_JSON")
