"""A real API process (`uvicorn --factory api.main:app`) and a reader of its server-sent events,
as an EventSource reads them: for the live-status tests of service requests and of the dashboard."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from tests.conftest import ROOT, TEST_OTP_SECRET, TEST_SECRET

WAIT_S = 30.0  # a bound for slow machines, never an expectation
READY_TIMEOUT_S = 60.0


# --- a real API process ---------------------------------------------------------------------------


class ApiProcess:
    """`uvicorn --factory api.main:app` on `port`, in a process group of its own."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "uvicorn", "--factory", "api.main:app"]
        argv += ["--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the API exited ({self.proc.returncode}):\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(f"{self.base_url}/readyz", timeout=2)
                # Ready, and its listener connected: announcements reach the streams from now on.
                if ready.status_code == 200 and ready.json()["info"]["request_streams"] == (
                    "notified"
                ):
                    return
            time.sleep(0.1)
        pytest.fail(f"the API was not ready within {READY_TIMEOUT_S:.0f} s")

    def kill(self) -> None:
        """SIGKILL: no cleanup code runs, the open streams are cut."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=WAIT_S)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.kill()


def api_environment(database_url: str, temporal_env: WorkflowEnvironment) -> dict[str, str]:
    ours = {name.upper() for name in Settings.model_fields}
    env = {name: value for name, value in os.environ.items() if name.upper() not in ours}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_TASK_QUEUE=f"streams-{uuid.uuid4().hex[:12]}",
        JWT_SECRET=TEST_SECRET,
        OTP_SECRET=TEST_OTP_SECRET,
        PYTHONUNBUFFERED="1",
    )
    return env


# --- reading a stream -----------------------------------------------------------------------------


@dataclass
class Event:
    name: str | None
    id: str | None
    data: Any
    retry: str | None
    comment: str | None


class Stream:
    """The events of one text/event-stream response, as an EventSource parses them."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self) -> Event | None:
        """The next event (or lone retry or comment), or None once the server ended the stream."""
        async with asyncio.timeout(WAIT_S):
            return await self._read()

    async def next_event(self) -> Event | None:
        """The next event with a name (skipping keep-alive comments), or None at the end."""
        async with asyncio.timeout(WAIT_S):  # over all of them: keep-alives come forever
            while True:
                event = await self._read()
                if event is None or event.name is not None:
                    return event

    async def _read(self) -> Event | None:
        fields: dict[str, str] = {}
        try:
            async for line in self._lines:
                if line == "":
                    if fields:
                        return Event(
                            name=fields.get("event"),
                            id=fields.get("id"),
                            data=json.loads(fields["data"]) if "data" in fields else None,
                            retry=fields.get("retry"),
                            comment=fields.get(""),
                        )
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        except (httpx.RemoteProtocolError, httpx.ReadError):
            pass  # the server went away mid-stream
        return None


def events_url(request_id: uuid.UUID) -> str:
    return f"/api/v1/service-requests/{request_id}/events"


@contextlib.asynccontextmanager
async def follow(
    server: ApiProcess,
    request_id: uuid.UUID,
    headers: dict[str, str],
    *,
    last_event_id: int | None = None,
) -> AsyncIterator[Stream]:
    if last_event_id is not None:
        headers = {**headers, "Last-Event-ID": str(last_event_id)}
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=WAIT_S) as client,
        client.stream("GET", events_url(request_id), headers=headers) as response,
    ):
        yield Stream(response)


async def opened(stream: Stream) -> Event:
    """The `state` event that opens a fresh stream, after its retry line."""
    assert stream.response.status_code == 200, await stream.response.aread()
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    retry = await stream.next()
    assert retry is not None and retry.retry == "3000"
    state = await stream.next()
    assert state is not None and state.name == "state", state
    return state
