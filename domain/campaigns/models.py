"""Tables of campaigns: each promotion with its audience and progress, and its frozen audience.

A campaign's progress (total, sent, batches, status and when each status began) is written by
`CampaignWorkflow`'s activities; the admin list reads it here. When a campaign starts, its
audience is frozen into `campaign_recipients` (one row per person, by user id): the batches walk
that table by user id (keyset), so a worker that restarts neither skips nor repeats anyone, and
people who sign up or buy a plan later are not included.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UUIDPk
from domain.campaigns.contracts import CampaignStatus

STATUSES = ", ".join(repr(s.value) for s in CampaignStatus)


class Campaign(UUIDPk, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUSES})", name="status_known"),
        CheckConstraint("sent >= 0 AND skipped >= 0 AND batches >= 0", name="counts_positive"),
        # A started campaign has its audience's size and the time it was frozen.
        CheckConstraint(
            "status = 'draft' OR (started_at IS NOT NULL AND total IS NOT NULL)",
            name="started_is_frozen",
        ),
        Index("ix_campaigns_created_at", "created_at"),
    )

    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # {"kind": "all"} | {"kind": "plan", "plan_id"} | {"kind": "category", "category_id"} |
    # {"kind": "expiring", "within_days"} (schemas.Audience)
    audience: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.draft.value)
    total: Mapped[int | None] = mapped_column(Integer)  # the frozen audience's size
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    batches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    started_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    started_at: Mapped[datetime | None]  # when the audience was frozen
    paused_at: Mapped[datetime | None]  # the latest pause
    cancelled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class CampaignRecipient(Base):
    """One person of a started campaign's frozen audience."""

    __tablename__ = "campaign_recipients"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
