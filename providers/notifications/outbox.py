"""The embedded default: the outbox row written by the notification service is the delivery.

Nothing leaves the machine. The message is logged so a developer running `make run` sees codes and
alerts in the worker's output; the app's inbox and the admin UI read the same rows.
"""

from __future__ import annotations

import logging

from providers.notifications.base import OutgoingMessage

log = logging.getLogger("homeplans.outbox")


class OutboxProvider:
    name = "outbox"

    async def send(self, message: OutgoingMessage) -> str | None:
        log.info(
            "outbox %s to %s: %s | %s",
            message.channel,
            message.destination,
            message.subject,
            message.body,
        )
        return None
