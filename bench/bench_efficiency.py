"""Issue 28's single-customer and memory figures, on the HTTP benchmarks' stack.

1. **Idle memory**: the resident memory (RSS, psutil; each process with its children) of every
   server of the stack once it has started and settled, before any load: the API, the worker(s),
   Temporal, PostgreSQL. It is the bench's stack, not `make run`'s: the same processes, but
   Temporal keeps its state in memory (make run: a SQLite file) and there is no supervisor process
   (`python -m devstack run`, which starts the others). Target: the whole stack <= 400 MB.
2. **One customer on an idle system**: a driver process (`python -m bench.bench_efficiency drive
   SPEC`) prepares `PURCHASES` customers (not timed; `bench.bench_checkout._prepare`), waits until
   the servers are idle, then buys one after another (`bench.bench_checkout._purchase`: checkout,
   approve, confirm) and sends `ME_REQUESTS` GET /me one after another (httpx: its own time is
   in these figures); then the bench's load generator (wrk) sends GET /me over ONE connection,
   one after another, for `ME_SECONDS` (the server's time, almost none of the client's). Targets:
   checkout + approve + confirm p50 <= 100 ms, GET /me p50 <= 2 ms (judged on the wrk figure).
3. **Soak**: the API's RSS before, then the same driver sends mixed requests (GET /me, the orders,
   subscriptions and service-requests lists, the catalog, 1 in 50 a login) from `SOAK_CLIENTS`
   loops for BENCH_SOAK_SECONDS (default 30), then the API's RSS after. The target (within 50 MB
   of its idle size after an hour of traffic) is for an hour: this soak is much shorter, and the
   line says so and how many requests it sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.harness import (
    PYTHON,
    ROOT,
    LoadGenerator,
    LoadResult,
    Request,
    Stack,
    drive_main,
    exit_now,
    log,
    measure,
    percentile,
    run_to_end,
    tree_rss,
)

API = "/api/v1"
MB = 1024 * 1024
PURCHASES = 20  # one customer's purchases, one after another
ME_REQUESTS = 300  # one customer's GET /me, one after another
ME_SECONDS = 5  # ... and through the load generator, one connection
SOAK_CLIENTS = 8
DEFAULT_SOAK_SECONDS = 30
TARGET_PURCHASE_P50_MS = 100.0
TARGET_ME_P50_MS = 2.0
TARGET_STACK_MB = 400.0
TARGET_API_GROWTH_MB = 50.0
SOAK_READS = ("/me", "/orders", "/subscriptions", "/service-requests", "/catalog/plans")
LOGIN_EVERY = 50  # one request in 50 of the soak is a login (an argon2id hash: 19 MiB)


@dataclass(frozen=True)
class EfficiencyFigures:
    idle_rss: dict[str, int]  # process tree -> bytes, at idle before any load
    purchase_ms: list[float]  # one customer's purchases, sorted
    phases_p50_ms: dict[str, float]  # checkout, approve, confirm
    me_ms: list[float]  # sorted (httpx, from the driver)
    soak_seconds: float
    soak_requests: int
    soak_errors: int
    api_rss_before: int  # bytes
    api_rss_after: int
    problems: dict[str, int] = field(default_factory=dict)
    me_one_client: LoadResult | None = None  # wrk, one connection

    @property
    def valid(self) -> bool:
        one_ok = self.me_one_client is None or self.me_one_client.valid
        return not self.problems and self.soak_errors == 0 and bool(self.purchase_ms) and one_ok


def idle_rss(stack: Stack) -> dict[str, int]:
    """Every server's RSS now (call it once the stack has settled, before any load)."""
    return {name: tree_rss(pid) for name, pid in stack.pids.items()}


def settle(stack: Stack, *, below_cores: float = 0.10, limit_s: float = 30.0) -> None:
    """Until the stack's servers are idle (start-up work done), at most `limit_s`."""
    from bench.harness import cpu_seconds, cpu_used

    deadline = time.monotonic() + limit_s
    before = cpu_seconds(stack.pids)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        after = cpu_seconds(stack.pids)
        busy = sum(v for k, v in cpu_used(before, after).items() if k in stack.pids)
        if busy < below_cores:
            return
        before = after


def soak_seconds() -> int:
    raw = os.environ.get("BENCH_SOAK_SECONDS", "")
    try:
        value = int(raw) if raw else DEFAULT_SOAK_SECONDS
    except ValueError:
        sys.exit(f"BENCH_SOAK_SECONDS must be a whole number, not {raw!r}")
    return max(0, value)


