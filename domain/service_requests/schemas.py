"""Inputs and outputs of the service-request API, for customers, technicians and staff. Inputs
forbid unknown fields; texts are bounded (NUL characters are refused for every route)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from domain.actors import Actor
from domain.numbers import RequestNumber
from domain.service_requests.models import RequestStatus

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestIn(In):
    subscription_id: uuid.UUID = Field(description="One of your plans that covers this visit")
    category_id: uuid.UUID = Field(description="What the visit is for (a category of the plan)")
    address_id: uuid.UUID | None = Field(
        default=None, description="One of your addresses; omitted: the plan's address"
    )
    description: Note = Field(description="What needs doing")
    window_start: AwareDatetime = Field(description="When the visit may start, with its offset")
    window_end: AwareDatetime

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subscription_id": "5b2c6a1e-0f7d-4b8a-9b66-0d1f7c3e2a11",
                    "category_id": "0d3c0b8e-6a0e-4c55-8d0c-4c9b1f7b9e21",
                    "description": "The kitchen tap drips all night.",
                    "window_start": "2026-12-05T10:00:00+05:30",
                    "window_end": "2026-12-05T13:00:00+05:30",
                }
            ]
        },
    )


class RescheduleIn(In):
    window_start: AwareDatetime
    window_end: AwareDatetime


class CancelIn(In):
    reason: Reason | None = None


class RatingIn(In):
    stars: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class PartIn(In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    quantity: int = Field(default=1, ge=1, le=1000)
    amount_minor: int = Field(default=0, ge=0, le=100_000_000)


class CompleteIn(In):
    notes: Note | None = None
    parts_used: list[PartIn] = Field(default_factory=list, max_length=50)


class AssignIn(In):
    technician_id: uuid.UUID
    reason: Reason | None = Field(default=None, description="Why this technician (dispatch log)")


class AdminCancelIn(In):
    reason: Reason


class AdminStartIn(In):
    early_reason: Reason | None = Field(
        default=None,
        description="Why it starts before its window allows (JOB_START_EARLY_MINUTES); audited",
    )


# --- outputs ------------------------------------------------------------------------------------


class CategoryRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class TechnicianRef(BaseModel):
    id: uuid.UUID
    name: str
    phone: str | None = Field(description="To call them about the visit")


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: Actor = Field(description="Who did it, named for the reader (never an internal id)")
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None


class RequestOut(BaseModel):
    id: uuid.UUID
    number: RequestNumber
    status: RequestStatus
    subscription_id: uuid.UUID
    category: CategoryRef
    address: str
    postal_code: str
    description: str
    window_start: datetime
    window_end: datetime
    technician: TechnicianRef | None
    escalated: bool
    overdue: bool
    completion_notes: str | None
    parts_used: list[dict[str, Any]]
    rating: int | None
    rating_comment: str | None
    created_at: datetime
    updated_at: datetime


class RequestDetail(RequestOut):
    timeline: list[EventOut] = Field(description="Every change, oldest first (same for staff)")


class CustomerContact(BaseModel):
    """Whom the technician going to a visit calls: no more than a name and a phone."""

    name: str | None
    phone: str | None = Field(description="Null when the customer gave no phone number")


class JobOut(RequestOut):
    """A visit as its technician sees it: the request, and how to reach its customer."""

    customer: CustomerContact | None = Field(
        description=(
            "The customer's name and phone while the visit is yours and still to be done "
            "(assigned or in progress); null once it is completed or cancelled"
        )
    )


class JobDetail(JobOut):
    timeline: list[EventOut] = Field(description="Every change, oldest first (same for staff)")


class CustomerRef(BaseModel):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None


class DispatchOut(BaseModel):
    at: datetime
    actor: Actor = Field(description="The staff member who chose")
    technician_id: uuid.UUID
    technician_name: str | None = Field(description="Whom they chose, by name")
    reason: str | None
    suggested: list[dict[str, Any]]


class AdminRequestOut(RequestOut):
    customer: CustomerRef
    workflow_id: str = Field(description="Find it in the Temporal Web UI")
    workflow_url: str | None = Field(
        default=None, description="Its workflow in the Temporal Web UI (set on every staff answer)"
    )


class AdminRequestDetail(AdminRequestOut):
    timeline: list[EventOut]
    dispatch_log: list[DispatchOut]
    subscription_status: str
    subscription_ends_at: datetime
