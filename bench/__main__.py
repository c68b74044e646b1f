"""`make bench` / `python -m bench`: every benchmark, one after another, figures on stdout.

Environment: BENCH_SECONDS (measured seconds per figure, default 10), BENCH_WARMUP_SECONDS
(default 2), BENCH_LOADGEN (auto | wrk | python), BENCH_KEEP=1 (keep the data and logs directory).
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

from bench import bench_auth
from bench.bench_auth import Figure
from bench.harness import (
    CONNECTIONS,
    LoadGenerator,
    LoadResult,
    Request,
    load_generator,
    log,
    measure,
    running_baseline,
    running_stack,
    workdir,
)

BASELINE_LABEL = "bare uvicorn"


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        sys.exit(f"{name} must be a whole number of seconds, not {raw!r}")
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


def header(generator: LoadGenerator, *, seconds: int, warmup_s: int) -> str:
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    cores_text = f"{cores} cores" + (f" ({usable} usable)" if usable != cores else "")
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    return (
        f"bench: {cores_text} {_cpu_model()}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"uvicorn {metadata.version('uvicorn')} 1 process per server ({loop}, {http}) | "
        f"load: {generator.name}, {CONNECTIONS} connections, "
        f"{seconds} s per figure after {warmup_s} s warm-up | client and servers share the cores"
        f"{_load_average()}"
    )


def _percent(part: float, whole: float) -> str:
    pct = 100.0 * part / whole
    if pct >= 10:
        return f"{pct:.0f}%"
    if pct >= 1:
        return f"{pct:.1f}%"
    return f"{pct:.2f}%"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 10 else f"{value:.2f} ms"


def row(label: str, result: LoadResult, baseline: LoadResult | None) -> str:
    """e.g. `GET /me: 2,150 req/s = 31% of bare uvicorn (p50 6.10 ms, p99 12.3 ms, errors 0)`."""
    figures = (
        f"p50 {_ms(result.p50_ms)}, p99 {_ms(result.p99_ms)}, errors {result.errors}, "
        f"{result.requests:,} requests in {result.seconds:.1f} s"
    )
    if not result.valid:
        why = result.error_detail or "no request completed"
        return f"{label}: INVALID ({why}): {result.rps:,.0f} req/s ({figures})"
    if baseline is None:
        ratio = "baseline"
    elif baseline.valid:
        ratio = f"{_percent(result.rps, baseline.rps)} of {BASELINE_LABEL}"
    else:
        ratio = f"n/a ({BASELINE_LABEL} figure invalid)"
    return f"{label}: {result.rps:,.0f} req/s = {ratio} ({figures})"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    # A `kill` of the bench stops what it started, like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    seconds = _env_int("BENCH_SECONDS", 10, 1)
    warmup_s = _env_int("BENCH_WARMUP_SECONDS", 2, 0)
    generator = load_generator()
    print(header(generator, seconds=seconds, warmup_s=warmup_s), flush=True)

    all_valid = True
    with workdir() as work, running_stack(work) as stack:
        with running_baseline(work) as url:
            log(f"measuring the baseline GET {url}")
            baseline = measure(generator, Request("GET", url), seconds=seconds, warmup_s=warmup_s)
        print(row(f"{BASELINE_LABEL} GET /hello", baseline, None), flush=True)
        all_valid &= baseline.valid

        figures: list[Figure] = bench_auth.run(stack, generator, seconds=seconds, warmup_s=warmup_s)
        for figure in figures:
            print(f"{row(figure.label, figure.result, baseline)}  -- {figure.note}", flush=True)
            all_valid &= figure.result.valid

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
    if not all_valid:
        print("INVALID figures above: some answers were not 2xx (see the reasons).", flush=True)
    return 0 if all_valid else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; everything the bench started has been stopped")
        sys.exit(130)
