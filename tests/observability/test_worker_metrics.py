"""The worker's metrics endpoint (WORKER_METRICS_ADDRESS), as Prometheus scrapes it from a real
worker on a real Temporal dev server: the SDK's own `temporal_*` series, how activities ended, and
the business counters, after a real purchase and a visit asked for through the API. Then the alert
rules and the Grafana dashboard are read: every series they name must be one the API or the worker
exposes, so neither can drift from the code."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.metrics import (
    ACTIVITY_OUTCOMES,
    BUSINESS,
    NOTIFICATIONS,
    PURCHASES,
    SERVICE_REQUEST_EVENTS,
)
from core.settings import Settings
from core.worker_metrics import metrics_runtime
from tests.conftest import free_port
from tests.observability.broken_workflow import BrokenWorkflow
from tests.observability.exposition import names, value
from tests.support.request_helpers import asked, shop
from tests.support.waiting import eventually
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "homeplans.json"
# A series name in a PromQL expression: ours, the SDK's, the client library's process series.
WORKFLOWS_COMPLETED = "temporal_workflow_completed"  # the SDK's
SERIES = re.compile(r"\b((?:homeplans|temporal|process|python)_[a-zA-Z0-9_]+)")


@asynccontextmanager
async def worker_with_metrics(
    env: WorkflowEnvironment, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Client, str]]:
    """The worker as worker.py runs it with WORKER_METRICS_ADDRESS set: a client on a runtime of
    its own that serves the metrics (on a free port here); (that client, the metrics URL)."""
    address = f"127.0.0.1:{free_port()}"
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
        runtime=metrics_runtime(address),
    )
    async with build_worker(client, settings, sessions=sessions):
        yield client, f"http://{address}/metrics"


async def scrape(url: str) -> str:
    async with httpx.AsyncClient() as http:
        answer = await http.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def exprs_of_alerts() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def exprs_of_dashboard() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    found: list[str] = []
    for panel in dashboard["panels"]:
        for sub in [panel, *panel.get("panels", [])]:
            found.extend(target["expr"] for target in sub.get("targets", []) if "expr" in target)
    return found


async def test_worker_metrics_after_a_purchase_and_a_broken_workflow(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    async with worker_with_metrics(temporal_env, settings, sessions) as (client, metrics_url):
        # From its start, before any work: every business series at 0.
        fresh = await scrape(metrics_url)
        for counter in (ACTIVITY_OUTCOMES, *BUSINESS):
            assert counter.name in names(fresh), counter.name
        assert value(fresh, PURCHASES.name, outcome="paid") == 0

        app = create_app(settings, temporal=client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as api:
                # A real purchase (approved on the sandbox page), then a visit asked for.
                bought = await shop(api, db)
                await asked(api, bought)
                api_text = (await api.get("http://test/metrics")).text

                def settled(text: str) -> bool:
                    """The purchase counted paid, its settlement step completed, its workflow
                    closed (a moment after the order reads completed); the visit opened."""
                    return (
                        value(
                            text,
                            PURCHASES.name,
                            outcome="paid",
                            workflow_type="CheckoutWorkflow",
                            task_queue=settings.temporal_task_queue,
                        )
                        == 1
                        and value(
                            text,
                            ACTIVITY_OUTCOMES.name,
                            activity_type="settle_order",
                            outcome="completed",
                        )
                        == 1
                        and value(text, WORKFLOWS_COMPLETED, workflow_type="CheckoutWorkflow") >= 1
                        and value(text, SERVICE_REQUEST_EVENTS.name, event="opened") == 1
                    )

                after = await eventually(
                    lambda: scrape(metrics_url), settled, "the purchase on the worker's metrics"
                )

        # The receipt, by email, from the outbox provider.
        assert value(after, NOTIFICATIONS.name, channel="email", topic="orders") >= 1
        # The SDK's own series, in seconds.
        for series in (
            "temporal_workflow_completed",
            "temporal_workflow_task_schedule_to_start_latency_bucket",
            "temporal_activity_execution_latency_bucket",
            "temporal_worker_task_slots_available",
        ):
            assert series in names(after), series

        # A workflow whose code raises: its task fails and is retried, the run stays open.
        queue = f"broken-{uuid.uuid4().hex[:8]}"
        async with Worker(client, task_queue=queue, workflows=[BrokenWorkflow]):
            handle = await client.start_workflow(
                BrokenWorkflow.run, id=f"broken-{uuid.uuid4()}", task_queue=queue
            )
            try:
                broken = await eventually(
                    lambda: scrape(metrics_url),
                    lambda text: (
                        value(
                            text,
                            "temporal_workflow_task_execution_failed",
                            workflow_type="BrokenWorkflow",
                        )
                        >= 1
                    ),
                    "the broken workflow's failed task on the worker's metrics",
                )
            finally:
                await handle.terminate("test over")

    # Every series the alerts and the dashboard read is one the API or the worker exposes.
    exposed = names(api_text) | names(broken)
    read = {"alerts.yml": exprs_of_alerts(), "homeplans.json": exprs_of_dashboard()}
    for source, exprs in read.items():
        named = {name for expr in exprs for name in SERIES.findall(expr)}
        assert named, f"{source} names no series"
        missing = sorted(named - exposed)
        assert not missing, f"{source} reads series nobody exposes: {missing}"


@pytest.mark.parametrize("path", [ALERTS, DASHBOARD])
def test_alerts_and_dashboard_files_are_well_formed(path: Path) -> None:
    if path.suffix == ".json":
        dashboard: dict[str, Any] = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["title"]
        assert exprs_of_dashboard()
        return
    for group in yaml.safe_load(path.read_text())["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "for", "labels", "annotations"} <= set(rule), rule
            assert rule["labels"]["severity"] in {"page", "ticket"}, rule
            assert {"summary", "description"} <= set(rule["annotations"]), rule