def run(
    stack: Stack,
    generator: LoadGenerator,
    *,
    idle: dict[str, int],
    plan_id: str,
    soak_s: int,
) -> EfficiencyFigures:
    spec = {
        "api_url": stack.api_url,
        "pids": stack.pids,
        "plan_id": plan_id,
        "soak_seconds": soak_s,
    }
    log(
        f"one customer on an idle system ({PURCHASES} purchases, {ME_REQUESTS} GET /me), then a "
        f"{soak_s} s soak of mixed requests"
    )
    output = run_to_end(
        [PYTHON, "-m", "bench.bench_efficiency", "drive", json.dumps(spec)],
        timeout_s=soak_s + 600,
        cwd=ROOT,
        pass_stderr=True,
    )
    data = json.loads(output.strip().splitlines()[-1])
    return EfficiencyFigures(idle_rss=idle, me_one_client=_me_one_client(stack, generator), **data)


def _me_one_client(stack: Stack, generator: LoadGenerator) -> LoadResult:
    """GET /me over one connection, one request after another, by the load generator."""
    import httpx

    from bench import bench_auth

    email = f"bench-one-{time.time_ns()}@example.com"
    with httpx.Client(base_url=f"{stack.api_url}{API}", timeout=60.0) as client:
        answer = client.post(
            "/auth/register",
            json={"email": email, "password": bench_auth.PASSWORD, "name": "Bench One"},
        )
        if answer.status_code != 201:
            raise RuntimeError(f"POST /auth/register: {answer.status_code} {answer.text[:300]}")
        token = answer.json()["tokens"]["access_token"]
    settle(stack)
    log(f"measuring GET /me over one connection ({ME_SECONDS} s)")
    bearer = {"Authorization": f"Bearer {token}"}
    return measure(
        generator,
        Request("GET", f"{stack.api_url}{API}/me", bearer),
        seconds=ME_SECONDS,
        warmup_s=1,
        connections=1,
    )


# --- the verdicts and printed lines -----------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 10 else f"{value:.2f} ms"


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def lines(f: EfficiencyFigures, *, stack_note: str) -> list[str]:
    out: list[str] = []
    total = sum(f.idle_rss.values())
    largest_first = sorted(f.idle_rss.items(), key=lambda item: -item[1])
    parts = ", ".join(f"{name} {rss / MB:,.0f} MB" for name, rss in largest_first)
    out.append(
        f"idle memory (RSS) of the bench's stack ({stack_note}): {total / MB:,.0f} MB = {parts} "
        f"| target whole stack <= {TARGET_STACK_MB:g} MB: "
        f"{_verdict(total / MB <= TARGET_STACK_MB)} (make run adds its supervisor process; "
        "Temporal there keeps its state in a SQLite file)"
    )
    if f.purchase_ms:
        p50 = percentile(f.purchase_ms, 50)
        phases = ", ".join(f"{k} {_ms(v)}" for k, v in f.phases_p50_ms.items())
        out.append(
            f"one customer on an idle system, checkout + approve + confirm: p50 {_ms(p50)} "
            f"(p50 by request: {phases}; max {_ms(f.purchase_ms[-1])}, n {len(f.purchase_ms)}, "
            f"one after another) | target p50 <= {TARGET_PURCHASE_P50_MS:g} ms: "
            f"{_verdict(p50 <= TARGET_PURCHASE_P50_MS)}"
        )
    else:
        out.append(f"one customer on an idle system: INVALID ({f.problems})")
    one = f.me_one_client
    if one is not None and one.valid:
        client_side = (
            f"; through httpx from the driver: p50 {_ms(percentile(f.me_ms, 50))}, n {len(f.me_ms)}"
            if f.me_ms
            else ""
        )
        out.append(
            f"one customer on an idle system, GET /me over one connection: p50 {_ms(one.p50_ms)} "
            f"(p99 {_ms(one.p99_ms)}, {one.requests:,} requests in {one.seconds:.1f} s, one after "
            f"another{client_side}) | target p50 <= {TARGET_ME_P50_MS:g} ms: "
            f"{_verdict(one.p50_ms <= TARGET_ME_P50_MS)}"
        )
    elif one is not None:
        out.append(f"one customer on an idle system, GET /me: INVALID ({one.error_detail})")
    idle_api = f.idle_rss.get("API", f.api_rss_before)
    growth = (f.api_rss_after - idle_api) / MB
    if f.soak_seconds > 0:
        out.append(
            f"API memory: RSS {idle_api / MB:,.0f} MB idle at start, "
            f"{f.api_rss_before / MB:,.0f} MB after the benchmarks above, "
            f"{f.api_rss_after / MB:,.0f} MB after a soak of {f.soak_requests:,} mixed requests in "
            f"{f.soak_seconds:.0f} s ({SOAK_CLIENTS} clients: GET /me, orders, subscriptions, "
            f"service requests, catalog, 1 in {LOGIN_EVERY} a login; errors {f.soak_errors}): "
            f"{growth:+,.1f} MB over its idle size | target within {TARGET_API_GROWTH_MB:g} MB of "
            f"idle after an hour of traffic: {_verdict(growth <= TARGET_API_GROWTH_MB)} over this "
            "run, which is much shorter than the target's hour (BENCH_SOAK_SECONDS=3600 for it)"
        )
    if f.problems:
        out.append(f"single-customer and soak problems: {f.problems}")
    return out


