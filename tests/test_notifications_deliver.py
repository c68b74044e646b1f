"""The notification outbox: one message per idempotency key, however often delivery is retried.

A recording provider stands in for SendGrid/FCM here (those are wired in a later issue); the
outbox table and the transactions are the real ones.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.notifications import service as notifications
from domain.notifications.models import Notification
from providers.notifications.base import OutgoingMessage
from tests.conftest import count_rows


class Recording:
    name = "recording"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> str | None:
        self.sent.append(message)
        return f"msg-{len(self.sent)}"


async def _deliver(
    sessions: async_sessionmaker[AsyncSession], provider: Recording, key: str
) -> Notification:
    return await notifications.deliver(
        sessions,
        provider,
        idempotency_key=key,
        user_id=None,
        channel="email",
        destination="someone@example.com",
        template="order_receipt",
        subject="Receipt 1",
        body="Thank you!",
        data={"order_id": "x"},
    )


async def test_a_retried_delivery_sends_the_message_once(
    db: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    provider = Recording()
    first = await _deliver(sessions, provider, "order:1:receipt")
    again = await _deliver(sessions, provider, "order:1:receipt")

    assert [m.idempotency_key for m in provider.sent] == ["order:1:receipt"]
    assert again.id == first.id
    assert (first.status, first.provider_message_id) == ("sent", "msg-1")
    assert await count_rows(db, Notification) == 1


async def test_a_message_whose_hand_over_failed_is_sent_on_the_retry(
    db: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    provider = Recording()
    first = await _deliver(sessions, provider, "order:2:receipt")
    # As if the provider call had failed after the outbox row was written.
    await db.execute(
        update(Notification).where(Notification.id == first.id).values(status="pending")
    )
    await db.commit()

    retried = await _deliver(sessions, provider, "order:2:receipt")
    assert retried.id == first.id
    assert retried.status == "sent"
    assert len(provider.sent) == 2
    assert await count_rows(db, Notification) == 1
