"""Who and what a log line is about: the request id, the user, the workflow and its run.

One context variable holds a `LogContext` for the task that works on something: the API's request
(`api.request_ids` sets it, `api.deps` adds the user once the principal is known), a workflow's
handler or an activity (`core.temporal_context` sets it from the Temporal headers the API's client
wrote). `core.logs` stamps every log record with it, so every line of that task says which
purchase, visit or account it belongs to.

The object is mutable on purpose: the API's request task sets it before the route runs, the route's
dependency adds the user, and the access line written after the answer (in the same task, or in a
task the route's layers made from it, which share the object) sees both.
"""

from __future__ import annotations

import itertools
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass

# What an incoming X-Request-Id (or a Temporal header's) may be; anything else is replaced.
REQUEST_ID_MAX = 100
_VALID_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:\-]{{1,{REQUEST_ID_MAX}}}")


@dataclass(slots=True)
class LogContext:
    request_id: str | None = None
    user_id: str | None = None
    workflow_id: str | None = None
    run_id: str | None = None


_current: ContextVar[LogContext | None] = ContextVar("homeplans_log_context", default=None)


def current() -> LogContext | None:
    """The context of the running task, None outside of any request, workflow or activity."""
    return _current.get()


def begin(context: LogContext) -> None:
    """Make `context` the running task's (and that of the tasks it starts from now on)."""
    _current.set(context)


def set_user(user_id: object) -> None:
    """The signed-in user of the running request (`api.deps.get_principal`)."""
    context = _current.get()
    if context is None:
        _current.set(LogContext(user_id=str(user_id)))
    else:
        context.user_id = str(user_id)


def request_id() -> str | None:
    context = _current.get()
    return context.request_id if context is not None else None


# A request id is this process's random 64-bit prefix and a count: unique across processes and
# restarts (the prefix is drawn at each start), and made without a system call.
_PREFIX = os.urandom(8).hex()
_count = itertools.count(1)


def new_request_id() -> str:
    """A fresh id: 32 hex digits (16 of them this process's, 16 a count)."""
    return f"{_PREFIX}{next(_count):016x}"


def valid_request_id(value: str | None) -> str | None:
    """`value` when it is a request id this system keeps (1-100 of letters, digits, `._:-`):
    safe to write into a log line and a header as it is; None otherwise."""
    if value and _VALID_REQUEST_ID.fullmatch(value):
        return value
    return None
