"""The lines `python -m bench requests` prints: each figure with its arithmetic (n, nearest-rank
p50 / p99, max), its target's verdict, and the machine's load while it was measured."""

from __future__ import annotations

import math
import os

from bench.bench_requests import (
    BUSY_OUTSIDE_CORES,
    TARGET_EVENT_P99_S,
    TARGET_LIST_P99_MS,
    Part,
    RequestFigures,
)
from bench.harness import percentile


def _ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.1f} ms" if abs(value) >= 10 else f"{value:.2f} ms"


def stats(values: list[float]) -> str:
    """`n 320, p50 12.3 ms (#160), p99 40.1 ms (#317), max 55.0 ms`: nearest rank in the sorted
    list, so each percentile is one measured value."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return "n 0"
    p50, p99 = (max(1, math.ceil(p / 100.0 * n)) for p in (50, 99))
    return (
        f"n {n:,}, p50 {_ms(ordered[p50 - 1])} (#{p50:,} of {n:,} sorted), "
        f"p99 {_ms(ordered[p99 - 1])} (#{p99:,}), max {_ms(ordered[-1])}"
    )


def outside_cores(part: Part) -> float | None:
    """Cores busy with other work than ours (the stack and the driver) during the part."""
    cpu = dict(part.cpu)
    machine = cpu.pop("machine", None)
    if machine is None or part.seconds <= 0:
        return None
    return max(0.0, machine - sum(cpu.values())) / part.seconds


def machine(part: Part) -> str:
    cpu = dict(part.cpu)
    total = cpu.pop("machine", None)
    load = (
        f"load average {part.load_before[0]:.2f} -> {part.load_after[0]:.2f} (1 min; "
        f"{os.cpu_count()} cores)"
        if part.load_before and part.load_after
        else "load average n/a"
    )
    if total is None or part.seconds <= 0:
        return load
    ours = ", ".join(
        f"{name} {used / part.seconds:.2f}"
        for name, used in sorted(cpu.items(), key=lambda item: -item[1])
        if used / part.seconds >= 0.01
    )
    outside = outside_cores(part) or 0.0
    busy = " BUSY: other work shared the cores" if outside > BUSY_OUTSIDE_CORES else ""
    return (
        f"{load}; cores busy {total / part.seconds:.2f} over {part.seconds:.1f} s ({ours}; "
        f"outside these processes {outside:.2f}){busy}"
    )


def _errors(part: Part) -> str:
    count = sum(part.problems.values())
    if not count:
        return "errors 0"
    return (
        f"INVALID, errors {count} ("
        + "; ".join(f"{k} x{v}" for k, v in part.problems.items())
        + ")"
    )


def _verdict(met: bool | None) -> str:
    return "n/a (invalid figure)" if met is None else ("MET" if met else "MISSED")


def lines(f: RequestFigures) -> list[str]:
    s = f.seeded
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(s["by_status"].items()))
    out = [
        f"service requests seeded by COPY: {f.requests:,} requests ({statuses}; escalated "
        f"{s['escalated']:,}, overdue {s['overdue']:,}) of {s['customers']:,} customers, "
        f"{len(s['technicians']):,} technicians, {s['events']:,} timeline entries, "
        f"{s['bookings']:,} bookings; {f.prep_seconds:.0f} s with VACUUM ANALYZE (not timed)"
    ]
    listing = f.listing
    list_p99 = percentile(sorted(listing.latencies_ms), 99)
    list_met = (
        None if listing.problems or not listing.latencies_ms else list_p99 <= TARGET_LIST_P99_MS
    )
    out.append(
        f"admin list over {f.requests:,} requests (GET /admin/service-requests, "
        f"{len(f.by_combo)} filter combinations x {f.rounds} rounds after 1 warm-up round, one "
        f"admin, one request at a time): {stats(listing.latencies_ms)}, {_errors(listing)} | "
        f"target p99 <= {TARGET_LIST_P99_MS:.0f} ms: {_verdict(list_met)} | {machine(listing)}"
    )
    out.append(
        "admin list by combination (p50 / p99 / max over n each): "
        + "; ".join(
            f"{label} {_ms(percentile(sorted(v), 50))} / {_ms(percentile(sorted(v), 99))} / "
            f"{_ms(max(v))} (n {len(v)})"
            for label, v in f.by_combo.items()
        )
    )
    for label, plan in f.plans.items():
        out.append(f"admin list plan of {label!r} (EXPLAIN ANALYZE of each statement it runs):")
        out.extend(f"  {line}" for line in plan)
    out.append(
        f"ask for a visit (POST /service-requests, {len(f.opening.latencies_ms) or 0} customers, "
        f"8 at once; update-with-start of ServiceRequestWorkflow, the visit reserved on the "
        f"subscription's workflow): {stats(f.opening.latencies_ms)}, {_errors(f.opening)} | "
        f"{machine(f.opening)}"
    )
    out.append(
        f"assignment through the API (POST /admin/service-requests/{{id}}/assign on fresh "
        f"requests with their workflows running, one after another: dispatch reads, the Workflow "
        f"Update that books the technician and records the change, the detail): "
        f"{stats(f.assigning.latencies_ms)}, {_errors(f.assigning)} | {machine(f.assigning)}"
    )
    x = f.stream_extra
    streaming = f.streaming
    event_p99 = percentile(sorted(streaming.latencies_ms), 99)
    event_met = (
        None
        if streaming.problems or not streaming.latencies_ms
        else event_p99 <= TARGET_EVENT_P99_S * 1000.0
    )
    out.append(
        f"status change -> its server-sent event at {x['streams']} open streams ({x['streams']} "
        f"customers, one stream each; {x['changes']} changes: start each, then complete each, "
        f"{x['in_flight']} calls in flight; time from sending the change's HTTP call to the "
        f"`change` event on the request's stream): {stats(streaming.latencies_ms)}, "
        f"{_errors(streaming)} | target p99 <= {TARGET_EVENT_P99_S:g} s: {_verdict(event_met)} | "
        f"{machine(streaming)}"
    )
    out.append(
        f"streams: all {x['streams']} had their `state` {x['opened_s']:.1f} s after the first "
        f"was opened; open when the starts began {x['open_during'].get('start', 0)}, when the "
        f"completions began {x['open_during'].get('complete', 0)}; ended by the server after "
        f"the completion {x['ended']} of {x['streams']}; the change's HTTP answer: "
        f"{stats(x['answer_ms'])}; event arrival minus that answer (negative: the event came "
        f"first): {stats(x['after_answer_ms'])}"
    )
    busy = [
        name
        for name, part in (
            ("the list", listing),
            ("assignments", f.assigning),
            ("streams", streaming),
        )
        if (outside_cores(part) or 0.0) > BUSY_OUTSIDE_CORES
    ]
    if busy:
        out.append(
            f"note: the machine was busy with other work while measuring {', '.join(busy)} (more "
            f"than {BUSY_OUTSIDE_CORES:.2f} of a core outside the bench's processes): those "
            "figures are slower than on a quiet machine."
        )
    return out
