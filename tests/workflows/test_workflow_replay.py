"""Recorded workflow histories replay on today's workflow code.

A change that would make a running workflow take a different path on replay (a non-determinism
error in production) fails here before it is deployed. Record new histories with
`.venv/bin/python -m tests.workflows.record_histories` after a deliberate, patched change; keep
the old ones.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.temporal_context import ContextPropagator
from workflows.registry import STRICT, WORKFLOWS

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def test_there_are_histories_of_every_workflow_that_has_run() -> None:
    recorded = {p.stem.split("_")[0] for p in HISTORIES.glob("*.json")}
    assert {"account", "campaign", "checkout", "subscription", "service", "daily"} <= recorded


@pytest.mark.parametrize("history_file", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_histories_replay_on_todays_code(history_file: Path) -> None:
    history = WorkflowHistory.from_json(
        "recorded", json.loads(await asyncio.to_thread(history_file.read_text))
    )

    # With the interceptors every worker runs (core.temporal.connect): they may change headers,
    # never the commands a workflow issues.
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=STRICT,
        interceptors=[ContextPropagator()],
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


def test_the_subscription_workflow_is_started_by_the_names_the_activities_use() -> None:
    """activities/subscriptions.py starts and signals the workflow by name (activities never import
    workflows/): the names must be the workflow's own."""
    from temporalio.workflow import _Definition

    from domain.subscriptions.contracts import RENEWAL_PAID_SIGNAL, SUBSCRIPTION_WORKFLOW
    from workflows.subscription import SubscriptionWorkflow

    definition = _Definition.must_from_class(SubscriptionWorkflow)
    assert definition.name == SUBSCRIPTION_WORKFLOW
    assert RENEWAL_PAID_SIGNAL in definition.signals


def test_the_visit_ledger_is_called_by_the_names_the_service_request_activities_use() -> None:
    from temporalio.workflow import _Definition

    from domain.service_requests.contracts import CONSUME_VISIT, RELEASE_VISIT, RESERVE_VISIT
    from workflows.subscription import SubscriptionWorkflow

    updates = _Definition.must_from_class(SubscriptionWorkflow).updates
    assert {RESERVE_VISIT, CONSUME_VISIT, RELEASE_VISIT} <= set(updates)
