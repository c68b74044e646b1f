"""`make run`: the whole system on one machine, supervised in the foreground.

Order: PostgreSQL (embedded, unless DATABASE_URL is given) and the Temporal dev server start;
once PostgreSQL answers, the migrations and the seed run; once Temporal answers too, the worker
and the API start. Ctrl-C stops everything; a long-running part that dies stops the rest.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The supervisor lives as long as the system runs: it imports only the standard library and
# devstack's own small modules (no SDKs, no SQLAlchemy, no psycopg); what needs them runs as a
# process of its own (the PostgreSQL steps, the migrations, the seed).
from devstack import postgres, temporal_server, web_apps
from devstack.search_attributes import ATTRIBUTES
from devstack.supervisor import Printer, StartupError, Stopping, Supervisor

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = "127.0.0.1"
TEMPORAL_HOST = "127.0.0.1"
DATABASE = "homeplans"

STARTUP_TIMEOUT_S = 90.0
# Stopped front to back: nothing should see its database or Temporal vanish while it still works.
STOP_ORDER = (("api", "worker"), ("temporal",), ("postgres",))
MAX_WORKERS = 16
# Only the seed needs it; the long-running processes do not get it in their environment.
SEED_ONLY_ENV = ("ADMIN_PASSWORD",)


# glibc's malloc for the API and the workers, as the Dockerfile sets it (docs/operations.md,
# "Memory"). A block of 4 MiB or more (argon2's 19 MiB per password hash) is mapped for itself
# and returned to the system when freed, instead of staying in the arena of the thread that used
# it: measured, the API under a mixed soak held 211 MB (idle 156) without it, 173 MB (idle 160)
# with it. Two arenas instead of 8 per core: our processes run Python on one thread.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "4194304", "MALLOC_ARENA_MAX": "2"}


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class StackConfig:
    data_dir: Path
    pg_port: int
    temporal_port: int
    temporal_ui_port: int
    api_host: str
    api_port: int
    temporal_namespace: str
    external_database_url: str | None
    workers: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, workers: int = 1) -> StackConfig:
        data_dir = Path(env.get("DATA_DIR") or ".data")
        return cls(
            data_dir=data_dir if data_dir.is_absolute() else ROOT / data_dir,
            pg_port=_port(env, "PG_PORT", 5433),
            temporal_port=_port(env, "TEMPORAL_PORT", 7233),
            temporal_ui_port=_port(env, "TEMPORAL_UI_PORT", 8233),
            api_host=env.get("API_HOST") or "127.0.0.1",
            api_port=_port(env, "API_PORT", 8000),
            temporal_namespace=env.get("TEMPORAL_NAMESPACE") or "default",
            external_database_url=env.get("DATABASE_URL") or None,
            workers=workers,
        )

    @property
    def worker_names(self) -> list[str]:
        """One worker is `worker`; more are `worker1`, `worker2`, ... (their console prefixes)."""
        if self.workers == 1:
            return ["worker"]
        return [f"worker{n}" for n in range(1, self.workers + 1)]

    @property
    def stop_order(self) -> tuple[tuple[str, ...], ...]:
        """The API and every worker first, then Temporal, then PostgreSQL."""
        return (("api", *self.worker_names), ("temporal",), ("postgres",))

    @property
    def database_url(self) -> str:
        if self.external_database_url:
            return self.external_database_url
        return f"postgresql+psycopg://postgres@{PG_HOST}:{self.pg_port}/{DATABASE}"

    @property
    def temporal_address(self) -> str:
        return f"{TEMPORAL_HOST}:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        # A wildcard bind is reached (and shown) through the loopback address.
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(  # noqa: S104
            self.api_host, self.api_host
        )
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.api_port}"

    def ports(self) -> list[tuple[str, str, int]]:
        """(variable, host, port) of every port the stack binds."""
        ports = [
            ("TEMPORAL_PORT", TEMPORAL_HOST, self.temporal_port),
            ("TEMPORAL_UI_PORT", TEMPORAL_HOST, self.temporal_ui_port),
            ("API_PORT", self.api_host, self.api_port),
        ]
        if not self.external_database_url:
            ports.insert(0, ("PG_PORT", PG_HOST, self.pg_port))
        return ports


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise ConfigError(f"make run: {name}={raw!r} is not a port number (1-65535)")
    return value


# --- preflight ----------------------------------------------------------------------------------


def port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # The servers set SO_REUSEADDR too: a port whose last connections linger in TIME_WAIT
        # after the previous run is free for them, and must be reported free here.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError:
            return False
    return True


def preflight(config: StackConfig) -> str | None:
    """The one line to print when the stack cannot start; None when it can."""
    seen: dict[int, str] = {}
    for name, _host, port in config.ports():
        if port in seen:
            return f"make run: {seen[port]} and {name} are both {port}; give each its own port"
        seen[port] = name
    for name, host, port in config.ports():
        if not port_free(host, port):
            return (
                f"make run: port {port} ({name}) is already in use; "
                f"stop what holds it or set {name}=..."
            )
    return None


# --- the stack ----------------------------------------------------------------------------------


def child_env(config: StackConfig, *, seed: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = config.database_url
    env["TEMPORAL_ADDRESS"] = config.temporal_address
    env["TEMPORAL_NAMESPACE"] = config.temporal_namespace
    # Where the API listens: the links it builds (sandbox payment pages, receipts) use this port
    # unless PUBLIC_BASE_URL says otherwise (core.settings).
    env["API_HOST"] = config.api_host
    env["API_PORT"] = str(config.api_port)
    # Photos live with the rest of the data, so DATA_DIR moves them too and `make clean-data`
    # removes them (unless UPLOADS_DIR, or S3_BUCKET, says otherwise).
    env.setdefault("UPLOADS_DIR", str(config.data_dir / "uploads"))
    # The admin panel links each workflow to this stack's Temporal Web UI.
    env.setdefault("TEMPORAL_UI_URL", f"http://{TEMPORAL_HOST}:{config.temporal_ui_port}")
    env["PYTHONUNBUFFERED"] = "1"  # lines reach the console as they are written, not in blocks
    for name, value in MALLOC_ENV.items():
        env.setdefault(name, value)
    if not seed:
        for name in SEED_ONLY_ENV:
            env.pop(name, None)
    return env


def shown_url(url: str) -> str:
    """The URL with its password (if any) shown as `***`."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:  # not parseable: show nothing of it rather than a password
        return "(DATABASE_URL as given)"


