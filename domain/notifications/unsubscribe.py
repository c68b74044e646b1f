"""Unsubscribe links: signed, so they work without signing in and cannot be made up; each once.

The link names the message it came in, its recipient, and the topic and channel it turns off. It
is a JWT (HS256) under a key derived from JWT_SECRET for this use alone, with its own audience, so
it is never taken for a sign-in token and a sign-in token is never taken for it. Using it records
the message id (`unsubscribe_uses`): the second use says so and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, Gone
from core.settings import Settings
from domain.accounts.models import User
from domain.notifications import preferences
from domain.notifications.kinds import Channel, Topic
from domain.notifications.models import UnsubscribeUse

AUDIENCE = "homeplans-unsubscribe"


class BadLink(DomainError):
    status = 400
    title = "Bad unsubscribe link"


@dataclass(frozen=True)
class Unsubscribed:
    user_id: uuid.UUID
    topic: Topic
    channel: Channel


def _key(settings: Settings) -> bytes:
    return hmac.new(
        settings.jwt_secret.get_secret_value().encode(),
        b"homeplans unsubscribe links",
        hashlib.sha256,
    ).digest()


def link(
    settings: Settings,
    *,
    message_id: uuid.UUID,
    user_id: uuid.UUID,
    topic: Topic,
    channel: Channel,
    now: datetime,
) -> str:
    token = jwt.encode(
        {
            "aud": AUDIENCE,
            "sub": str(user_id),
            "mid": str(message_id),
            "topic": topic.value,
            "ch": channel.value,
            "exp": now + timedelta(days=settings.unsubscribe_link_ttl_days),
        },
        _key(settings),
        algorithm="HS256",
    )
    return f"{settings.public_base_url}/api/v1/unsubscribe?token={token}"


def read(settings: Settings, token: str) -> tuple[uuid.UUID, Unsubscribed]:
    """The message id and what the link turns off; BadLink for a forged one, Gone for an expired
    one."""
    try:
        claims = jwt.decode(token, _key(settings), algorithms=["HS256"], audience=AUDIENCE)
        return uuid.UUID(claims["mid"]), Unsubscribed(
            user_id=uuid.UUID(claims["sub"]),
            topic=Topic(claims["topic"]),
            channel=Channel(claims["ch"]),
        )
    except jwt.ExpiredSignatureError as e:
        raise Gone(
            "this unsubscribe link has expired; change what you receive in the app's settings"
        ) from e
    except (jwt.InvalidTokenError, KeyError, ValueError) as e:
        raise BadLink("this unsubscribe link is not one we sent") from e


async def use(db: AsyncSession, settings: Settings, token: str) -> Unsubscribed:
    """Turn off what the link names, once; Gone when it was used already."""
    message_id, what = read(settings, token)
    if await db.get(User, what.user_id) is None:
        raise Gone("the account this link was for no longer exists")
    first = (
        await db.execute(
            insert(UnsubscribeUse)
            .values(message_id=message_id, user_id=what.user_id)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(UnsubscribeUse.message_id)
        )
    ).scalar_one_or_none()
    if first is None:
        raise Gone(
            "this unsubscribe link was used already; change what you receive in the app's settings"
        )
    await preferences.update(
        db, what.user_id, settings, channels={what.topic: {what.channel: False}}
    )
    return what
