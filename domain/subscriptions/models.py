"""Tables of the subscriptions domain: a plan held by a customer, its periods, its timeline and
its visit ledger.

`SubscriptionWorkflow` owns each subscription's lifecycle; these tables are its read model,
written by its activities, each write keyed so a retried activity writes nothing twice
(`subscription_periods (subscription_id, number)`, `subscription_events.event_key`,
`visit_reservations (subscription_id, request_id)`).
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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UUIDPk
from domain.subscriptions.contracts import (
    PeriodKind,
    ReservationStatus,
    SubscriptionStatus,
)


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Subscription(UUIDPk, Base):
    """One plan held by a customer for one address, created when its order is paid. The columns
    describe the current period; `subscription_periods` has every period."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(_in("status", SubscriptionStatus), name="status_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("visits_used BETWEEN 0 AND visits_allowed", name="visits_within_cap"),
        CheckConstraint("period >= 1", name="period_positive"),
        # Admin lists: by status, expiring soonest.
        Index("ix_subscriptions_status_ends_at", "status", "ends_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    order_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_items.id", ondelete="RESTRICT"), unique=True
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="RESTRICT"), index=True
    )
    # The terms of the current period (a renewal may move to the plan's newer terms).
    plan_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="RESTRICT")
    )
    address_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("addresses.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.active.value)
    period: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    grace_ends_at: Mapped[datetime | None]
    visits_allowed: Mapped[int] = mapped_column(SmallInteger)
    # Visits of the current period reserved or used.
    visits_used: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    auto_renew: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # The saved method auto-renewal charges (tokens only, in payment_methods).
    payment_method_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_methods.id", ondelete="SET NULL")
    )
    # What the workflow will do next, for the app to show.
    next_reminder_at: Mapped[datetime | None]
    next_charge_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class SubscriptionPeriod(Base):
    """One period of a subscription: the initial one, each renewal. The order that paid for it
    is what a cancellation refunds."""

    __tablename__ = "subscription_periods"
    __table_args__ = (
        CheckConstraint(_in("kind", PeriodKind), name="kind_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    plan_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="RESTRICT")
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SubscriptionEvent(Base):
    """The timeline: every change, reminder and notice, with its time and actor ("workflow",
    "customer", "admin:<id>"). `event_key` (e.g. `sub:<id>:period:2:reminder:7`) makes each
    fact be written once however often the activity that records it runs."""

    __tablename__ = "subscription_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[int] = mapped_column(SmallInteger)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class VisitReservation(UUIDPk, Base):
    """A visit of a subscription held for one service request, then consumed or released."""

    __tablename__ = "visit_reservations"
    __table_args__ = (
        UniqueConstraint("subscription_id", "request_id"),
        CheckConstraint(_in("status", ReservationStatus), name="status_known"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    request_id: Mapped[uuid.UUID]
    period: Mapped[int] = mapped_column(SmallInteger)
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_categories.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[datetime | None]
