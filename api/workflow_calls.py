"""Sending a Workflow Update from the API, with the answers every flow needs: a refused update
(its validator said no, or its handler failed) is a 409 with the workflow's own reason; an update
to a workflow that has ended is `WorkflowGone` (a 409 unless the caller answers otherwise); an
update the server dropped because the workflow was busy is sent again, then a 503.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from core.errors import Conflict, Unavailable

# How often an update is sent when the server answers that the workflow was not ready for it.
UPDATE_ATTEMPTS = 5

Arg = TypeVar("Arg")
Result = TypeVar("Result")


class WorkflowGone(Conflict):
    """The workflow has ended: it takes no more updates."""


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
    for attempt in range(1, UPDATE_ATTEMPTS + 1):
        try:
            return await handle.execute_update(method, arg)
        except WorkflowUpdateFailedError as exc:
            raise Conflict(reason(exc)) from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
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
