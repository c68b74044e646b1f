"""A worker as a process of its own (`python worker.py`), for tests that kill one: started in a
session (process group) of its own, killed with SIGKILL (no cleanup code runs, nothing is said to
Temporal), and nothing of it may outlive the test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
from pydantic import SecretStr
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from tests.conftest import ROOT
from tests.support.waiting import eventually

PROCESS_EXIT_S = 10.0
WAIT_S = 60.0  # a bound for slow machines, never an expectation
UNSPECIFIED = (
    UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED
)
ADMITTED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED


def worker_environment(settings: Settings, temporal: Client) -> dict[str, str]:
    """What `python worker.py` reads: every one of the test's settings, and the Temporal server
    of `temporal`. Settings inherited from the caller's environment are dropped, so none of them
    leaks in."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {name: value for name, value in os.environ.items() if name.upper() not in ours}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = json.dumps(value) if isinstance(value, list) else str(value)
    env.update(
        TEMPORAL_ADDRESS=temporal.service_client.config.target_host,
        TEMPORAL_NAMESPACE=temporal.namespace,
        PYTHONUNBUFFERED="1",
    )
    return env


class WorkerProcess:
    """`python worker.py` in a session (process group) of its own, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            # cwd: a directory without a `.env`, so the environment above is all it reads.
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                cwd=log.parent,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.proc.pid  # also the id of its process group

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> int:
        """SIGKILL to the whole process group; the exit status once it is gone."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        return self.proc.wait(timeout=PROCESS_EXIT_S)

    def output(self) -> str:
        text = self.log.read_text(errors="replace")
        return f"--- {self.log.name} (pid {self.pid}) ---\n{text[-4000:]}"


def survivors(workers: list[WorkerProcess], task_queue: str) -> list[str]:
    """Processes left behind: anything in the workers' process groups, or any process at all
    that runs worker.py on this test's task queue."""
    left: list[str] = []
    for worker in workers:
        try:
            os.killpg(worker.pid, 0)
        except ProcessLookupError:
            continue
        left.append(f"process group {worker.pid}")
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if not any(part.endswith("worker.py") for part in cmdline):
                continue
            if proc.environ().get("TEMPORAL_TASK_QUEUE") == task_queue:
                left.append(f"pid {proc.pid}: {' '.join(cmdline)}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return left


async def until_timer_fired(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the workflow's history holds a timer fired that no workflow task has run yet (no
    worker is alive to run it: the tests that stage a race with it start one afterwards)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        events = (await handle.fetch_history()).events
        fired = [i for i, e in enumerate(events) if e.HasField("timer_fired_event_attributes")]
        done = [
            i
            for i, e in enumerate(events)
            if e.HasField("workflow_task_completed_event_attributes")
        ]
        if fired and (not done or fired[-1] > done[-1]):
            return
        assert loop.time() < deadline, "the timer never fired"
        await asyncio.sleep(0.05)


async def until_update_admitted(
    client: Client, handle: WorkflowHandle[Any, Any], update_id: str
) -> None:
    """Until the server holds the update `update_id` sent to the workflow (admitted: it waits
    there for the worker that takes the workflow's next task, which then runs both)."""
    request = PollWorkflowExecutionUpdateRequest(
        namespace=client.namespace,
        update_ref=UpdateRef(
            workflow_execution=WorkflowExecution(workflow_id=handle.id), update_id=update_id
        ),
        identity=client.identity,
        wait_policy=WaitPolicy(lifecycle_stage=ADMITTED),
    )

    async def stage() -> int:
        try:
            answer = await client.workflow_service.poll_workflow_execution_update(request)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # not there yet
                raise
            return UNSPECIFIED
        return int(answer.stage)

    await eventually(stage, lambda reached: reached >= ADMITTED, f"update {update_id} admitted")