# --- the driver process -----------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def _one_customer(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from bench import bench_checkout as checkout

    servers: dict[str, int] = spec["pids"]
    async with httpx.AsyncClient(
        base_url=f"{spec['api_url']}{API}", timeout=60.0, trust_env=False
    ) as api:
        customers = await checkout._prepare(api, spec["plan_id"], PURCHASES)
    await checkout._quiet(servers)
    run = checkout.Run(started=time.perf_counter(), window_start=0.0, window_end=float("inf"))
    async with httpx.AsyncClient(
        base_url=spec["api_url"], timeout=checkout.PURCHASE_TIMEOUT_S, trust_env=False
    ) as client:
        # One warm-up purchase (its connection and the path's first calls), not counted.
        await checkout._purchase(client, customers[0], checkout.Run(0.0, 0.0, float("inf")))
        for who in customers[1:]:
            await checkout._purchase(client, who, run)
            await asyncio.sleep(0.05)  # what the purchase left behind (its workflow's end)
        me: list[float] = []
        who = customers[0]
        for _ in range(ME_REQUESTS + 20):
            t0 = time.perf_counter()
            answer = await client.get(f"{API}/me", headers=who.headers)
            me.append(time.perf_counter() - t0)
            if answer.status_code != 200:
                run.problems[f"GET /me {answer.status_code}"] += 1
    samples = run.samples
    phases = {
        k: percentile(sorted(s.phases[k] for s in samples), 50) * 1000.0
        for k in ("checkout", "approve", "confirm")
    }
    return {
        "purchase_ms": sorted(s.latency * 1000.0 for s in samples),
        "phases_p50_ms": phases if samples else {},
        "me_ms": sorted(t * 1000.0 for t in me[20:]),
        "problems": dict(run.problems),
        "customers": [asdict(c) for c in customers],
    }


async def _soak(spec: dict[str, Any], customers: list[dict[str, Any]]) -> dict[str, Any]:
    import httpx

    from bench import bench_checkout as checkout

    seconds = float(spec["soak_seconds"])
    api_pid = int(spec["pids"]["API"])
    await checkout._quiet(spec["pids"])
    before = tree_rss(api_pid)
    if seconds <= 0:
        return {"soak_seconds": 0.0, "soak_requests": 0, "soak_errors": 0, "rss": (before, before)}
    problems: dict[str, int] = {}
    sent = 0
    deadline = time.perf_counter() + seconds

    async def loop(index: int) -> None:
        nonlocal sent
        who = customers[index % len(customers)]
        credentials = {"identifier": who["email"], "password": checkout.PASSWORD}
        async with httpx.AsyncClient(
            base_url=f"{spec['api_url']}{API}", timeout=60.0, trust_env=False
        ) as api:
            step = index
            while time.perf_counter() < deadline:
                step += 1
                if step % LOGIN_EVERY == 0:
                    answer = await api.post("/auth/login", json=credentials)
                    if answer.status_code == 200:  # a long soak outlives the access tokens
                        token = answer.json()["access_token"]
                        who = {**who, "headers": {"Authorization": f"Bearer {token}"}}
                else:
                    path = SOAK_READS[step % len(SOAK_READS)]
                    answer = await api.get(path, headers=who["headers"])
                sent += 1
                if answer.status_code != 200:
                    key = f"{answer.request.url.path} {answer.status_code}"
                    problems[key] = problems.get(key, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(SOAK_CLIENTS)))
    elapsed = time.perf_counter() - started
    await checkout._quiet(spec["pids"])
    after = tree_rss(api_pid)
    return {
        "soak_seconds": elapsed,
        "soak_requests": sent,
        "soak_errors": sum(problems.values()),
        "soak_problems": problems,
        "rss": (before, after),
    }


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]  # see bench.harness
    _say(f"one customer: preparing {PURCHASES} customers, then purchases one after another")
    single = await _one_customer(spec)
    _say(f"soak: {spec['soak_seconds']} s of mixed requests, {SOAK_CLIENTS} clients")
    soak = await _soak(spec, single.pop("customers"))
    problems = dict(single.pop("problems"))
    problems.update(soak.pop("soak_problems", {}))
    before, after = soak.pop("rss")
    return {
        **single,
        **soak,
        "problems": problems,
        "api_rss_before": before,
        "api_rss_after": after,
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "drive":
        exit_now(drive_main(_drive, sys.argv[2], fast_loop=False))
    sys.exit("usage: python -m bench.bench_efficiency drive SPEC_JSON")
