"""Tables of the dashboard and the reports.

Rollups per business day (the day in DEFAULT_TIME_ZONE), written in the transaction of the change
they count, by the domain service that makes it, at a transition that happens once (so a retried
activity never counts twice):

- `daily_stats`: new users (accounts made; technicians, added by staff, excepted) and service
  requests created, assigned, started, completed and
  cancelled;
- `daily_revenue`: orders paid and refunds, per currency, in four dimensions: `total` (key ''),
  `plan` (the plan's id), `category` (a category's id; a plan covering several splits its amount
  evenly) and `method` (card, upi, ...; `unknown` when the provider did not say).

`state_counters` counts current state (subscriptions by status; open, escalated and overdue
service requests), kept by triggers on `subscriptions` and `service_requests` (migration), so it is
right whoever writes the row. Each count is spread over a few slots (by the row's id) so that
concurrent changes seldom wait for each other on one row; a count is the sum of its slots.

Every write to these three tables notifies `dashboard_changed` (a statement trigger; delivered at
commit), which the API's dashboard streams listen for.

`reports` keeps each computed daily report, one per day (a re-run replaces it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UUIDPk

DIMENSIONS = ("total", "plan", "category", "method")
SLOTS = 16  # slots per state counter (see the module's docstring)


class DailyStats(Base):
    __tablename__ = "daily_stats"

    day: Mapped[date] = mapped_column(primary_key=True)
    new_users: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_assigned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_started: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_completed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests_cancelled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DailyRevenue(Base):
    __tablename__ = "daily_revenue"
    __table_args__ = (
        CheckConstraint(
            "dimension IN ('total', 'plan', 'category', 'method')", name="dimension_known"
        ),
    )

    day: Mapped[date] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    refunds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StateCounter(Base):
    __tablename__ = "state_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Report(UUIDPk, Base):
    """A computed report (`kind` daily: one business day), stored to be downloaded and mailed."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "day"),)

    kind: Mapped[str] = mapped_column(String(16))
    day: Mapped[date]
    time_zone: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime]
    # The report's figures (`schemas.DailyReport` as JSON).
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
