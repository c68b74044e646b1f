"""The worker's two sandboxes (workflows/registry.py). STRICT, which the tests and the replay test
run, refuses what would make a workflow non-deterministic when workflow code calls it (the wall
clock, a random number), failing the run that asks; SHARED, which the worker runs by default for
speed, imports modules once and does not guard what they import, which is why the tests run
STRICT. Workflow time is fine under both."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from core.settings import Settings
from workflows.registry import SHARED, STRICT


@workflow.defn
class AsksTheWallClock:
    @workflow.run
    async def run(self) -> str:
        return dt.datetime.now().isoformat()


@workflow.defn
class AsksForRandom:
    @workflow.run
    async def run(self) -> str:
        return str(random.random())


@workflow.defn
class AsksWorkflowTime:
    @workflow.run
    async def run(self) -> str:
        return workflow.now().isoformat()


def _worker(temporal: Client, queue: str, runner: object) -> Worker:
    return Worker(
        temporal,
        task_queue=queue,
        workflows=[AsksTheWallClock, AsksForRandom, AsksWorkflowTime],
        workflow_runner=runner,  # type: ignore[arg-type]
        # A refused call fails the run (by default it fails the task, retried for ever).
        workflow_failure_exception_types=[Exception],
    )


@pytest.mark.parametrize("refused", [AsksTheWallClock, AsksForRandom])
async def test_the_strict_sandbox_fails_a_non_deterministic_call(
    temporal: Client, refused: type
) -> None:
    queue = f"strict-{uuid.uuid4()}"
    async with _worker(temporal, queue, STRICT):
        fine = await temporal.execute_workflow(
            AsksWorkflowTime.run, id=f"fine-{uuid.uuid4()}", task_queue=queue
        )
        assert dt.datetime.fromisoformat(fine)
        with pytest.raises(WorkflowFailureError) as failed:
            await temporal.execute_workflow(
                refused.run,  # type: ignore[attr-defined]
                id=f"refused-{uuid.uuid4()}",
                task_queue=queue,
            )
    assert "RestrictedWorkflowAccessError" in repr(failed.value.cause)


async def test_the_shared_sandbox_runs_the_same_workflows_unguarded(temporal: Client) -> None:
    """What the tests guard against is not guarded in production: hence strict in the tests."""
    queue = f"shared-{uuid.uuid4()}"
    async with _worker(temporal, queue, SHARED):
        for which in (AsksWorkflowTime, AsksTheWallClock):
            answer = await temporal.execute_workflow(
                which.run,
                id=f"shared-{uuid.uuid4()}",
                task_queue=queue,
            )
            assert dt.datetime.fromisoformat(answer)


def test_the_tests_run_the_strict_sandbox(settings: Settings) -> None:
    assert settings.worker_sandbox == "strict"
    assert Settings(_env_file=None).worker_sandbox == "shared"  # the worker's default
