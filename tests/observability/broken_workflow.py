"""A workflow with a bug: its code raises, so each of its workflow tasks fails and Temporal
retries the task (the run stays open, stuck): what `temporal_workflow_task_execution_failed`
counts and the HomeplansWorkflowTaskFailures alert is for."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class BrokenWorkflow:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in the workflow's code")
