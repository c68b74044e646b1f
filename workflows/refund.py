"""RefundWorkflow: one refund through the provider, recorded in the ledger, exactly once.

The refund row is created by the API (amount checked against what is refundable); this workflow
sends it to the provider with the key `refund:{id}` and records the result.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.refunds import RefundActivities
    from domain.contracts import FLOW_STATUS, RefundInput


@workflow.defn
class RefundWorkflow:
    @workflow.run
    async def run(self, inp: RefundInput) -> str:
        status = await workflow.execute_activity_method(
            RefundActivities.issue_refund,
            inp,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=2),
                maximum_interval=timedelta(minutes=5),
                non_retryable_error_types=["ProviderDeclined"],
            ),
        )
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(f"refund_{status}")])
        return status
