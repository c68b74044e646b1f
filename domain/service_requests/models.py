"""Tables of service requests: a visit a customer asked for under a subscription, its timeline,
the dispatch log (who was suggested, who chose whom and why) and its photos.

`ServiceRequestWorkflow` owns each request's lifecycle; these tables are its read model, written
by its activities with the time and actor of every change, each write keyed (`event_key`) so a
retried activity writes nothing twice. A trigger announces every new timeline entry
(`NOTIFY service_request_events`), which the API's live streams listen for.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Timestamps, UUIDPk


class RequestStatus(enum.StrEnum):
    pending = "pending"
    assigned = "assigned"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


# A request's number as people say it (R-1042): from a sequence, so numbers are short and never
# reused (gaps are fine: unlike receipts, nothing is counted by them).
REQUEST_NUMBERS = Sequence("service_request_numbers", start=1001, metadata=Base.metadata)


class ServiceRequest(UUIDPk, Timestamps, Base):
    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(_in("status", RequestStatus), name="status_known"),
        CheckConstraint("window_end > window_start", name="window_ends_after_start"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        # The admin list: by window (unfiltered, dates), by status and window, by technician, by
        # category, by zone; each SLA flag (its count from the index alone). Measured by
        # `python -m bench requests` at 100,000 requests.
        Index("ix_service_requests_window", "window_start", "id"),
        Index("ix_service_requests_status_window", "status", "window_start"),
        Index("ix_service_requests_technician_window", "technician_id", "window_start"),
        Index("ix_service_requests_category_window", "category_id", "window_start"),
        Index("ix_service_requests_postal_code_window", "postal_code", "window_start"),
        # A postal code's prefix (560 finds 560001 and 560034) whatever the database's collation.
        Index(
            "ix_service_requests_postal_code_prefix",
            "postal_code",
            postgresql_ops={"postal_code": "varchar_pattern_ops"},
        ),
        Index("ix_service_requests_user_created", "user_id", "created_at"),
        Index("ix_service_requests_created_at", "created_at"),  # the activity report's period
        Index(
            "ix_service_requests_escalated",
            "window_start",
            "id",
            postgresql_where=text("escalated"),
        ),
        Index(
            "ix_service_requests_overdue",
            "window_start",
            "id",
            postgresql_where=text("overdue"),
        ),
    )

    number: Mapped[int] = mapped_column(
        BigInteger, server_default=REQUEST_NUMBERS.next_value(), unique=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="RESTRICT"), index=True
    )
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_categories.id", ondelete="RESTRICT")
    )
    address_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("addresses.id", ondelete="SET NULL")
    )
    # The address as it was asked for (the customer may edit or delete it later).
    address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    postal_code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.pending.value)
    technician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT")
    )
    # SLA flags: not assigned in time; not completed by the end of its window and a margin.
    escalated: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    overdue: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    assigned_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    completion_notes: Mapped[str | None] = mapped_column(Text)
    # [{"name": "...", "quantity": 1, "amount_minor": 0}]
    parts_used: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]


class RequestEvent(Base):
    """The timeline of a request: every change with its time, actor ("customer", "admin:<id>",
    "technician:<id>", "workflow") and note. The id orders the stream of a request's live events
    (it is the event id a client reconnects with)."""

    __tablename__ = "service_request_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class DispatchDecision(Base):
    """One assignment: who was suggested (with their scores and reasons), who chose whom, why."""

    __tablename__ = "dispatch_decisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    decision_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(String(64))
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    suggested: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class RequestPhoto(UUIDPk, Base):
    __tablename__ = "service_request_photos"

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Where the store keeps it: a path under the upload folder, or an object key.
    storage_key: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
