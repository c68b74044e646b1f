"""Technicians: who does the visits, what they know (skills: service categories), where they go
(zones: postal codes), when they work, and when they are booked.

A technician signs in with their own account (role `technician`, linked by `user_id`). Bookings
are one per service request; the database refuses two bookings of one technician that overlap in
time (an exclusion constraint), so two admins assigning at once can never double-book anyone.
Time off (leave, training, a sick day) is a period the technician is away: dispatch offers them
nothing that overlaps it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Timestamps, UUIDPk
from domain.accounts.models import User
from domain.catalog.models import ServiceCategory

technician_skills = Table(
    "technician_skills",
    Base.metadata,
    Column("technician_id", ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id",
        ForeignKey("service_categories.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Technician(UUIDPk, Timestamps, Base):
    __tablename__ = "technicians"

    # The account they sign in with (role `technician`).
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    # Postal codes they serve.
    zones: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    # Weekly hours in their time zone: {"mon": [["09:00", "18:00"]], ..., "sun": []}.
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSONB)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    # lazy="raise": every query says what it loads (an async session cannot lazy-load).
    user: Mapped[User] = relationship(lazy="raise")
    skills: Mapped[list[ServiceCategory]] = relationship(
        secondary=technician_skills,
        order_by=(ServiceCategory.display_order, ServiceCategory.name),
        lazy="raise",
    )
    # Loaded with the time off not yet over (see the technicians service); soonest first.
    time_off: Mapped[list[TechnicianTimeOff]] = relationship(
        order_by="func.lower(TechnicianTimeOff.during)", lazy="raise", viewonly=True
    )


class TechnicianBooking(Base):
    """A technician held for one service request's window."""

    __tablename__ = "technician_bookings"
    __table_args__ = (
        ExcludeConstraint(
            (Column("technician_id"), "="),
            (Column("during"), "&&"),
            using="gist",
            name="technician_bookings_no_overlap",
        ),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="RESTRICT"), index=True
    )
    during: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)


class TechnicianTimeOff(UUIDPk, Base):
    """A period a technician is away; dispatch gives them no visit that overlaps it."""

    __tablename__ = "technician_time_off"
    __table_args__ = (
        Index("ix_technician_time_off_during", "technician_id", "during", postgresql_using="gist"),
    )

    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE")
    )
    during: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
