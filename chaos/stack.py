"""The stack as production runs it, on one machine: PostgreSQL (embedded) and the Temporal server
with its state on disk, 2 API processes (uvicorn) and 2 workers (worker.py), each worker reaching
PostgreSQL and Temporal through a TCP proxy of its own (chaos.proxy). Every API process and worker
is restarted when it dies, as a process manager would; PostgreSQL and Temporal are restarted by
the fault that stopped them. Built from devstack's parts (devstack.run, devstack.supervisor), its
output in log files under the run's data dir, not on the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chaos.proxy import Proxy
from devstack import postgres, temporal_server
from devstack.run import (
    DATABASE,
    PG_HOST,
    STOP_ORDER,
    StackConfig,
    child_env,
    register_search_attributes,
    wait_temporal,
)
from devstack.supervisor import Child, Printer, StartupError, Supervisor

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "chaos-admin@example.com"
ADMIN_PASSWORD = secrets.token_urlsafe(18)  # this run's stack only
RESTART_DELAY_S = 1.0  # what a process manager waits before starting a dead process again


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Settings:
    """What the run sets in the children's environment (development only: see core.settings)."""

    day_seconds: int = 3
    reconcile_seconds: int = 5
    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "ENVIRONMENT": "development",
            "SUBSCRIPTION_DAY_SECONDS": str(self.day_seconds),
            "CHECKOUT_RECONCILE_SECONDS": str(self.reconcile_seconds),
            "CHECKOUT_TIMEOUT_SECONDS": "120",
            # Every customer signs up from the harness's one address.
            "SIGNUPS_PER_IP": "1000000",
            "CODES_PER_IP": "1000000",
            "AUTH_MAX_FAILURES_PER_IP": "1000000",
            # Visits asked for and done within the run.
            "REQUEST_MIN_NOTICE_MINUTES": "0",
            "JOB_START_EARLY_MINUTES": str(60 * 24 * 60),
            # A campaign that lasts long enough to meet faults.
            "CAMPAIGN_BATCH_SIZE": "100",
            "CAMPAIGN_RATE_PER_SECOND": "60",
            "CAMPAIGN_STARTS_PER_HOUR": "1000",
            "DEFAULT_QUIET_HOURS": "",
            "DATABASE_POOL_SIZE": "8",
            "LOG_LEVEL": "WARNING",
            **self.extra,
        }


