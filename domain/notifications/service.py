"""Sending a notification exactly once per idempotency key, through the configured provider."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.notifications.models import Notification
from providers.notifications import NotificationProvider, OutgoingMessage


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    provider: NotificationProvider,
    *,
    idempotency_key: str,
    user_id: uuid.UUID | None,
    channel: str,
    destination: str,
    template: str,
    subject: str,
    body: str,
    data: dict[str, Any] | None = None,
) -> Notification:
    """Record the message in the outbox and hand it to the provider, once per key.

    Safe to call again with the same key (an activity retry): a message already handed over is
    returned as it is; one whose hand-over failed is tried again.
    """
    async with sessions() as db:
        # The new row comes back from the insert itself; only a retry (the key is taken) reads it.
        row = (
            await db.execute(
                insert(Notification)
                .values(
                    idempotency_key=idempotency_key,
                    user_id=user_id,
                    channel=channel,
                    destination=destination,
                    template=template,
                    subject=subject,
                    body=body,
                    data=data or {},
                    provider=provider.name,
                    status="pending",
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(Notification),
                execution_options={"populate_existing": True},
            )
        ).scalar_one_or_none()
        if row is None:
            row = (
                await db.execute(
                    select(Notification).where(Notification.idempotency_key == idempotency_key)
                )
            ).scalar_one()
        await db.commit()
        if row.status in ("delivered", "sent"):
            return row
        message_id = await provider.send(
            OutgoingMessage(
                idempotency_key=idempotency_key,
                channel=channel,
                destination=destination,
                subject=subject,
                body=body,
                data=data or {},
            )
        )
        row.provider_message_id = message_id
        row.status = "delivered" if provider.name == "outbox" else "sent"
        await db.commit()
        return row
