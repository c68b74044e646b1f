"""Waiting for what the system writes in its own time: a message an activity sends after the
answer the test had, a read-model row a workflow writes after the API replied, a run that
Temporal's visibility lists a moment after it started. A test reads such state through
`eventually`, never once: on a busy machine the one read comes too early."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

WAIT_S = 60.0  # a bound for slow machines, never an expectation


async def eventually(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    what: str,
    *,
    wait_s: float = WAIT_S,
) -> T:
    """`read()` again until `done` says so; what it read then. Bounded: the failure names `what`
    and shows the last thing read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        value = await read()
        if done(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not there after {wait_s:.0f} s; last read: {value!r}")
        await asyncio.sleep(0.05)
