"""The request id (and user) carried through Temporal, so a purchase is followed in every log.

`ContextPropagator` is a client interceptor and a worker interceptor at once;
`core.temporal.connect` puts it on every client, and the SDK gives a worker the interceptors of the
client it is built with, so the API, the worker and manage.py all carry it without naming it again.

- Client: a workflow started (with a signal or an update too), signalled or updated carries the
  running task's request id and user id in the `homeplans-context` header. An activity that starts
  another workflow (the subscription a paid checkout starts) passes its own on the same way.
- Workflow (inside the sandbox): the workflow's run, and each signal and update handler (each runs
  in a task of its own), takes the ids from the header that started it, with the workflow's id and
  run id; what it starts (activities, local activities, child workflows, the next run after
  continue-as-new) carries them on. Only headers change: no command is added, removed or
  reordered, so recorded histories replay as before.
- Activity: the ids of the header, with the workflow's id and run id from `activity.info()`, for
  every line the activity writes; and one line of its own at the end of each attempt
  (`homeplans.activity`: the activity, its attempt, its outcome, how long it took).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, NoReturn

import temporalio.activity
import temporalio.client
import temporalio.exceptions
import temporalio.workflow
from temporalio.api.common.v1 import Payload
from temporalio.worker import (
    ActivityInboundInterceptor,
    ContinueAsNewInput,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    StartActivityInput,
    StartChildWorkflowInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from core import request_context
from core.request_context import LogContext

HEADER = "homeplans-context"
_ENCODING = {"encoding": b"json/plain"}
log = logging.getLogger("homeplans.activity")

Headers = Mapping[str, Payload]


def _with_context(headers: Headers) -> Headers:
    """`headers` plus the running task's ids (unchanged when it has none)."""
    context = request_context.current()
    if context is None or (context.request_id is None and context.user_id is None):
        return headers
    carried = {"request_id": context.request_id, "user_id": context.user_id}
    data = json.dumps({key: value for key, value in carried.items() if value is not None})
    return {**headers, HEADER: Payload(metadata=_ENCODING, data=data.encode())}


def _from_headers(headers: Headers) -> LogContext:
    """The ids a header carried; what is missing or not a valid id is left out."""
    context = LogContext()
    payload = headers.get(HEADER)
    if payload is None:
        return context
    try:
        carried = json.loads(payload.data)
    except ValueError:
        return context
    if isinstance(carried, dict):
        context.request_id = request_context.valid_request_id(carried.get("request_id"))
        context.user_id = request_context.valid_request_id(carried.get("user_id"))
    return context


# --- client --------------------------------------------------------------------------------------


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(self, input: temporalio.client.StartWorkflowInput) -> Any:
        input.headers = _with_context(input.headers)  # a signal-with-start's signal too
        return await super().start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        input.headers = _with_context(input.headers)
        await super().signal_workflow(input)

    async def start_workflow_update(self, input: temporalio.client.StartWorkflowUpdateInput) -> Any:
        input.headers = _with_context(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> Any:
        start, update = input.start_workflow_input, input.update_workflow_input
        start.headers = _with_context(start.headers)
        update.headers = _with_context(update.headers)
        return await super().start_update_with_start_workflow(input)


# --- workflows (run in the sandbox: no I/O, no clock, no commands of their own) -------------------


def _enter_workflow(headers: Headers) -> None:
    context = _from_headers(headers)
    info = temporalio.workflow.info()
    context.workflow_id, context.run_id = info.workflow_id, info.run_id
    request_context.begin(context)


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> Any:
        input.headers = _with_context(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> Any:
        input.headers = _with_context(input.headers)
        return super().start_local_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput) -> Any:
        input.headers = _with_context(input.headers)
        return await super().start_child_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> NoReturn:
        input.headers = _with_context(input.headers)
        super().continue_as_new(input)


class _WorkflowInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        _enter_workflow(input.headers)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        _enter_workflow(input.headers)
        await super().handle_signal(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        _enter_workflow(input.headers)
        return await super().handle_update_handler(input)


# --- activities ----------------------------------------------------------------------------------


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        context = _from_headers(input.headers)
        info = temporalio.activity.info()
        context.workflow_id, context.run_id = info.workflow_id, info.workflow_run_id
        request_context.begin(context)  # this attempt's task only: the SDK runs each in its own
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await super().execute_activity(input)
            outcome = "completed"
            return result
        except BaseException as exc:
            outcome = "cancelled" if _is_cancel(exc) else "failed"
            raise
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            log.info(
                "activity %s %s in %.1f ms (attempt %d)",
                info.activity_type,
                outcome,
                elapsed_ms,
                info.attempt,
                extra={
                    "activity": info.activity_type,
                    "attempt": info.attempt,
                    "outcome": outcome,
                    "duration_ms": elapsed_ms,
                },
            )


def _is_cancel(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.CancelledError | temporalio.exceptions.CancelledError)


# --- the interceptor -----------------------------------------------------------------------------


class ContextPropagator(temporalio.client.Interceptor, Interceptor):
    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _WorkflowInbound
