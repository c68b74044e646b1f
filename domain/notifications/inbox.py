"""The app's inbox: a user's messages that had the inbox among their channels, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain.notifications.models import Delivery, Message


async def page(
    db: AsyncSession, user_id: uuid.UUID, *, unread_only: bool, limit: int, offset: int
) -> tuple[list[Message], int]:
    """One page of the inbox and how many items it has in all."""
    where = [Message.user_id == user_id, Message.in_inbox]
    if unread_only:
        where.append(Message.read_at.is_(None))
    items = list(
        (
            await db.execute(
                select(Message)
                .where(*where)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).scalars()
    )
    total = await db.scalar(select(func.count()).select_from(Message).where(*where))
    return items, int(total or 0)


async def unread(db: AsyncSession, user_id: uuid.UUID) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.user_id == user_id, Message.in_inbox, Message.read_at.is_(None))
    )
    return int(count or 0)


async def mark_read(
    db: AsyncSession, user_id: uuid.UUID, message_id: uuid.UUID, *, now: datetime
) -> Message:
    """Mark one of the user's messages read (again: unchanged); NotFound for anyone else's."""
    message = await db.scalar(
        select(Message).where(
            Message.id == message_id, Message.user_id == user_id, Message.in_inbox
        )
    )
    if message is None:
        raise NotFound("no such message in your inbox")
    if message.read_at is None:
        message.read_at = now
    return message


async def mark_all_read(db: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> int:
    result = await db.execute(
        update(Message)
        .where(Message.user_id == user_id, Message.in_inbox, Message.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def sent_to(
    db: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[tuple[Message, list[Delivery]]], int]:
    """Everything a user was sent (inbox or not, codes included), newest first, each with its
    deliveries: what staff look at when a customer says a message never came."""
    messages = list(
        (
            await db.execute(
                select(Message)
                .where(Message.user_id == user_id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).scalars()
    )
    total = await db.scalar(
        select(func.count()).select_from(Message).where(Message.user_id == user_id)
    )
    by_message: dict[uuid.UUID, list[Delivery]] = {m.id: [] for m in messages}
    if messages:
        rows = await db.execute(
            select(Delivery)
            .where(Delivery.message_id.in_(list(by_message)))
            .order_by(Delivery.channel, Delivery.created_at)
        )
        for delivery in rows.scalars():
            by_message[delivery.message_id].append(delivery)
    return [(m, by_message[m.id]) for m in messages], int(total or 0)
