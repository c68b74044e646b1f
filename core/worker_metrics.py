"""The worker's metrics: the Temporal SDK's runtime serves them in Prometheus format on
WORKER_METRICS_ADDRESS (its own `temporal_*` series, and whatever the workflows and activities
count through its meter: `core.metrics`), and an interceptor counts how every activity attempt ends.

Off (no runtime of our own, no port) while WORKER_METRICS_ADDRESS is empty: development and tests,
unless they set it. Series names and what to do about them: docs/operations.md#metrics.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from core.metrics import ACTIVITY_OUTCOMES, BUSINESS, BusinessCounter


def metrics_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime that serves its metrics at http://{bind_address}/metrics (durations in
    seconds, as Prometheus expects), with every business series at 0."""
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=bind_address, durations_as_seconds=True)
        )
    )
    zero_business_series(runtime.metric_meter)
    return runtime


def install_metrics_runtime(bind_address: str) -> Runtime | None:
    """Make `metrics_runtime(bind_address)` the process's default runtime, which the clients
    connected afterwards use; nothing when `bind_address` is empty. Call before connecting."""
    if not bind_address:
        return None
    runtime = metrics_runtime(bind_address)
    Runtime.set_default(runtime, error_if_already_set=True)
    return runtime


def zero_business_series(meter: MetricMeter) -> None:
    """Every value of every business counter (and of the activity outcomes) at 0."""
    for counter in (ACTIVITY_OUTCOMES, *BUSINESS):
        instrument = meter.create_counter(counter.name, counter.help)
        for labels in label_sets(counter):
            instrument.add(0, labels)


def label_sets(counter: BusinessCounter) -> list[dict[str, str]]:
    names = list(counter.labels)
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(counter.labels[name] for name in names))
    ]


class ActivityOutcomes(Interceptor):
    """Counts each activity attempt (local ones too) by type and outcome in
    homeplans_activity_outcomes_total: completed, failed (no retry follows: a non-retryable
    error, or the policy's last attempt), retrying, or cancelled."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountOutcomes(next)


class _CountOutcomes(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            result = await self.next.execute_activity(input)
        except (asyncio.CancelledError, TemporalCancelledError):
            _record("cancelled")
            raise
        except BaseException as err:
            _record("failed" if _last_attempt(err) else "retrying")
            raise
        _record("completed")
        return result


def _record(outcome: str) -> None:
    # The activity's meter labels it with namespace, task_queue and activity_type.
    activity.metric_meter().create_counter(ACTIVITY_OUTCOMES.name, ACTIVITY_OUTCOMES.help).add(
        1, {"outcome": outcome}
    )


def _last_attempt(err: BaseException) -> bool:
    """Whether Temporal gives up on the activity after this failure."""
    if isinstance(err, ApplicationError) and err.non_retryable:
        return True
    info = activity.info()
    policy = info.retry_policy
    if policy is None:
        return False
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return True
    kind = err.type if isinstance(err, ApplicationError) and err.type else type(err).__name__
    return kind in (policy.non_retryable_error_types or ())
