"""The embedded default of every channel: the domain's record of the message is its delivery.

Nothing leaves the machine. Each message is logged, so a developer running `make run` sees codes
and alerts in the worker's output; the app's inbox and the admin UI read the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from domain.notifications.ports import Email, Outcome, Push, Result, Sms

log = logging.getLogger("homeplans.outbox")

DELIVERED = Outcome(Result.delivered)


class OutboxEmail:
    name = "outbox"
    max_batch = 1000

    async def send(self, emails: Sequence[Email]) -> list[Outcome]:
        for email in emails:
            log.info("outbox email to %s: %s | %s", email.to, email.subject, email.text)
        return [DELIVERED] * len(emails)


class OutboxPush:
    name = "outbox"
    max_batch = 1000

    async def send(self, pushes: Sequence[Push]) -> list[Outcome]:
        for push in pushes:
            log.info("outbox push to %s…: %s | %s", push.token[:12], push.title, push.body)
        return [DELIVERED] * len(pushes)


class OutboxSms:
    name = "outbox"
    max_batch = 1000

    async def send(self, messages: Sequence[Sms]) -> list[Outcome]:
        for sms in messages:
            log.info("outbox sms to %s: %s", sms.to, sms.text)
        return [DELIVERED] * len(messages)
