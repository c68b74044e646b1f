"""A stop (SIGTERM, what Docker sends first) loses no work in flight, with real processes:

- the API as docker-compose.yml runs it (its uvicorn command, `--timeout-graceful-shutdown`
  included) answers, in full, a request that was in flight when the signal came, and then exits
  by itself;
- the worker (`python worker.py`) lets the activity it is running finish: the workflow's history
  shows the activity completed on its first attempt (not cancelled, not retried), and the process
  exits 0.

(That a stopping API ends its live streams at once is tested with the streams:
tests/admin/test_dashboard_stream.py, tests/service_requests/test_request_events.py.)

Each wait is for a state, bounded by a deadline that is never expected to be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.security import Passwords
from core.settings import Settings
from devstack.admin import create_admin
from domain.contracts import Channel, VerificationPurpose, verification_workflow_id
from tests.conftest import PASSWORD, ROOT, free_port, make_settings, register
from tests.support.fake_sendgrid import SEND_PATH, FakeSendGrid
from tests.support.sse import api_environment
from tests.support.waiting import eventually
from tests.support.worker_process import WorkerProcess, survivors, worker_environment
from worker import build_worker

WAIT_S = 60.0  # a bound for slow machines, never an expectation
ANSWER_HEAD_END = b"\r\n\r\n"


# --- the API --------------------------------------------------------------------------------------


def compose_api_argv(port: int) -> list[str]:
    """The api service's command in docker-compose.yml, on a local port."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    argv = [str(part) for part in services["api"]["command"]]
    assert argv[0] == "uvicorn", argv
    argv[argv.index("--host") + 1] = "127.0.0.1"
    argv[argv.index("--port") + 1] = str(port)
    return [sys.executable, "-m", *argv]


@contextlib.contextmanager
def api_process(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            compose_api_argv(port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the API exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the API was not ready:\n{log.read_text()}"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=WAIT_S)


async def until_refused(port: int) -> None:
    """Until the port takes no more connections: the server has begun to stop."""

    async def accepts() -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    await eventually(accepts, lambda accepted: not accepted, f"port {port} closed")


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body (by its Content-Length) of one HTTP/1.1 answer."""
    head = await reader.readuntil(ANSWER_HEAD_END)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


async def test_a_stopping_api_answers_the_request_in_flight_in_full(
    db: AsyncSession,
    settings: Settings,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    email = "stopping-api@example.com"
    await create_admin(db, Passwords(settings), email=email, password=PASSWORD, name=None)
    await db.commit()
    port = free_port()
    log = tmp_path / "api.log"
    body = json.dumps({"identifier": email, "password": PASSWORD}).encode()
    with api_process(api_environment(database_url, temporal_env), port, log) as proc:
        async with asyncio.timeout(WAIT_S):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            # A sign-in whose body is held back: with Expect: 100-continue the server says when
            # the app has begun to read it, so the request is surely in flight in the app.
            writer.write(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            await writer.drain()
            interim = await reader.readuntil(ANSWER_HEAD_END)
            assert interim.startswith(b"HTTP/1.1 100"), interim

            proc.send_signal(signal.SIGTERM)
            await until_refused(port)  # stopping now: no new connections

            writer.write(body)
            await writer.drain()
            status, headers, answer = await read_answer(reader)
            writer.close()
        assert status == 200, answer
        assert headers["content-type"] == "application/json", headers
        tokens = json.loads(answer)
        assert tokens["access_token"] and tokens["refresh_token"]

        # Then it exits by itself, its shutdown complete. uvicorn ends by raising again the
        # signal it caught (so its parent sees a process stopped by SIGTERM), or with 0.
        assert proc.wait(timeout=WAIT_S) in (0, -signal.SIGTERM), log.read_text()
    output = log.read_text()
    assert "Application shutdown complete" in output, output
    assert "Traceback" not in output and "Cancel" not in output, output


# --- the worker -----------------------------------------------------------------------------------


class HeldSendGrid(FakeSendGrid):
    """SendGrid that keeps back its answer to a send until `release()`; `arrived` is set once
    one is waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Any:
        if path == SEND_PATH:
            self.arrived.set()
            self._released.wait(timeout=WAIT_S)
        return super().dispatch(method, path, query, headers, body)


@pytest.fixture
async def app(
    settings: Settings, temporal_env: WorkflowEnvironment, db: AsyncSession
) -> AsyncIterator[Any]:
    """The API without conftest's in-process worker: the worker here is a process of its own."""
    application = create_app(settings, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        yield application


async def until_logged(worker: WorkerProcess, text: str) -> None:
    def read() -> str:
        return worker.log.read_text(errors="replace")

    async def logged() -> str:
        assert worker.alive() or text in read(), f"the worker exited:\n{worker.output()}"
        return read()

    await eventually(logged, lambda output: text in output, f"the worker logged {text!r}")


async def test_a_stopping_worker_lets_its_running_activity_finish(
    api: httpx.AsyncClient,
    settings: Settings,
    temporal: Client,
    tmp_path: Path,
) -> None:
    email = "stopping-worker@example.com"
    with HeldSendGrid() as sendgrid:
        with_sendgrid = make_settings(
            database_url=settings.database_url,
            temporal_task_queue=settings.temporal_task_queue,
            **sendgrid.settings(),
        )
        env = worker_environment(with_sendgrid, temporal)
        env["WORKER_GRACEFUL_SHUTDOWN_SECONDS"] = str(WAIT_S)  # a bound, never reached
        worker = WorkerProcess(env, tmp_path / "worker.log")
        registering: asyncio.Task[dict[str, Any]] | None = None
        try:
            await until_logged(worker, "worker polling task queue")
            # Registering sends the verification code: the worker's activity is in SendGrid.
            registering = asyncio.create_task(register(api, email))
            arrived = await asyncio.to_thread(sendgrid.arrived.wait, WAIT_S)
            assert arrived, f"no email reached SendGrid:\n{worker.output()}"

            os.killpg(worker.pid, signal.SIGTERM)
            await until_logged(worker, "stopping: no new tasks")
            sendgrid.release()  # only now does the activity get its answer

            exit_status = await asyncio.to_thread(worker.proc.wait, WAIT_S)
            assert exit_status == 0, worker.output()
            assert "worker stopped" in worker.log.read_text(), worker.output()
        except BaseException:
            if registering is not None:
                registering.cancel()
            raise
        finally:
            sendgrid.release()
            if worker.alive():
                worker.kill()
        assert not survivors([worker], settings.temporal_task_queue)

        # Another worker takes the workflow on; the sign-up's answer waited for the code sent.
        async with build_worker(temporal, with_sendgrid):
            registered = await asyncio.wait_for(registering, WAIT_S)
        assert len(sendgrid.requests_to("POST", SEND_PATH)) == 1

    user_id = uuid.UUID(registered["user"]["id"])
    workflow_id = verification_workflow_id(VerificationPurpose.verify, user_id, Channel.email)
    events = (await temporal.get_workflow_handle(workflow_id).fetch_history()).events
    started = [
        e.activity_task_started_event_attributes
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    completed = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    troubled = [
        EventType.Name(e.event_type)
        for e in events
        if e.event_type
        in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        )
    ]
    assert [s.attempt for s in started] == [1], started
    assert len(completed) == 1 and not troubled, [EventType.Name(e.event_type) for e in events]
