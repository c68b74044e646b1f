"""Inputs and outputs of the subscriptions API, for customers and staff.

Inputs forbid unknown fields; texts are bounded (NUL characters are refused for every route by
`api.boundary`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.actors import Actor
from domain.subscriptions.contracts import PeriodKind, SubscriptionStatus
from domain.types import Flag

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PlanRef(BaseModel):
    id: uuid.UUID
    version_id: uuid.UUID
    name: str


class CategoryVisits(BaseModel):
    category_id: uuid.UUID
    slug: str
    name: str
    allowed: int
    used: int = Field(description="Reserved for a service request or done, in this period")
    left: int


class Visits(BaseModel):
    allowed: int
    used: int
    left: int
    by_category: list[CategoryVisits]


class PeriodOut(Out):
    number: int
    kind: PeriodKind
    starts_at: datetime
    ends_at: datetime
    order_id: uuid.UUID | None


class MethodRef(Out):
    id: uuid.UUID
    provider: str
    kind: str
    brand: str | None
    last4: str | None


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    status: SubscriptionStatus
    plan: PlanRef
    address: str | None = Field(description="The address the visits are for, in one line")
    period: int
    starts_at: datetime
    ends_at: datetime
    grace_ends_at: datetime | None = Field(description="In grace: the last day to renew")
    renewed_until: datetime | None = Field(description="A renewal paid ahead runs until then")
    visits: Visits
    next_reminder_at: datetime | None
    next_charge_at: datetime | None = Field(description="When automatic renewal charges next")
    auto_renew: bool
    payment_method: MethodRef | None
    cancelled_at: datetime | None
    created_at: datetime


class EventOut(BaseModel):
    at: datetime
    actor: Actor = Field(description="Who did it, named for the reader (never an internal id)")
    kind: str
    period: int
    from_status: str | None
    to_status: str | None
    detail: str | None


class SubscriptionDetail(SubscriptionOut):
    periods: list[PeriodOut]
    history: list[EventOut] = Field(description="Every change and message, oldest first")


class AdminSubscriptionOut(SubscriptionOut):
    user_id: uuid.UUID
    order_id: uuid.UUID
    workflow_id: str = Field(description="Find it in the Temporal Web UI")
    workflow_url: str | None = Field(
        default=None, description="Its workflow in the Temporal Web UI (set on every staff answer)"
    )


class AdminSubscriptionDetail(SubscriptionDetail):
    user_id: uuid.UUID
    order_id: uuid.UUID
    workflow_id: str
    workflow_url: str | None = Field(
        default=None, description="Its workflow in the Temporal Web UI (set on every staff answer)"
    )


# --- requests -----------------------------------------------------------------------------------


class AutoRenewIn(In):
    enabled: Flag
    payment_method_id: uuid.UUID | None = Field(
        default=None,
        description="One of your saved methods; omitted: your default method for this provider",
    )


class CancelIn(In):
    quote_id: uuid.UUID = Field(description="From POST /subscriptions/{id}/cancellation-quote")
    reason: Reason | None = None


class AdminCancelIn(In):
    reason: Reason = Field(description="Why: shown to the customer in their plan's history")
    refund: Literal["policy", "none"] = Field(
        description="policy: the refund a customer would get now; none: no refund (say why)"
    )


class ExtendIn(In):
    days: int = Field(ge=1, le=366)
    reason: Reason = Field(description="Why: shown to the customer in their plan's history")


class QuoteOut(BaseModel):
    quote_id: uuid.UUID
    refund_minor: int
    currency: str
    why: str
    valid_until: datetime


class RefundRef(BaseModel):
    refund_id: uuid.UUID
    order_id: uuid.UUID
    amount_minor: int


class CancelOut(BaseModel):
    status: SubscriptionStatus
    refund_minor: int
    currency: str
    why: str
    refunds: list[RefundRef]
