"""Sending a Workflow Update from the API, with the answers every flow needs: a refused update
(its validator said no, or its handler failed) is a 409 with the workflow's own reason; an update
to a workflow that has ended is `WorkflowGone` (a 409 unless the caller answers otherwise); an
update the server dropped because the workflow was busy is sent again, then a 503.

And the one check of "no such workflow" (Temporal's NOT_FOUND) for any other call to a workflow:
`or_none` (a query, an update) and `reached` (a signal, a termination).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from core.errors import Conflict, Unavailable

# How often an update is sent when the server answers that the workflow was not ready for it.
UPDATE_ATTEMPTS = 5

Arg = TypeVar("Arg")
Result = TypeVar("Result")


class WorkflowGone(Conflict):
    """The workflow has ended: it takes no more updates."""


def not_found(exc: RPCError) -> bool:
    """The workflow the call was for does not exist: never started, or ended and its history
    removed (an update or a signal to a workflow that has ended is answered this way too)."""
    return exc.status == RPCStatusCode.NOT_FOUND


async def or_none(call: Awaitable[Result]) -> Result | None:
    """`await call`, or None when its workflow does not exist (`not_found`)."""
    try:
        return await call
    except RPCError as exc:
        if not_found(exc):
            return None
        raise


async def reached(call: Awaitable[None]) -> bool:
    """`await call` (a signal, a termination: no answer), and whether its workflow was there."""

    async def sent() -> bool:
        await call
        return True

    return await or_none(sent()) is not None


def reason(exc: WorkflowUpdateFailedError) -> str:
    cause = exc.cause
    return getattr(cause, "message", None) or str(cause or exc)


async def update(
    handle: WorkflowHandle[Any, Any],
    method: UpdateMethodMultiParam[[Any, Arg], Result],
    arg: Arg,
    *,
    gone: str,
) -> Result:
    """`handle.execute_update(method, arg)`; `gone` is the detail of WorkflowGone."""
    return await _send(lambda: handle.execute_update(method, arg), gone=gone)


async def update_by_name(
    handle: WorkflowHandle[Any, Any],
    name: str,
    arg: Any,
    *,
    result_type: type[Result],
    gone: str,
) -> Result:
    """`update` for a caller that names the update instead of importing its workflow (an
    activity: activities never import workflows/)."""
    return await _send(lambda: handle.execute_update(name, arg, result_type=result_type), gone=gone)


async def _send(call: Callable[[], Awaitable[Result]], *, gone: str) -> Result:
    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        try:
            return await call()
        except WorkflowUpdateFailedError as exc:
            raise Conflict(reason(exc)) from exc
        except RPCError as exc:
            if not_found(exc):
                raise WorkflowGone(gone) from exc
            if exc.status != RPCStatusCode.FAILED_PRECONDITION:
                raise
            if attempt == UPDATE_ATTEMPTS:
                raise Unavailable("the workflow is busy right now; try again") from exc
            # The workflow task that would have taken the update was not completed (a signal
            # arrived while it ran a step, so the server ran it again) and the server dropped
            # the update rather than wait: send it again.
            await asyncio.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


async def update_with_start(
    temporal: Client,
    method: UpdateMethodMultiParam[[Any], Result],
    operation: WithStartWorkflowOperation[Any, Any],
    *,
    gone: str,
) -> Result:
    """Start the workflow of `operation` (or find it, by its conflict policy) and send it the
    update, in one round trip; a refused update is a Conflict with the workflow's reason."""
    try:
        return await _send(
            lambda: temporal.execute_update_with_start_workflow(
                method, start_workflow_operation=operation
            ),
            gone=gone,
        )
    except BaseException:
        # The SDK sets a failed start's error on the operation too: retrieve it, or asyncio
        # logs "Future exception was never retrieved".
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(operation.workflow_handle(), timeout=0.01)
        raise
