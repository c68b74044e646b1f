"""The notification outbox: every message the system sends, whatever the channel and provider.

The embedded default provider (`outbox`) stops here: the row is the delivery, shown in the app's
inbox and the admin UI. Real providers (SendGrid, FCM) record their message id on the same row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UUIDPk


class Notification(UUIDPk, Base):
    __tablename__ = "notifications"

    # Derived from the business id by the caller (e.g. `verification:<id>:code:2`): a retried
    # activity finds its row instead of sending twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))  # email, sms, push, in_app
    destination: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # delivered, sent, failed
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    read_at: Mapped[datetime | None]
