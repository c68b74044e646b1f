"""`make bench` / `python -m bench`: every benchmark, one after another, figures on stdout.

`python -m bench subscriptions` (or BENCH_ONLY=subscriptions) runs the subscriptions benchmark
alone; `python -m bench campaigns` the campaign fan-out alone; `python -m bench requests` the
service-requests benchmark alone; `python -m bench http` the HTTP ones (baseline, auth, catalog,
checkout) alone;
`python -m bench dashboard` the dashboard and reports at a million orders and requests
(BENCH_DASHBOARD_ORDERS, BENCH_DASHBOARD_REQUESTS change the numbers); `python -m bench app` the
customer app's first screen (bytes transferred, first paint on slow 4G) in chromium.

Environment: BENCH_SECONDS (measured seconds per figure, default 10), BENCH_WARMUP_SECONDS
(default 2), BENCH_LOADGEN (auto | wrk | python), BENCH_KEEP=1 (keep the data and logs directory),
BENCH_SUBSCRIPTIONS (live subscriptions, default 10000), BENCH_WORKER_MAX_CACHED_WORKFLOWS (the
subscriptions worker's WORKER_MAX_CACHED_WORKFLOWS; default: the setting's own), BENCH_REQUESTS
(service requests seeded, default 100000), BENCH_LIST_ROUNDS (rounds of the admin list's filter
mix, default 20), BENCH_EXPLAIN=1 (print the plans of every list combination),
BENCH_CAMPAIGN_CUSTOMERS (the campaign's audience, default 100000), BENCH_CAMPAIGN_BATCH and
BENCH_CAMPAIGN_RATE (its worker's CAMPAIGN_BATCH_SIZE and CAMPAIGN_RATE_PER_SECOND),
BENCH_SOAK_SECONDS (the API memory soak after the HTTP figures, default 30), BENCH_API_PROCESSES
and BENCH_WORKERS (the HTTP stack's uvicorn workers and worker processes, default 1 each: the
scaling mode), BENCH_PROFILE=DIR (py-spy profiles of the API and the worker during the reads and
the purchases, into DIR).
Exit status 1 when a figure is invalid (an answer was not 2xx, or a socket error happened).
"""

from __future__ import annotations

import os
import platform
import signal
import sys
from importlib import metadata
from importlib.util import find_spec
from types import FrameType

from bench import (
    bench_app,
    bench_auth,
    bench_campaigns,
    bench_catalog,
    bench_checkout,
    bench_dashboard,
    bench_efficiency,
    bench_requests,
    bench_subscriptions,
)
from bench.bench_auth import Figure
from bench.harness import (
    CONNECTIONS,
    LoadGenerator,
    LoadResult,
    Request,
    load_generator,
    log,
    measure,
    percentile,
    running_baseline,
    running_stack,
    workdir,
)

BASELINE_LABEL = "bare uvicorn"
GROUPS = ("http", "subscriptions", "requests", "campaigns", "dashboard", "app")


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        sys.exit(f"{name} must be a whole number, not {raw!r}")
    if value < minimum:
        sys.exit(f"{name} must be at least {minimum}")
    return value


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load_average() -> str:
    """Other work on the machine lowers every figure: the 1-minute load average says how busy it
    was when the bench started (about 0 on an idle machine)."""
    try:
        return f", load average {os.getloadavg()[0]:.2f} at start"
    except OSError:
        return ""


