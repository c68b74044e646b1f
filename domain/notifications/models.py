"""Tables of the notifications domain: each message, its deliveries, and what users chose.

A *message* is what one user is told once (its key is derived from the business id: a retried
activity finds it instead of writing it again). It shows in the user's in-app inbox when the inbox
was among its channels. A *delivery* is the message on one channel to one destination (an email
address, a device token, a phone number), with the provider's answer. The outbox provider (the
embedded default) stops at the row: the row is the delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import (
    text as sql,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UUIDPk

DELIVERY_STATUSES = ("pending", "retrying", "sent", "delivered", "failed", "suppressed")


class Message(UUIDPk, Base):
    __tablename__ = "notification_messages"
    __table_args__ = (
        Index(
            "ix_notification_messages_inbox",
            "user_id",
            sql("created_at DESC"),
            postgresql_where=sql("in_inbox"),
        ),
        Index(
            "ix_notification_messages_unread",
            "user_id",
            postgresql_where=sql("in_inbox AND read_at IS NULL"),
        ),
    )

    # `<business key>:<user id>`, e.g. `order:<id>:receipt:<user id>`.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. request.assigned
    topic: Mapped[str] = mapped_column(String(32))  # the preference it falls under
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)  # only when an email goes
    push_title: Mapped[str | None] = mapped_column(String(300))  # only when a push goes
    push_body: Mapped[str | None] = mapped_column(String(300))
    # What the app needs to open the right screen (ids), never the words again.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    in_inbox: Mapped[bool] = mapped_column(default=False, server_default=sql("false"))
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Delivery(UUIDPk, Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "channel", "destination"),
        CheckConstraint(
            "status IN ('pending', 'retrying', 'sent', 'delivered', 'failed', 'suppressed')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('email', 'push', 'sms')", name="channel_known"),
        # What is still to go (a retried send, ops looking for stuck deliveries).
        Index(
            "ix_notification_deliveries_open",
            "created_at",
            postgresql_where=sql("status IN ('pending', 'retrying')"),
        ),
        # The outbox as a developer reads it: the newest message to an address.
        Index("ix_notification_deliveries_destination", "destination", sql("created_at DESC")),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notification_messages.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(String(512))  # address, device token or E.164
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    # Why it is suppressed (quiet hours) or failed (the provider's reason, "unregistered").
    reason: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class DeviceToken(UUIDPk, Base):
    """A device the app registered for push. A token belongs to whoever registered it last (the
    same phone signed in to another account); FCM's `unregistered` removes it."""

    __tablename__ = "device_tokens"
    __table_args__ = (
        CheckConstraint("platform IN ('android', 'ios', 'web')", name="platform_known"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(512), unique=True)
    platform: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Preference(Base):
    """One choice a user made (the defaults are in code: only changes are stored)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Quiet(Base):
    """A user's time zone and quiet hours for push (absent: the settings' defaults)."""

    __tablename__ = "notification_quiet_hours"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    # Both set or both empty (no quiet hours); start after end spans midnight (22:00-07:00).
    starts: Mapped[time | None]
    ends: Mapped[time | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class UnsubscribeUse(Base):
    """An unsubscribe link that was used (its id is the message it came in): each works once."""

    __tablename__ = "unsubscribe_uses"

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(server_default=func.now())
