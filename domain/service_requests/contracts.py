"""What crosses the Temporal boundary for a service request: ServiceRequestWorkflow's input, its
updates and answers, and the inputs of its activities. The API, the workflow and the activities
import from here (and never from each other).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from domain.contracts import Contract
from domain.service_requests.models import RequestStatus


def service_request_workflow_id(request_id: uuid.UUID) -> str:
    return f"service-request:{request_id}"


# The visit ledger's updates on SubscriptionWorkflow, by name (activities never import
# workflows/); tests/workflows/test_workflow_replay.py checks they are the workflow's own.
RESERVE_VISIT = "reserve_visit"
CONSUME_VISIT = "consume_visit"
RELEASE_VISIT = "release_visit"

FINAL = (RequestStatus.completed, RequestStatus.cancelled)
# Before work starts: the customer may still reschedule or cancel.
NOT_STARTED = (RequestStatus.pending, RequestStatus.assigned)


class RequestPolicy(Contract):
    escalate_after_seconds: int  # unassigned this long: escalated
    overdue_margin_seconds: int  # not completed by the window's end plus this: overdue
    rating_seconds: int  # how long after completion the customer may rate


class RequestInput(Contract):
    request_id: uuid.UUID
    user_id: uuid.UUID
    subscription_id: uuid.UUID
    category_id: uuid.UUID
    address_id: uuid.UUID | None
    address: dict[str, Any]
    postal_code: str
    description: str
    window_start: datetime
    window_end: datetime
    policy: RequestPolicy


class RequestState(Contract):
    request_id: uuid.UUID
    status: RequestStatus
    technician_id: uuid.UUID | None
    window_start: datetime
    window_end: datetime
    escalated: bool
    overdue: bool
    rated: bool


# --- updates ------------------------------------------------------------------------------------


class Suggested(Contract):
    """One technician as the suggestions showed them when the choice was made."""

    technician_id: uuid.UUID
    name: str
    eligible: bool
    score: float
    reasons: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


class Assign(Contract):
    technician_id: uuid.UUID
    actor: str  # "admin:<id>"
    # An assignment is made to a pending request; a reassignment to an assigned one. Saying
    # which makes a second admin's assign (who saw it pending) a refusal, not a silent swap.
    reassign: bool = False
    reason: str | None = None
    # What the API found about the technician for this request (eligible or the problems), so
    # the validator refuses a wrong choice at once; the booking activity checks it again, locked.
    fit: Suggested
    suggested: list[Suggested] = Field(default_factory=list)


class Start(Contract):
    actor: str
    technician_id: uuid.UUID | None = None  # set when a technician acts: must be the assigned one
    note: str | None = None  # why it starts before its window (staff only), for the timeline


class PartUsed(Contract):
    name: str
    quantity: int = 1
    amount_minor: int = 0


class Complete(Contract):
    actor: str
    technician_id: uuid.UUID | None = None
    notes: str | None = None
    parts_used: list[PartUsed] = Field(default_factory=list)


class Cancel(Contract):
    actor: str
    reason: str


class Reschedule(Contract):
    actor: str
    window_start: datetime
    window_end: datetime


class Rate(Contract):
    actor: str
    stars: int
    comment: str | None = None


# --- activities ---------------------------------------------------------------------------------


class Opened(Contract):
    request: RequestInput
    at: datetime


class VisitCall(Contract):
    subscription_id: uuid.UUID
    request_id: uuid.UUID
    category_id: uuid.UUID


class Change(Contract):
    """A change to the request, recorded in its row and timeline once per key, and announced."""

    request_id: uuid.UUID
    key: str  # `request:<id>:<step>`
    kind: str  # created, assigned, started, completed, cancelled, rescheduled, ...
    at: datetime
    actor: str
    from_status: RequestStatus | None
    to_status: RequestStatus | None
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    # The row's fields this change sets (status and the rest), by name.
    fields: dict[str, Any] = Field(default_factory=dict)


class Booking(Contract):
    request_id: uuid.UUID
    technician_id: uuid.UUID
    at: datetime
    actor: str
    reason: str | None
    suggested: list[Suggested]
    key: str  # the assignment's step: the dispatch log entry is written once per key


class BookingResult(Contract):
    booked: bool
    problem: str | None = None
    technician_name: str | None = None


class MoveBooking(Contract):
    request_id: uuid.UUID
    window_start: datetime
    window_end: datetime


class Notify(Contract):
    """Tell who should know about a step (`request:<id>:<step>:<recipient>` keys)."""

    request_id: uuid.UUID
    step: str
    kind: str
    at: datetime
    to_customer: bool = True
    to_technician: uuid.UUID | None = None
    to_admins: bool = False
    note: str | None = None