def header(
    generator: LoadGenerator | None, *, seconds: int, warmup_s: int, subscriptions: int | None
) -> str:
    """The machine, then what runs: the HTTP load (None: not run) and the subscriptions."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    cores_text = f"{cores} cores" + (f" ({usable} usable)" if usable != cores else "")
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    line = (
        f"bench: {cores_text} {_cpu_model()}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )
    if generator is not None:
        line += (
            f", uvicorn {metadata.version('uvicorn')} 1 process per server ({loop}, {http}) | "
            f"load: {generator.name}, {CONNECTIONS} connections ({bench_catalog.CLIENTS} for the "
            f"catalog; checkout: Python driver, {bench_checkout.CUSTOMERS} customers), "
            f"{seconds} s per figure after {warmup_s} s warm-up"
        )
    if subscriptions is not None:
        line += (
            f" | subscriptions: {subscriptions:,} live, then {bench_subscriptions.REMINDERS:,} "
            f"reminders due within {bench_subscriptions.WINDOW_S:.0f} s"
        )
    return line + f" | client and servers share the cores{_load_average()}"


def _percent(part: float, whole: float) -> str:
    pct = 100.0 * part / whole
    if pct >= 10:
        return f"{pct:.0f}%"
    if pct >= 1:
        return f"{pct:.1f}%"
    return f"{pct:.2f}%"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 10 else f"{value:.2f} ms"


def row(
    label: str,
    result: LoadResult,
    baseline: LoadResult | None,
    *,
    baseline_label: str = BASELINE_LABEL,
    unit: str = "req/s",
    noun: str = "requests",
) -> str:
    """e.g. `GET /me: 2,150 req/s = 31% of bare uvicorn (p50 6.10 ms, p99 12.3 ms, errors 0)`."""
    figures = (
        f"p50 {_ms(result.p50_ms)}, p99 {_ms(result.p99_ms)}, errors {result.errors}, "
        f"{result.requests:,} {noun} in {result.seconds:.1f} s"
    )
    rate = f"{result.rps:,.1f}" if result.rps < 100 and unit != "req/s" else f"{result.rps:,.0f}"
    if not result.valid:
        why = result.error_detail or f"no {noun[:-1]} completed"
        return f"{label}: INVALID ({why}): {rate} {unit} ({figures})"
    if baseline is None:
        ratio = "baseline"
    elif baseline.valid:
        ratio = f"{_percent(result.rps, baseline.rps)} of {baseline_label}"
    else:
        ratio = f"n/a ({baseline_label} figure invalid)"
    return f"{label}: {rate} {unit} = {ratio} ({figures})"


def _verdict(met: bool | None) -> str:
    return "n/a (invalid figure)" if met is None else ("MET" if met else "MISSED")


def catalog_lines(figures: bench_catalog.CatalogFigures, baseline32: LoadResult) -> list[str]:
    clients = bench_catalog.CLIENTS
    base = f"{BASELINE_LABEL} at {clients} clients"
    listing, revalidation = figures.listing, figures.revalidation
    listing_row = row(
        f"GET /catalog/plans at {clients} clients", listing, baseline32, baseline_label=base
    )
    revalidation_row = row(
        f"GET /catalog/plans If-None-Match at {clients} clients",
        revalidation,
        baseline32,
        baseline_label=base,
    )
    met = bench_catalog.target_met(listing, baseline32)
    if met is not None:
        p99_ok, share_ok = met
        verdict = (
            f"{_verdict(p99_ok and share_ok)} (p99 {_ms(listing.p99_ms)}: "
            f"{_verdict(p99_ok)}, bare uvicorn's own p99 at {clients} clients "
            f"{_ms(baseline32.p99_ms)}; throughput {_percent(listing.rps, baseline32.rps)} of "
            f"bare: {_verdict(share_ok)})"
        )
    else:
        verdict = _verdict(None)
    return [
        f"{listing_row}  -- demo catalog ({figures.plans} plans, {figures.body_bytes:,}-byte "
        f"body), no If-None-Match | target {bench_catalog.target_text()}: {verdict}",
        f"{revalidation_row}  -- revalidation with the current ETag: 304, no body",
    ]


def _read_verdict(result: LoadResult, baseline: LoadResult) -> str:
    met = bench_auth.read_target_met(result, baseline)
    if met is None:
        return _verdict(None)
    share_ok, p99_ok = met
    return (
        f"{_verdict(share_ok and p99_ok)} (throughput {_percent(result.rps, baseline.rps)} of "
        f"bare: {_verdict(share_ok)}; p99 {_ms(result.p99_ms)}: {_verdict(p99_ok)})"
    )


def _event_summary(types: list[str]) -> str:
    """`ACTIVITY_TASK_SCHEDULED x3, ...` in order of first appearance."""
    counts: dict[str, int] = {}
    for kind in types:
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{kind} x{n}" for kind, n in counts.items())


def cpu_line(what: str, cpu: dict[str, float], result: LoadResult) -> str:
    """`CPU per purchase: API 20 ms, worker 30 ms, ... | machine busy 1.9 of 2 cores, ...`."""
    if not cpu or result.requests == 0 or result.seconds <= 0:
        return f"CPU per {what}: n/a (no /proc here)"
    machine = cpu.pop("machine", None)
    parts = [
        f"{name} {_ms(1000.0 * used / result.requests)}"
        for name, used in sorted(cpu.items(), key=lambda item: -item[1])
        if 1000.0 * used / result.requests >= 0.05
    ]
    line = f"CPU per {what}: " + ", ".join(parts)
    if machine is not None:
        ours = sum(cpu.values())
        line += (
            f" | machine busy {machine / result.seconds:.2f} of {os.cpu_count()} cores during "
            f"the window, {max(0.0, machine - ours) / result.seconds:.2f} of them outside these "
            "processes (other work on the machine)"
        )
    return line


def checkout_lines(figures: bench_checkout.CheckoutFigures) -> list[str]:
    n = bench_checkout.CUSTOMERS
    empty, purchases = figures.empty, figures.purchases
    met = bench_checkout.target_met(figures)
    cpu = bench_checkout.cpu_per_purchase_ms(figures)
    p50, p99 = figures.phases_p50_ms, figures.phases_p99_ms
    lengths = figures.history_lengths
    events_met = lengths["max"] <= bench_checkout.TARGET_EVENTS
    empty_row = row(
        f"empty workflow, {n} concurrent", empty, None, unit="workflows/s", noun="workflows"
    )
    purchase_row = row(
        f"checkout purchase, {n} customers",
        purchases,
        empty,
        baseline_label="empty workflow",
        unit="purchases/s",
        noun="purchases",
    )
    servers = " + ".join(bench_checkout.SERVERS)
    cpu_verdict = (
        f"target CPU per purchase <= {bench_checkout.TARGET_CPU_MS:g} ms ({servers}): "
        f"{_verdict(met)}" + (f" ({_ms(cpu)})" if cpu is not None else "")
    )
    return [
        f"{empty_row}  -- start + await a no-op workflow on a bench-only worker process (SDK "
        "defaults), same Temporal dev server: the engine's limit",
        cpu_line("empty workflow", dict(figures.empty_cpu), empty),
        f"{purchase_row}  -- sandbox provider: POST /checkout -> POST approve -> POST "
        f"/orders/{{id}}/confirm answers completed",
        f"checkout purchase phases: POST /checkout p50 {_ms(p50['checkout'])} p99 "
        f"{_ms(p99['checkout'])}, POST approve p50 {_ms(p50['approve'])} p99 "
        f"{_ms(p99['approve'])}, POST confirm p50 {_ms(p50['confirm'])} p99 "
        f"{_ms(p99['confirm'])}; "
        f"{figures.active_subscriptions:,} of {purchases.requests:,} orders have an active "
        f"subscription; {figures.customers:,} customers prepared in {figures.prep_seconds:.1f} s "
        f"(not timed); counted: purchases completed in the window after a "
        f"{figures.ramp_seconds:.1f} s ramp"
        + ("; the window ended early: every customer had bought" if figures.pool_exhausted else ""),
        cpu_line("purchase", dict(figures.purchase_cpu), purchases) + f" | {cpu_verdict}",
        f"CheckoutWorkflow history: {figures.history_events} events in "
        f"{figures.history_workflow_id} (all {purchases.requests:,} timed purchases: "
        f"{lengths['min']}-{lengths['max']} events) | target <= {bench_checkout.TARGET_EVENTS} "
        f"events per purchase: {_verdict(events_met)}",
        f"CheckoutWorkflow history event types, in order: {', '.join(figures.history_types)}",
        f"CheckoutWorkflow history by type: {_event_summary(figures.history_types)}",
    ]


def _mb(value: int) -> str:
    return f"{value / bench_subscriptions.MB:,.0f} MB"


def _s_ms(seconds: float) -> str:
    """A duration in seconds, as ms (or "not sent" for the missing ones)."""
    if seconds == float("inf"):
        return "not sent"
    return _ms(1000.0 * seconds)


def subscription_lines(figures: bench_subscriptions.SubscriptionFigures) -> list[str]:
    f = figures
    n = f.subscriptions
    settle_rate = f.settled / f.settle_seconds if f.settle_seconds > 0 else 0.0
    start_rate = f.started / f.start_seconds if f.start_seconds > 0 else 0.0
    errors = sum(f.start_problems.values())
    label = f"subscriptions, {n:,} live"
    if not f.valid:
        label += f": INVALID ({f.invalid_reason()})"
    starts = LoadResult(
        requests=f.settled,
        seconds=f.settle_seconds,
        rps=settle_rate,
        p50_ms=f.start_p50_ms,
        p99_ms=f.start_p99_ms,
        errors=errors,
    )
    before, after, peak, hwm = f.rss_before, f.rss_after, f.rss_peak, f.rss_hwm
    grown = (after["Temporal"] - before["Temporal"]) / max(n, 1)
    rss_met = f.rss_met()
    if f.subscriptions < bench_subscriptions.TARGET_RSS_AT:
        rss_verdict = (
            f"target applies at {bench_subscriptions.TARGET_RSS_AT:,} (measured "
            f"{f.worker_rss_mb():,.0f} MB peak at {n:,})"
        )
    else:
        rss_verdict = f"{_verdict(rss_met)} ({f.worker_rss_mb():,.0f} MB peak)"
    sent, expected = f.reminders_sent, f.reminders
    late = f.lateness_s
    events = f.event_lateness_s
    lateness_met = f.lateness_met()
    window = dict(f.window_cpu)
    machine = window.pop("machine", None)
    span = bench_subscriptions.WINDOW_S
    busy = (
        f"machine busy {machine / span:.2f} of {os.cpu_count()} cores during the reminders' "
        f"{span:.0f} s: "
        + ", ".join(
            f"{name} {used / span:.2f}"
            for name, used in sorted(window.items(), key=lambda item: -item[1])
        )
        + f", {max(0.0, machine - sum(window.values())) / span:.2f} outside these processes "
        "(other work on the machine)"
        if machine is not None
        else "no /proc here"
    )
    steps = ", ".join(
        f"{name} {_s_ms(percentile(values, 50))} / {_s_ms(percentile(values, 99))}"
        for name, values in f.steps_s.items()
    )
    return [
        f"{label}: started at {start_rate:,.0f} starts/s ({f.started:,} in "
        f"{f.start_seconds:.1f} s, {f.starts_in_flight} start calls in flight; one call p50 "
        f"{_ms(f.start_p50_ms)}, p99 "
        f"{_ms(f.start_p99_ms)}; errors {errors}); every one had run its first task "
        f"{f.settle_seconds:.1f} s after the first start ({settle_rate:,.0f}/s; "
        f"{f.settled:,} of {n:,}) | Temporal dev server: {f.temporal_store}; worker: "
        f"max_cached_workflows {f.max_cached_workflows:,}, SDK default task slots; rows and "
        f"inputs prepared in {f.prep_seconds:.1f} s (not timed)",
        cpu_line("subscription started (its start and first task)", dict(f.start_cpu), starts),
        f"subscription memory, {n:,} live: worker RSS {_mb(after['worker'])} once all had started "
        f"(peak {_mb(peak['worker'])} sampled every second, high-water mark "
        f"{_mb(hwm['worker'])}; {_mb(before['worker'])} idle before; {_mb(f.rss_end['worker'])} "
        f"after the reminders), Temporal RSS {_mb(after['Temporal'])} (peak "
        f"{_mb(peak['Temporal'])}, high-water mark {_mb(hwm['Temporal'])}; "
        f"{_mb(before['Temporal'])} idle before: {grown / 1024:+,.1f} KB per live subscription); "
        f"Temporal's SQLite file {_mb(f.temporal_db_bytes)} "
        f"({f.temporal_db_bytes / max(n, 1) / 1024:,.1f} KB per workflow) | target "
        f"{bench_subscriptions.target_worker_rss_text()}: {rss_verdict}",
        f"reminder lateness, {expected:,} due within {bench_subscriptions.WINDOW_S:.0f} s "
        f"beside the {n:,} live: p50 {_s_ms(f.lateness(50))}, p99 {_s_ms(f.lateness(99))}, max "
        f"{_s_ms(f.lateness(100))} (outbox row's created_at - due time; {sent:,} of {expected:,} "
        f"sent, {expected - sent:,} not sent {bench_subscriptions.WAIT_S:.0f} s after the last "
        f"due time; min {_s_ms(late[0]) if late else 'n/a'}; the timeline event's `at` - due: "
        f"p50 {_s_ms(percentile(events, 50))}, p99 {_s_ms(percentile(events, 99))}, max "
        f"{_s_ms(percentile(events, 100))}; started at {f.reminder_start_rate:.0f}/s, all "
        f"settled {f.reminders_settled_before_s:.1f} s before the first due time) | target "
        f"p99 <= {bench_subscriptions.TARGET_P99_S:g} s: {_verdict(lateness_met)}",
        f"reminder lateness by step, p50 / p99 over {len(next(iter(f.steps_s.values()), [])):,} "
        f"histories: {steps or 'n/a'} | {busy}",
    ]


def _groups() -> tuple[str, ...]:
    """What to run: the names on the command line, else BENCH_ONLY (comma-separated), else all."""
    names = sys.argv[1:] or [n for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()]
    names = [n.strip() for n in names]
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        sys.exit(f"unknown benchmark {unknown[0]!r}: choose from {', '.join(GROUPS)}")
    return tuple(names) or GROUPS


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    # A `kill` of the bench stops what it started, like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    groups = _groups()
    seconds = _env_int("BENCH_SECONDS", 10, 1)
    warmup_s = _env_int("BENCH_WARMUP_SECONDS", 2, 0)
    subscriptions = _env_int("BENCH_SUBSCRIPTIONS", bench_subscriptions.DEFAULT_COUNT, 1)
    max_cached = (
        _env_int("BENCH_WORKER_MAX_CACHED_WORKFLOWS", 0, 0)
        if os.environ.get("BENCH_WORKER_MAX_CACHED_WORKFLOWS")
        else None
    )
    generator = load_generator() if "http" in groups else None
    print(
        header(
            generator,
            seconds=seconds,
            warmup_s=warmup_s,
            subscriptions=subscriptions if "subscriptions" in groups else None,
        ),
        flush=True,
    )

    all_valid = True
    if generator is not None:
        all_valid &= _http(generator, seconds=seconds, warmup_s=warmup_s)
    if "subscriptions" in groups:
        with workdir() as work:
            figures = bench_subscriptions.run(
                work / "subscriptions", count=subscriptions, max_cached=max_cached
            )
        for line in subscription_lines(figures):
            print(line, flush=True)
        all_valid &= figures.valid
    if "requests" in groups:
        all_valid &= _requests()
    if "campaigns" in groups:
        customers = _env_int("BENCH_CAMPAIGN_CUSTOMERS", bench_campaigns.DEFAULT_CUSTOMERS, 1)
        with workdir() as work:
            campaign = bench_campaigns.run(work / "campaigns", customers=customers)
        for line in bench_campaigns.lines(campaign):
            print(line, flush=True)
        all_valid &= campaign.valid
    if "dashboard" in groups:
        print(
            f"dashboard: {bench_dashboard.ORDERS:,} orders, {bench_dashboard.REQUESTS:,} service "
            f"requests, load average {os.getloadavg()[0]:.2f} at start",
            flush=True,
        )
        with workdir() as work:
            dashboard = bench_dashboard.run(work / "dashboard")
        for line in bench_dashboard.lines(dashboard):
            print(line, flush=True)
        all_valid &= dashboard.valid
    if "app" in groups:
        with workdir() as work:
            app_figures = bench_app.run(work / "app")
        for line in bench_app.lines(app_figures):
            print(line, flush=True)
    if not all_valid:
        print("INVALID figures above (see the reasons).", flush=True)
    return 0 if all_valid else 1


def _requests() -> bool:
    """The service-requests benchmark on a stack of its own; False if a figure was invalid."""
    from bench import requests_report

    count = _env_int("BENCH_REQUESTS", bench_requests.DEFAULT_COUNT, 1_000)
    rounds = _env_int("BENCH_LIST_ROUNDS", bench_requests.DEFAULT_ROUNDS, 1)
    print(
        f"service requests: {count:,} seeded, then the admin list, assignments and streams"
        f"{_load_average()}",
        flush=True,
    )
    with workdir() as work:
        figures = bench_requests.run(work / "requests", count=count, rounds=rounds)
    for line in requests_report.lines(figures):
        print(line, flush=True)
    return figures.valid


def _http(generator: LoadGenerator, *, seconds: int, warmup_s: int) -> bool:
    """The HTTP benchmarks (baseline, auth, catalog, checkout) on one stack; False if a figure
    was invalid."""
    all_valid = True
    api_processes = _env_int("BENCH_API_PROCESSES", 1, 1)
    workers = _env_int("BENCH_WORKERS", 1, 1)
    stack_note = (
        f"API {api_processes} process(es), {workers} worker(s), Temporal in memory, one PostgreSQL"
    )
    print(f"stack: {stack_note}", flush=True)
    with (
        workdir() as work,
        running_stack(work, api_processes=api_processes, workers=workers) as stack,
    ):
        log("waiting until the stack is idle, then reading every server's memory")
        bench_efficiency.settle(stack)
        idle = bench_efficiency.idle_rss(stack)
        with running_baseline(work) as url:
            log(f"measuring the baseline GET {url}")
            baseline = measure(generator, Request("GET", url), seconds=seconds, warmup_s=warmup_s)
            clients = bench_catalog.CLIENTS
            log(f"measuring the baseline GET {url} at {clients} clients (for the catalog)")
            baseline32 = measure(
                generator,
                Request("GET", url),
                seconds=seconds,
                warmup_s=warmup_s,
                connections=clients,
            )
        print(row(f"{BASELINE_LABEL} GET /hello", baseline, None), flush=True)
        print(
            row(f"{BASELINE_LABEL} GET /hello at {clients} clients", baseline32, None), flush=True
        )
        all_valid &= baseline.valid and baseline32.valid

        figures: list[Figure] = bench_auth.run(stack, generator, seconds=seconds, warmup_s=warmup_s)
        for figure in figures:
            line = f"{row(figure.label, figure.result, baseline)}  -- {figure.note}"
            if figure.read:
                line += f" | target {bench_auth.read_target_text()}: " + _read_verdict(
                    figure.result, baseline
                )
            print(line, flush=True)
            all_valid &= figure.result.valid

        catalog = bench_catalog.run(stack, generator, seconds=seconds, warmup_s=warmup_s)
        for line in catalog_lines(catalog, baseline32):
            print(line, flush=True)
        all_valid &= catalog.listing.valid and catalog.revalidation.valid

        checkout = bench_checkout.run(stack, seconds=seconds, warmup_s=warmup_s)
        for line in checkout_lines(checkout):
            print(line, flush=True)
        all_valid &= checkout.empty.valid and checkout.purchases.valid

        efficiency = bench_efficiency.run(
            stack,
            generator,
            idle=idle,
            plan_id=bench_checkout.pick_plan(stack)["id"],
            soak_s=bench_efficiency.soak_seconds(),
        )
        for line in bench_efficiency.lines(efficiency, stack_note=stack_note):
            print(line, flush=True)
        all_valid &= efficiency.valid

    verify_ms = bench_auth.argon2_verify_ms()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"note: login throughput is bounded by the password hash, by design: one argon2id "
        f"verification ({bench_auth.argon2_params()}) takes {verify_ms:.0f} ms of one core here, "
        f"so {cores} cores cap logins near {(cores or 1) * 1000.0 / verify_ms:,.0f}/s before "
        "anything else runs (the load generator, PostgreSQL and the event loop share the same "
        "cores).",
        flush=True,
    )
    return all_valid


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; everything the bench started has been stopped")
        sys.exit(130)