class Managed:
    """A long-running child restarted whenever it exits, until the stack stops."""

    def __init__(self, stack: Stack, name: str, argv: Sequence[str], env: dict[str, str]) -> None:
        self.stack, self.name, self.argv, self.env = stack, name, list(argv), env
        self.child: Child | None = None
        self.starts = 0
        self.user: str | None = None
        self.stop_signal = signal.SIGTERM
        self.free = asyncio.Event()  # cleared: not restarted until set again
        self.free.set()
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def started(self) -> None:
        await self._up.wait()

    async def _run(self) -> None:
        sup = self.stack.sup
        while not sup.stop_requested.is_set():
            await self.free.wait()
            if sup.stop_requested.is_set():
                return
            self.child = await sup.spawn(
                self.name,
                self.argv,
                env=self.env,
                cwd=ROOT,
                user=self.user,
                stop_signal=self.stop_signal,
                long_running=False,
            )
            self.starts += 1
            self._up.set()
            await self.child.proc.wait()
            if sup.stop_requested.is_set():
                return
            await asyncio.sleep(RESTART_DELAY_S)

    @property
    def pid(self) -> int | None:
        if self.child is None or self.child.returncode is not None:
            return None
        return self.child.proc.pid

    async def kill(self, sig: int = signal.SIGKILL, *, hold: bool = False) -> bool:
        """Signal the running process (its whole process group) and wait until it is gone; with
        `hold`, it is not restarted until `release()`. False when it was not running."""
        child = self.child
        if child is None or child.returncode is not None:
            return False
        if hold:
            self.free.clear()
        with contextlib.suppress(ProcessLookupError):
            if sig == signal.SIGKILL:
                os.killpg(child.proc.pid, sig)
            else:
                child.proc.send_signal(sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.proc.wait(), timeout=30)
        if child.returncode is None:  # PostgreSQL's immediate shutdown never took this long
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGKILL)
            await child.proc.wait()
        return True

    def release(self) -> None:
        self.free.set()

    async def stopped(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Stack:
    def __init__(self, data_dir: Path, settings: Settings, *, log: Path | None = None) -> None:
        self.data_dir = data_dir
        self.settings = settings
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log or data_dir.parent / f"{data_dir.name}.log", "w")  # noqa: SIM115
        self.sup = Supervisor(Printer(self._log))
        self.config = StackConfig(
            data_dir=data_dir,
            pg_port=free_port(),
            temporal_port=free_port(),
            temporal_ui_port=free_port(),
            api_host="127.0.0.1",
            api_port=free_port(),
            temporal_namespace="default",
            external_database_url=None,
        )
        self.api_ports = [self.config.api_port, free_port()]
        self.postgres: Managed | None = None
        self.temporal: Managed | None = None
        self.apis: list[Managed] = []
        self.workers: list[Managed] = []
        self.proxies: dict[str, Proxy] = {}

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.api_ports]

    @property
    def database_url(self) -> str:
        return self.config.database_url

    def env(self, **overrides: str) -> dict[str, str]:
        env = child_env(self.config)
        env.update(self.settings.env())
        env.update(overrides)
        return env

    async def start(self) -> None:
        config, sup = self.config, self.sup
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True)
        env = self.env(ADMIN_EMAIL=ADMIN_EMAIL, ADMIN_PASSWORD=ADMIN_PASSWORD)

        pgdata = self.data_dir / "postgres"
        user = await asyncio.to_thread(postgres.init_data_dir, pgdata)
        self.postgres = Managed(
            self,
            "postgres",
            postgres.server_command(pgdata, host=PG_HOST, port=config.pg_port),
            env,
        )
        self.postgres.user = user
        self.postgres.stop_signal = signal.SIGINT
        self.postgres.start()
        self.temporal = Managed(
            self,
            "temporal",
            temporal_server.server_command(
                host="127.0.0.1",
                port=config.temporal_port,
                ui_port=config.temporal_ui_port,
                db_file=self.data_dir / "temporal.db",
            ),
            env,
        )
        self.temporal.start()
        await self.postgres.started()
        await asyncio.to_thread(postgres.wait_ready, PG_HOST, config.pg_port, timeout_s=60)
        await asyncio.to_thread(postgres.ensure_database, PG_HOST, config.pg_port, DATABASE)
        python = sys.executable
        if await sup.run_once("migrate", [python, "manage.py", "migrate"], env=env, cwd=ROOT):
            raise StartupError("the migrations failed; see the log")
        if await sup.run_once("seed", [python, "-m", "devstack", "seed"], env=env, cwd=ROOT):
            raise StartupError("the seed failed; see the log")
        await self.temporal.started()
        assert self.temporal.child is not None
        await wait_temporal(sup, config, self.temporal.child.proc)
        await register_search_attributes(sup, config)

        for n in (1, 2):
            pg_proxy = Proxy(f"worker{n}-postgres", free_port(), config.pg_port)
            tp_proxy = Proxy(f"worker{n}-temporal", free_port(), config.temporal_port)
            await pg_proxy.start()
            await tp_proxy.start()
            self.proxies[pg_proxy.name] = pg_proxy
            self.proxies[tp_proxy.name] = tp_proxy
            worker_env = self.env(
                DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{pg_proxy.port}/{DATABASE}",
                TEMPORAL_ADDRESS=f"127.0.0.1:{tp_proxy.port}",
            )
            worker = Managed(self, f"worker{n}", [python, "worker.py"], worker_env)
            worker.start()
            self.workers.append(worker)
        for n, port in enumerate(self.api_ports, start=1):
            argv = [python, "-m", "uvicorn", "--factory", "api.main:app"]
            argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            api = Managed(self, f"api{n}", argv, self.env(API_PORT=str(port)))
            api.start()
            self.apis.append(api)

    async def stop(self) -> None:
        self.sup.request_stop()
        for managed in [self.postgres, self.temporal, *self.apis, *self.workers]:
            if managed is not None:
                managed.free.set()
        await self.sup.stop_all(STOP_ORDER)  # unnamed (the APIs, the workers) go first
        for managed in [*self.apis, *self.workers]:
            await managed.stopped()
        for proxy in self.proxies.values():
            await proxy.close()
        self._log.close()
