"""Tables of support: callbacks customers ask for, and the call log staff keep on a customer's
record.

A callback is asked for by a customer (`open`), taken by one staff member (`taken`: theirs to
call) and closed by them with an outcome (`closed`), or cancelled by the customer before it is
closed (`cancelled`). Every change is written with its time and who made it. Moves are
conditional updates (`... WHERE status = 'open'`), so of two staff members taking one callback at
once exactly one gets it.

The call log is append-only: a logged call is never changed or removed (a trigger refuses UPDATE
and DELETE on `support_calls`, see the migration); a correction is a new entry that names the one
it corrects (`corrects_id`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Timestamps, UUIDPk


class CallbackReason(enum.StrEnum):
    billing = "billing"
    service = "service"  # a visit: booking, a technician, the work done
    plan = "plan"  # choosing, renewing or cancelling a plan
    account = "account"  # signing in, contacts, the profile
    other = "other"


class CallbackStatus(enum.StrEnum):
    open = "open"  # waiting for a staff member to take it
    taken = "taken"  # a staff member has it and will call
    closed = "closed"  # done, with an outcome
    cancelled = "cancelled"  # the customer no longer wants it


# Callbacks still to be done: what the cap on a customer's callbacks counts.
WAITING = (CallbackStatus.open.value, CallbackStatus.taken.value)


class CallbackOutcome(enum.StrEnum):
    resolved = "resolved"  # the customer was helped
    unreachable = "unreachable"  # tried, could not reach them
    not_needed = "not_needed"  # they no longer needed help
    duplicate = "duplicate"  # another callback covers it


class CallDirection(enum.StrEnum):
    outbound = "outbound"  # staff called the customer
    inbound = "inbound"  # the customer called support


class CallOutcome(enum.StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    busy = "busy"
    voicemail = "voicemail"
    wrong_number = "wrong_number"
    failed = "failed"  # the call did not go through


class CallPurpose(enum.StrEnum):
    verification = "verification"  # confirming who they are, a contact, an order
    support = "support"
    callback = "callback"  # a callback they asked for
    billing = "billing"
    service = "service"  # about a visit
    other = "other"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class SupportCallback(UUIDPk, Timestamps, Base):
    __tablename__ = "support_callbacks"
    __table_args__ = (
        CheckConstraint(_in("status", CallbackStatus), name="status_known"),
        CheckConstraint(_in("reason", CallbackReason), name="reason_known"),
        CheckConstraint(
            f"outcome IS NULL OR {_in('outcome', CallbackOutcome)}", name="outcome_known"
        ),
        CheckConstraint(
            "(preferred_from IS NULL) = (preferred_to IS NULL) "
            "AND (preferred_from IS NULL OR preferred_to > preferred_from)",
            name="preferred_window",
        ),
        # What each status promises is there.
        CheckConstraint(
            "status NOT IN ('taken', 'closed') OR taken_by_id IS NOT NULL", name="taken_has_taker"
        ),
        CheckConstraint(
            "status <> 'closed' OR (closed_at IS NOT NULL AND outcome IS NOT NULL)",
            name="closed_has_outcome",
        ),
        CheckConstraint("status <> 'cancelled' OR cancelled_at IS NOT NULL", name="cancelled_at"),
        # A customer's own list (and the count of those waiting); the staff queue by status.
        Index("ix_support_callbacks_user_created", "user_id", "created_at"),
        Index("ix_support_callbacks_status_created", "status", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # The number to call, E.164 (the account's phone when the customer gave none).
    phone: Mapped[str] = mapped_column(String(20))
    preferred_from: Mapped[datetime | None]
    preferred_to: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.open.value)
    taken_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    taken_at: Mapped[datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    close_notes: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]


class SupportCall(UUIDPk, Base):
    """One call on a customer's record, as the staff member logged it. Never changed."""

    __tablename__ = "support_calls"
    __table_args__ = (
        CheckConstraint(_in("direction", CallDirection), name="direction_known"),
        CheckConstraint(_in("outcome", CallOutcome), name="outcome_known"),
        CheckConstraint(_in("purpose", CallPurpose), name="purpose_known"),
        Index("ix_support_calls_user_called", "user_id", "called_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # The number dialled (outbound) or that called (inbound), E.164.
    number: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("support_callbacks.id", ondelete="RESTRICT"), index=True
    )
    # The entry this one corrects (entries are never edited).
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("support_calls.id", ondelete="RESTRICT")
    )
    called_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