async def start(sup: Supervisor, config: StackConfig) -> None:
    env = child_env(config)
    python = sys.executable
    config.data_dir.mkdir(parents=True, exist_ok=True)

    pg = None
    if config.external_database_url is None:
        pgdata = config.data_dir / "postgres"
        if not (pgdata / "PG_VERSION").exists():
            sup.printer.system(f"creating the PostgreSQL cluster in {pgdata}")
        init = [python, "-m", "devstack.postgres", "init", str(pgdata)]
        if await sup.run_once("postgres", init, env=env, cwd=ROOT) != 0:
            raise StartupError("creating the PostgreSQL cluster failed; see the postgres lines")
        user = postgres.run_as()
        pg = await sup.spawn(
            "postgres",
            postgres.server_command(pgdata, host=PG_HOST, port=config.pg_port),
            env=env,
            user=user,  # PostgreSQL refuses to run as root
            stop_signal=signal.SIGINT,  # fast shutdown: sessions are cut, data is safe
            kill_signal=signal.SIGQUIT,  # immediate shutdown, still stops the backends
        )

    temporal = await sup.spawn(
        "temporal",
        temporal_server.server_command(
            host=TEMPORAL_HOST,
            port=config.temporal_port,
            ui_port=config.temporal_ui_port,
            db_file=config.data_dir / "temporal.db",
            namespace=config.temporal_namespace,
        ),
        env={**temporal_server.GO_RUNTIME_ENV, **env},
        cwd=ROOT,
        quiet_when_stopping=True,
    )

    if pg is not None:
        ready = [python, "-m", "devstack.postgres", "ready", "--host", PG_HOST]
        ready += ["--port", str(config.pg_port), "--database", DATABASE, "--timeout", "60"]
        if await sup.run_once("postgres", ready, env=env, cwd=ROOT) != 0:
            raise StartupError("PostgreSQL did not start; see the postgres lines")

    code = await sup.run_once("migrate", [python, "manage.py", "migrate"], env=env, cwd=ROOT)
    if code != 0:
        raise StartupError(f"the migrations failed (exit code {code}); see the migrate lines")
    seed_env = child_env(config, seed=True)
    code = await sup.run_once("seed", [python, "-m", "devstack", "seed"], env=seed_env, cwd=ROOT)
    if code != 0:
        raise StartupError(f"the seed failed (exit code {code}); see the seed lines")

    # Before the API starts, so its first answer at /admin is the current build.
    for web_app in web_apps.APPS:
        await web_apps.prepare(sup, app=web_app, env=env)

    await wait_temporal(sup, config, temporal.proc)
    await register_search_attributes(sup, config)

    for name, argv in app_processes(python, config):
        await sup.spawn(name, argv, env=env, cwd=ROOT)

    if await wait_api(sup, config):
        banner(sup.printer, config)


# How uvicorn serves the API, here as in production (Dockerfile, docker-compose.yml): the app
# itself decides who the client is (TRUSTED_PROXIES, api.security), never uvicorn's own trust of
# X-Forwarded-For from 127.0.0.1; an idle keep-alive connection is closed after 5 s.
UVICORN_FLAGS = ("--no-proxy-headers", "--timeout-keep-alive", "5")


def app_processes(python: str, config: StackConfig) -> list[tuple[str, list[str]]]:
    """(name, argv) of the long-running processes of our own, in the order they start: the
    workers (`config.workers` of them, all on the same task queue), then the API."""
    workers = [(name, [python, "worker.py"]) for name in config.worker_names]
    return [*workers, ("api", api_command(python, config))]


