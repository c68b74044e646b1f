"""Inputs and outputs of the support API: the line's number and hours, callbacks (the customer's
view and staff's), and the call log. Inputs forbid unknown fields; every text is bounded and
every choice an enum (NUL characters are refused for every route, see api.boundary).

Rules about one field live here; rules that need the clock or the database (a window in the
past, a customer without a phone, a callback of another customer) live in the service.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from core.errors import FieldProblem
from domain.support.models import (
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
    CallDirection,
    CallOutcome,
    CallPurpose,
)
from domain.types import Phone

NOTE_MAX = 1000
NOTES_MAX = 2000
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX)]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTES_MAX)]


def tel(number: str) -> str:
    """The `tel:` URI (RFC 3966) of an E.164 number: what a phone dials on one tap."""
    return f"tel:{number}"


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the support line -----------------------------------------------------------------------------


class OpeningHours(BaseModel):
    day: str = Field(description="mon, tue, wed, thu, fri, sat or sun")
    opens: str = Field(description="HH:MM, in `timezone`")
    closes: str = Field(description="HH:MM, in `timezone`; 24:00 is the end of the day")


class SupportInfo(BaseModel):
    phone: str = Field(description="The support line, E.164")
    tel: str = Field(description="The same number as a tel: link, for a one-tap call")
    timezone: str = Field(description="IANA time zone of the hours")
    hours: list[OpeningHours] = Field(description="When the line answers; a day not listed: closed")
    open_now: bool
    closes_at: datetime | None = Field(
        description="When open: when it closes (UTC); null when open around the clock"
    )
    opens_at: datetime | None = Field(
        description="When closed: when it next opens (UTC); the app may offer a callback meanwhile"
    )


# --- callbacks ------------------------------------------------------------------------------------


class CallbackIn(In):
    """A callback asked for. Without `phone`, support calls the account's phone."""

    reason: CallbackReason
    note: Note | None = Field(default=None, description="What it is about, in a few words")
    phone: Phone | None = Field(
        default=None, description="The number to call, international format; default: yours"
    )
    preferred_from: AwareDatetime | None = Field(
        default=None, description="The start of when they would like the call (with both ends)"
    )
    preferred_to: AwareDatetime | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "billing",
                    "note": "Charged twice for my renewal",
                    "preferred_from": "2026-12-03T10:00:00+05:30",
                    "preferred_to": "2026-12-03T12:00:00+05:30",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if (self.preferred_from is None) != (self.preferred_to is None):
            missing = "preferred_to" if self.preferred_to is None else "preferred_from"
            raise FieldProblem(missing, "give both preferred_from and preferred_to, or neither")
        if self.preferred_from and self.preferred_to and self.preferred_to <= self.preferred_from:
            raise FieldProblem(
                "preferred_to",
                "the window is reversed: preferred_to must be after preferred_from",
            )
        return self


class CallbackOut(BaseModel):
    """A callback as the customer who asked sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reason: CallbackReason
    note: str | None
    phone: str
    preferred_from: datetime | None
    preferred_to: datetime | None
    status: CallbackStatus
    outcome: CallbackOutcome | None
    created_at: datetime
    taken_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None


class StaffRef(BaseModel):
    id: uuid.UUID
    name: str | None


class AdminCallbackOut(CallbackOut):
    """A callback as staff see it: who asked, the number as a tel: link, who has it."""

    user_id: uuid.UUID
    customer_name: str | None
    tel: str
    taken_by: StaffRef | None
    closed_by: StaffRef | None
    close_notes: str | None


class CallbackCallIn(In):
    """The call made for a callback, logged on the customer's record as the callback closes."""

    outcome: CallOutcome
    number: Phone | None = Field(
        default=None, description="The number dialled; default: the one asked for"
    )
    notes: Notes | None = None
    called_at: AwareDatetime | None = Field(default=None, description="When; default: now")


class CloseIn(In):
    outcome: CallbackOutcome
    notes: Notes | None = Field(default=None, description="For staff; the customer does not see it")
    call: CallbackCallIn | None = Field(
        default=None, description="Log the call made for it on the customer's record"
    )


# --- the call log ---------------------------------------------------------------------------------


class CallIn(In):
    """A call on a customer's record. Logged calls are never changed: to correct one, log a new
    entry with `corrects_id`."""

    number: Phone | None = Field(
        default=None, description="The number dialled (or that called); default: the account's"
    )
    direction: CallDirection = CallDirection.outbound
    outcome: CallOutcome
    purpose: CallPurpose
    notes: Notes | None = None
    callback_id: uuid.UUID | None = Field(default=None, description="A callback of this customer")
    corrects_id: uuid.UUID | None = Field(
        default=None, description="An earlier entry of this customer's log that this one corrects"
    )
    called_at: AwareDatetime | None = Field(default=None, description="When; default: now")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "number": "+919812345678",
                    "outcome": "reached",
                    "purpose": "verification",
                    "notes": "Confirmed the address for Saturday's visit",
                }
            ]
        },
    )


class CallOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    number: str
    tel: str = Field(description="The number as a tel: link")
    direction: CallDirection
    outcome: CallOutcome
    purpose: CallPurpose
    notes: str | None
    callback_id: uuid.UUID | None
    corrects_id: uuid.UUID | None
    staff: StaffRef
    called_at: datetime
    created_at: datetime


class ClosedCallbackOut(AdminCallbackOut):
    call: CallOut | None = Field(description="The call logged as it closed, if one was")


# --- the inbox: handing a callback over, the calls made for it, its history -----------------------


class AssignIn(In):
    """Hand a waiting callback to a staff member (yourself included): theirs to call."""

    staff_id: uuid.UUID = Field(description="An active admin or support member")


class CallbackEventOut(BaseModel):
    """One step of a callback's history, in words, with who took it (by name)."""

    at: datetime
    kind: str = Field(description="asked, taken, assigned, call, closed or cancelled")
    text: str = Field(description="What happened, in words: `Called: no answer`")
    actor: str = Field(description="Who: the customer's or the staff member's name")
    notes: str | None = Field(default=None, description="The notes given with it (staff only)")
