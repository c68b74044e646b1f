"""A workflow whose activities end each way an activity attempt can: for the activity outcome
counter's test (test_activity_outcomes.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

QUICK = RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_attempts=3)


@activity.defn
async def flaky() -> str:
    """Fails its first attempt, then completes."""
    if activity.info().attempt == 1:
        raise RuntimeError("a passing failure")
    return "ok"


@activity.defn
async def refused() -> None:
    """A business refusal: never retried."""
    raise ApplicationError("no", type="Refused", non_retryable=True)


@activity.defn
async def broken() -> None:
    """Fails every attempt: retried until the policy's last."""
    raise RuntimeError("down")


@workflow.defn
class OutcomesWorkflow:
    @workflow.run
    async def run(self) -> list[str]:
        ended = [
            await workflow.execute_activity(
                flaky, start_to_close_timeout=timedelta(seconds=10), retry_policy=QUICK
            )
        ]
        for each in (refused, broken):
            try:
                await workflow.execute_activity(
                    each, start_to_close_timeout=timedelta(seconds=10), retry_policy=QUICK
                )
            except ActivityError:
                ended.append("failed")
        return ended
