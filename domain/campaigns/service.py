"""Campaigns: create (a draft), list, read, the checks before a start (its rules and the starts
throttle), and what the workflow's activities write: the frozen audience, each batch's progress,
each change of status with its time.

Keyword-only functions, the caller commits. Every admin action is added to the audit log in the
caller's transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from core.settings import Settings
from domain.accounts import throttle
from domain.accounts.models import User
from domain.audit import service as audit
from domain.campaigns import audience as audiences
from domain.campaigns.contracts import FINAL, CampaignStatus, Move, refusal
from domain.campaigns.models import Campaign
from domain.campaigns.schemas import Audience, CampaignIn

AUDIENCE: TypeAdapter[Audience] = TypeAdapter(Audience)


def audience_of(campaign: Campaign) -> Audience:
    return AUDIENCE.validate_python(campaign.audience)


def starts_limit(settings: Settings) -> throttle.Limit:
    """Campaigns one admin may start in an hour: each reaches thousands of people."""
    return throttle.Limit(
        "campaign:start:admin",
        settings.campaign_starts_per_hour,
        timedelta(hours=1),
        "you have started the most campaigns allowed in an hour",
    )


def _summary(campaign: Campaign) -> dict[str, Any]:
    return {"status": campaign.status, "sent": campaign.sent, "total": campaign.total}


# --- the admin's side ---------------------------------------------------------------------------


async def create(db: AsyncSession, *, data: CampaignIn, admin: User) -> Campaign:
    """A draft campaign (its plan or category checked to exist)."""
    await audiences.check(db, data.audience)
    campaign = Campaign(
        id=uuid.uuid4(),
        title=data.title,
        body=data.body,
        audience=data.audience.model_dump(mode="json"),
        status=CampaignStatus.draft.value,
        created_by=admin.id,
    )
    db.add(campaign)
    await db.flush()
    audit.record(
        db,
        actor_id=admin.id,
        action="campaign.create",
        entity_type="campaign",
        entity_id=campaign.id,
        after={"title": campaign.title, "audience": campaign.audience},
    )
    return campaign


async def get(db: AsyncSession, *, campaign_id: uuid.UUID, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        query = query.with_for_update()
    campaign = await db.scalar(query.execution_options(populate_existing=True))
    if campaign is None:
        raise NotFound("no such campaign")
    return campaign


async def list_campaigns(
    db: AsyncSession, *, status: CampaignStatus | None, limit: int, offset: int
) -> tuple[list[Campaign], int]:
    """Campaigns, the newest first, and the total."""
    query = select(Campaign)
    if status is not None:
        query = query.where(Campaign.status == status.value)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    rows = await db.scalars(
        query.order_by(Campaign.created_at.desc(), Campaign.id).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def before_start(
    db: AsyncSession, *, campaign_id: uuid.UUID, admin: User, settings: Settings
) -> Campaign:
    """Check a start (a draft; the admin's starts this hour), count it and audit it. Conflict,
    TooManyRequests."""
    campaign = await get(db, campaign_id=campaign_id, lock=True)
    problem = refusal(Move.start, CampaignStatus(campaign.status))
    if problem is not None:
        raise Conflict(problem)
    await throttle.spend(db, [starts_limit(settings).on(str(admin.id))])
    campaign.started_by = admin.id
    audit.record(
        db,
        actor_id=admin.id,
        action="campaign.start",
        entity_type="campaign",
        entity_id=campaign.id,
        before=_summary(campaign),
        after={"status": CampaignStatus.running.value},
    )
    return campaign


def check_move(campaign: Campaign, move: Move) -> None:
    """Conflict with the reason when the campaign's recorded status refuses `move` (a draft, or
    one whose workflow has ended); a live one is asked by its workflow's validator."""
    status = CampaignStatus(campaign.status)
    if status == CampaignStatus.draft or status in FINAL:
        problem = refusal(move, status)
        if problem is not None:
            raise Conflict(problem)


def check_started(campaign: Campaign) -> None:
    if campaign.status == CampaignStatus.draft.value:
        raise Conflict("this campaign has not started: it has no progress yet")


def audit_move(
    db: AsyncSession, *, campaign: Campaign, move: Move, admin: User, after: str
) -> None:
    audit.record(
        db,
        actor_id=admin.id,
        action=f"campaign.{move.value}",
        entity_type="campaign",
        entity_id=campaign.id,
        before=_summary(campaign),
        after={"status": after},
    )


# --- what the workflow's activities write -------------------------------------------------------


async def freeze(db: AsyncSession, *, campaign_id: uuid.UUID, now: datetime) -> Campaign:
    """Freeze the audience once (again: the campaign as it was frozen) and mark it running."""
    campaign = await get(db, campaign_id=campaign_id, lock=True)
    if campaign.started_at is not None:
        return campaign
    total = await audiences.freeze(db, campaign, audience_of(campaign), now)
    campaign.total = total
    campaign.started_at = now
    if campaign.status == CampaignStatus.draft.value:
        campaign.status = CampaignStatus.running.value
    await db.flush()
    return campaign


async def record_progress(
    db: AsyncSession, *, campaign_id: uuid.UUID, sent: int, skipped: int, batches: int
) -> None:
    """The progress after a batch; never moves back (a retried batch writes the same figures)."""
    await db.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(
            sent=func.greatest(Campaign.sent, sent),
            skipped=func.greatest(Campaign.skipped, skipped),
            batches=func.greatest(Campaign.batches, batches),
        )
    )


async def record_status(
    db: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    status: CampaignStatus,
    now: datetime,
) -> None:
    """The campaign's new status and when it began; a campaign that ended stays ended."""
    values: dict[str, Any] = {"status": status.value}
    stamp = {
        CampaignStatus.paused: "paused_at",
        CampaignStatus.cancelled: "cancelled_at",
        CampaignStatus.completed: "completed_at",
    }.get(status)
    if stamp is not None:
        values[stamp] = now
    await db.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status.not_in([s.value for s in FINAL]),
            Campaign.started_at.is_not(None),
        )
        .values(**values)
    )
