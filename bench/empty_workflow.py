"""The engine's limit for the checkout bench: a workflow that does nothing.

Kept in a module of its own with nothing but temporalio imported: the worker's sandbox re-imports
a workflow's module for every run, so a bigger module would add its own import to the figure.
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchEmptyWorkflow")
class EmptyWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None
