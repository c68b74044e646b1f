"""How a workflow sends a message: the `notifications.send` activity, started and not awaited.

The step that causes a message (an update, a timer) answers without waiting for the providers; the
workflow keeps the handles and waits for them before it completes or continues as new, so no
message is lost with the run. The activity retries passing failures itself up to its limit, then
records the delivery failed and completes.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import SEND
    from domain.notifications.contracts import Ref, Send, Sent, To

# Backoff between attempts of a delivery that met a 429 or 5xx: 10 s, 20 s, ... up to 10 min.
# No attempt limit here: the activity stops at NOTIFY_MAX_ATTEMPTS (a setting of the worker).
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
SEND_TIMEOUT = timedelta(minutes=2)


class Outgoing:
    """The messages a workflow run has started, to be waited for before the run ends."""

    def __init__(self) -> None:
        self._pending: list[asyncio.Future[Sent]] = []

    def send(self, kind: str, key: str, to: To, **refs: Ref) -> None:
        self._pending = [p for p in self._pending if not p.done()]
        self._pending.append(
            workflow.start_activity(
                SEND,
                Send(kind=kind, key=key, to=to, refs=refs),
                result_type=Sent,
                start_to_close_timeout=SEND_TIMEOUT,
                retry_policy=SEND_RETRY,
            )
        )

    async def drain(self) -> None:
        """Wait for every message started (before completing or continuing as new)."""
        pending, self._pending = self._pending, []
        for future in pending:
            try:
                await future
            except Exception:
                workflow.logger.warning("a message did not go", exc_info=True)
