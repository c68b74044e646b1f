"""Devices the app registered for push.

A token belongs to whoever registered it last (the same phone, another account); a user keeps at
most MAX_DEVICES (the oldest goes first); FCM's `unregistered` answer removes a token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain.notifications.models import DeviceToken

MAX_DEVICES = 10


async def register(
    db: AsyncSession, *, user_id: uuid.UUID, token: str, platform: str, now: datetime
) -> tuple[DeviceToken, bool]:
    """The device (and whether it is new to this user), its token now the user's."""
    previous = await db.scalar(select(DeviceToken.user_id).where(DeviceToken.token == token))
    device = (
        await db.execute(
            insert(DeviceToken)
            .values(id=uuid.uuid4(), user_id=user_id, token=token, platform=platform)
            .on_conflict_do_update(
                index_elements=["token"],
                set_={"user_id": user_id, "platform": platform, "last_seen_at": now},
            )
            .returning(DeviceToken),
            execution_options={"populate_existing": True},
        )
    ).scalar_one()
    ids = list(
        (
            await db.execute(
                select(DeviceToken.id)
                .where(DeviceToken.user_id == user_id)
                .order_by(DeviceToken.last_seen_at.desc(), DeviceToken.created_at.desc())
                .offset(MAX_DEVICES)
            )
        ).scalars()
    )
    if ids:
        await db.execute(delete(DeviceToken).where(DeviceToken.id.in_(ids)))
    return device, previous != user_id


async def remove(db: AsyncSession, *, user_id: uuid.UUID, token: str) -> None:
    """Forget one of the user's devices (signing out of the app); NotFound if it is not theirs."""
    gone = await db.execute(
        delete(DeviceToken)
        .where(DeviceToken.user_id == user_id, DeviceToken.token == token)
        .returning(DeviceToken.id)
    )
    if gone.scalar_one_or_none() is None:
        raise NotFound("no such device on your account")


async def of_user(db: AsyncSession, user_id: uuid.UUID) -> list[DeviceToken]:
    return list(
        (
            await db.execute(
                select(DeviceToken)
                .where(DeviceToken.user_id == user_id)
                .order_by(DeviceToken.last_seen_at.desc())
            )
        ).scalars()
    )


async def tokens_of(db: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    rows = await db.execute(
        select(DeviceToken.user_id, DeviceToken.token)
        .where(DeviceToken.user_id.in_(list(user_ids)))
        .order_by(DeviceToken.last_seen_at.desc())
    )
    for user_id, token in rows:
        out.setdefault(user_id, []).append(token)
    return out


async def forget(db: AsyncSession, tokens: Iterable[str]) -> None:
    """Tokens the push service says are gone."""
    tokens = list(tokens)
    if tokens:
        await db.execute(delete(DeviceToken).where(DeviceToken.token.in_(tokens)))
