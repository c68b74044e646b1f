"""homeplans_activity_outcomes_total counts how each activity attempt ended, as an operator reads
it: an attempt that Temporal will try again is `retrying`, the one it gives up after is `failed`
(a non-retryable error, or the policy's last attempt), and a success is `completed`."""

from __future__ import annotations

import uuid

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.metrics import ACTIVITY_OUTCOMES
from core.worker_metrics import ActivityOutcomes, metrics_runtime
from tests.conftest import free_port
from tests.observability.exposition import value
from tests.observability.outcome_workflows import OutcomesWorkflow, broken, flaky, refused


async def test_each_attempt_is_counted_by_how_it_ended(temporal_env: WorkflowEnvironment) -> None:
    address = f"127.0.0.1:{free_port()}"
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace=temporal_env.client.namespace,
        runtime=metrics_runtime(address),
    )
    queue = f"outcomes-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[OutcomesWorkflow],
        activities=[flaky, refused, broken],
        interceptors=[ActivityOutcomes()],
    ):
        ended = await client.execute_workflow(
            OutcomesWorkflow.run, id=f"outcomes-{uuid.uuid4()}", task_queue=queue
        )
        assert ended == ["ok", "failed", "failed"]
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{address}/metrics", timeout=10)).text

    def attempts(activity_type: str, outcome: str) -> float:
        labels = {"activity_type": activity_type, "outcome": outcome, "task_queue": queue}
        return value(text, ACTIVITY_OUTCOMES.name, **labels)

    assert (attempts("flaky", "retrying"), attempts("flaky", "completed")) == (1, 1)
    assert (attempts("refused", "retrying"), attempts("refused", "failed")) == (0, 1)
    assert (attempts("broken", "retrying"), attempts("broken", "failed")) == (2, 1)