def api_command(python: str, config: StackConfig) -> list[str]:
    """The API process's argv."""
    served = ["--host", config.api_host, "--port", str(config.api_port)]
    return [python, "-m", "uvicorn", "--factory", "api.main:app", *UVICORN_FLAGS, *served]


async def wait_temporal(
    sup: Supervisor, config: StackConfig, proc: asyncio.subprocess.Process
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT_S
    argv = temporal_server.health_command(config.temporal_address)
    while True:
        if proc.returncode is not None:
            raise StartupError(f"the Temporal server exited (exit code {proc.returncode})")
        if await sup.run_once("temporal", argv, env=os.environ, quiet=True) == 0:
            return
        if loop.time() > deadline:
            raise StartupError(f"Temporal did not answer at {config.temporal_address}")
        await sup.until_stopped(asyncio.sleep(0.2))


async def register_search_attributes(sup: Supervisor, config: StackConfig) -> None:
    """Register the attributes the dev server lacks: its `--search-attribute` flags only apply
    when it creates its database, so one added to the code later is missing on an old `.data`."""
    address, namespace = config.temporal_address, config.temporal_namespace
    code, output = await sup.capture(
        "temporal", temporal_server.list_attributes_command(address, namespace), env=os.environ
    )
    if code != 0:
        raise StartupError(f"listing the search attributes failed: {output.strip()}")
    have = temporal_server.custom_attributes(output)
    missing = [attribute for attribute in ATTRIBUTES if attribute[0] not in have]
    for attribute in missing:
        argv = temporal_server.create_attribute_command(address, namespace, attribute)
        code, output = await sup.capture("temporal", argv, env=os.environ)
        if code != 0:
            raise StartupError(f"registering search attributes failed: {output.strip()}")
    if missing:
        names = ", ".join(name for name, _kind in missing)
        sup.printer.system(f"registered search attributes on the existing server: {names}")


async def wait_api(sup: Supervisor, config: StackConfig) -> bool:
    """True once /readyz says ready; False (with the reason printed) when it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT_S
    url = f"{config.api_url}/readyz"
    last = "no answer"
    while loop.time() < deadline:
        status, last = await sup.until_stopped(asyncio.to_thread(_get, url))
        if status == 200:
            return True
        await sup.until_stopped(asyncio.sleep(0.3))
    sup.printer.system(f"the API is running but not ready after {STARTUP_TIMEOUT_S:.0f} s: {last}")
    return False


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (our own URL)
            return response.status, response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(500).decode("utf-8", "replace")
    except OSError as exc:
        return 0, str(exc)


def banner(printer: Printer, config: StackConfig) -> None:
    api = config.api_url
    parts = "Temporal" if config.external_database_url else "PostgreSQL and Temporal"
    default_dir = config.data_dir == ROOT / ".data"
    reset = "`make clean-data` starts over" if default_dir else "delete it to start over"
    data = f"{config.data_dir} ({parts}; {reset})"
    for line in (
        "-" * 72,
        "HomePlans is running. Ctrl-C stops everything.",
        f"  API           {api}   (docs: {api}/docs)",
        f"  Admin panel   {api}/admin/",
        f"  readiness     {api}/readyz",
        f"  Temporal UI   http://{TEMPORAL_HOST}:{config.temporal_ui_port}",
        f"  Temporal      {config.temporal_address} (namespace {config.temporal_namespace})",
        f"  DATABASE_URL  {shown_url(config.database_url)}",
        f"  data          {data}",
        "-" * 72,
    ):
        printer.system(line)


async def supervise(config: StackConfig, printer: Printer) -> int:
    sup = Supervisor(printer)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        name = "Ctrl-C" if sig == signal.SIGINT else signal.Signals(sig).name
        loop.add_signal_handler(sig, sup.request_stop, f"{name} received; stopping")

    starting = asyncio.create_task(start(sup, config))
    stop = asyncio.create_task(sup.stop_requested.wait())
    await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
    if starting.done() and not starting.cancelled():
        exc = starting.exception()
        if isinstance(exc, StartupError):
            sup.fail(str(exc))
        elif exc is not None and not isinstance(exc, Stopping):
            traceback.print_exception(exc)
            sup.fail(f"starting failed: {exc!r}")
    await sup.stop_requested.wait()
    if not starting.done():
        starting.cancel()
        try:
            await starting
        except (asyncio.CancelledError, Stopping, StartupError):
            pass
        except Exception as exc:  # a step that failed while being stopped: stopping anyway
            printer.system(f"while stopping: {exc!r}")
    if sup.failure:
        printer.system(f"{sup.failure}; stopping the others")
    await sup.stop_all(config.stop_order)
    if sup.failure:
        print(f"make run: {sup.failure}; stopped everything else", file=sys.stderr)
        return 1
    printer.system("stopped")
    return 0


def main(*, workers: int = 1) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        print(f"make run: WORKERS={workers} is not 1 to {MAX_WORKERS}", file=sys.stderr)
        return 2
    try:
        config = StackConfig.from_env(os.environ, workers=workers)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    problem = preflight(config)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return asyncio.run(supervise(config, Printer(sys.stdout)))
