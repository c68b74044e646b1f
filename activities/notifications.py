"""The one activity every workflow sends messages through: a kind, who, a key, business ids.

The words, the channels and the record of each delivery belong to `domain.notifications`; this
only runs it and turns a passing provider failure into a retry of the activity (with the backoff
of the caller's retry policy), up to NOTIFY_MAX_ATTEMPTS, after which the delivery is recorded as
failed and the activity completes: a message that cannot go never stops the workflow sending it.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.notifications.contracts import Send, Sent
from domain.notifications.delivery import DeliveryDeferred
from domain.notifications.service import Notifier

SEND = "notifications.send"


class NotificationActivities:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    @activity.defn(name=SEND)
    async def send(self, request: Send) -> Sent:
        try:
            return await self._notifier.send(request, attempt=activity.info().attempt)
        except DeliveryDeferred as e:
            raise ApplicationError(str(e), type="DeliveryDeferred") from e
