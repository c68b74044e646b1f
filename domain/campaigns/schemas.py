"""Inputs and outputs of the admin campaigns API. Inputs forbid unknown fields; the title and
body are bounded (the body is an email's text and a push's first lines); the audience is one of
four kinds, each with only its own field. Whether its plan or category exists is the service's
check (a 422 naming the field)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from domain.campaigns.contracts import CampaignStatus, campaign_workflow_id

TITLE_MAX = 120
BODY_MAX = 2000
MAX_EXPIRING_DAYS = 365

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BODY_MAX)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllCustomers(In):
    kind: Literal["all"]


class PlanHolders(In):
    kind: Literal["plan"]
    plan_id: uuid.UUID = Field(description="Customers holding a live subscription of this plan")


class CategoryHolders(In):
    kind: Literal["category"]
    category_id: uuid.UUID = Field(
        description="Customers holding a live subscription whose plan covers this category"
    )


class Expiring(In):
    kind: Literal["expiring"]
    within_days: int = Field(
        ge=1,
        le=MAX_EXPIRING_DAYS,
        description="Customers with an active subscription ending within this many days",
    )


Audience = Annotated[
    AllCustomers | PlanHolders | CategoryHolders | Expiring, Field(discriminator="kind")
]


class CampaignIn(In):
    """A promotion to create (a draft: nobody is sent anything until it is started). Only active
    customers with a verified email or phone are in an audience; email and push go only to those
    who opted in to offers, the app's inbox to everyone who has not turned it off."""

    title: Title
    body: Body
    audience: Audience

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "20% off a plumbing plan this week",
                    "body": "Renew or buy before Sunday and pay 20% less.",
                    "audience": {"kind": "expiring", "within_days": 30},
                }
            ]
        },
    )


class AudienceIn(In):
    audience: Audience


class AudienceSize(BaseModel):
    size: int = Field(description="How many people the audience holds now")


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    body: str
    audience: Audience
    status: CampaignStatus
    total: int | None = Field(description="The frozen audience's size, once started")
    sent: int
    skipped: int = Field(description="People no longer active when their batch came")
    batches: int
    created_by: uuid.UUID | None
    started_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = Field(description="When the audience was frozen")
    paused_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    workflow_url: str | None = Field(
        default=None, description="Its workflow in the Temporal Web UI (set on every staff answer)"
    )

    @computed_field(description="Its CampaignWorkflow in the Temporal Web UI")  # type: ignore[prop-decorator]
    @property
    def workflow_id(self) -> str:
        return campaign_workflow_id(self.id)


class CampaignDetail(CampaignOut):
    percent: float = Field(description="Share of the frozen audience sent so far (0 before)")
