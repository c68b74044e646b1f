"""Staff: promotion campaigns. Admins create one (a draft), see its message as customers will and
send it to themselves as a test, start it (its audience is frozen and CampaignWorkflow sends it
in batches), pause, resume or cancel it; support may read them. Every
admin action is in the audit log; starts are limited per admin per hour. Progress is read from
the database, which the workflow's activities keep current; `/progress` asks the workflow."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api import campaigns as lifecycle
from api.deps import (
    AdminUser,
    NowDep,
    OptionalIdempotencyKey,
    SessionDep,
    SettingsDep,
    StaffUser,
    TemporalDep,
)
from api.pagination import StaffPage
from api.problems import problems
from api.workflow_links import LinksDep, WorkflowLinks
from domain import workflow_facts
from domain.accounts.models import User
from domain.campaigns import audience as audiences
from domain.campaigns import preview
from domain.campaigns import service as campaigns
from domain.campaigns.contracts import (
    CampaignProgress,
    CampaignStatus,
    Move,
    TestSend,
    campaign_test_key,
    campaign_workflow_id,
)
from domain.campaigns.models import Campaign
from domain.campaigns.preview import MessagePreview, TestSendOut
from domain.campaigns.schemas import (
    AudienceIn,
    AudienceSize,
    CampaignDetail,
    CampaignIn,
    CampaignOut,
)
from domain.types import Page

router = APIRouter(prefix="/admin/campaigns", tags=["admin: campaigns"])

# Test ids made from the admin's Idempotency-Key, so a retried request finds its test send.
TEST_NAMESPACE = uuid.UUID("0b1f5a6e-3c2d-4e8f-9a7b-6c5d4e3f2a10")


def detail(campaign: Campaign, links: WorkflowLinks) -> CampaignDetail:
    out = CampaignOut.model_validate(campaign)
    total = campaign.total or 0
    return CampaignDetail(
        **out.model_dump(exclude={"workflow_id"}),
        percent=round(100.0 * campaign.sent / total, 1) if total else 0.0,
    ).model_copy(update={"workflow_url": links.url(campaign_workflow_id(campaign.id))})


@router.get("", response_model=Page[CampaignOut])
async def list_campaigns(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    links: LinksDep,
    campaign_status: Annotated[CampaignStatus | None, Query(alias="status")] = None,
) -> Page[CampaignOut]:
    """Campaigns, the newest first, with their progress."""
    rows, total = await campaigns.list_campaigns(
        db, status=campaign_status, limit=page.limit, offset=page.offset
    )
    return Page[CampaignOut](
        items=links.all([CampaignOut.model_validate(c) for c in rows]),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("", response_model=CampaignDetail, status_code=status.HTTP_201_CREATED)
async def create_campaign(
    body: CampaignIn, admin: AdminUser, db: SessionDep, links: LinksDep
) -> CampaignDetail:
    """Create a campaign (a draft: nobody is sent anything until it is started)."""
    campaign = await campaigns.create(db, data=body, admin=admin)
    await db.commit()
    return detail(await campaigns.get(db, campaign_id=campaign.id), links)


@router.post("/preview", response_model=AudienceSize)
async def preview_audience(
    body: AudienceIn, _staff: StaffUser, db: SessionDep, now: NowDep
) -> AudienceSize:
    """How many people an audience holds now (before creating or starting a campaign)."""
    await audiences.check(db, body.audience)
    return AudienceSize(size=await audiences.size(db, body.audience, now))


@router.get("/{campaign_id}", response_model=CampaignDetail, responses=problems(404))
async def read_campaign(
    campaign_id: uuid.UUID, _staff: StaffUser, db: SessionDep, links: LinksDep
) -> CampaignDetail:
    """One campaign with its progress (as its activities last wrote it)."""
    return detail(await campaigns.get(db, campaign_id=campaign_id), links)


@router.get("/{campaign_id}/audience", response_model=AudienceSize, responses=problems(404))
async def audience_size(
    campaign_id: uuid.UUID, _staff: StaffUser, db: SessionDep, now: NowDep
) -> AudienceSize:
    """The campaign's audience size: the frozen one once started, else as it is now."""
    campaign = await campaigns.get(db, campaign_id=campaign_id)
    if campaign.total is not None:
        return AudienceSize(size=campaign.total)
    return AudienceSize(size=await audiences.size(db, campaigns.audience_of(campaign), now))


@router.get("/{campaign_id}/message", response_model=MessagePreview, responses=problems(404))
async def message_preview(
    campaign_id: uuid.UUID, _staff: StaffUser, db: SessionDep, settings: SettingsDep
) -> MessagePreview:
    """The campaign's message as a customer sees it: the email (subject, text, its foot), the
    phone's notification, the app's inbox."""
    return preview.message(await campaigns.get(db, campaign_id=campaign_id), settings)


@router.post(
    "/{campaign_id}/test",
    response_model=TestSendOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(404, 429),
)
async def send_test(
    campaign_id: uuid.UUID,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    idempotency_key: OptionalIdempotencyKey = None,
) -> TestSendOut:
    """Send the campaign's message to yourself alone (your email, your devices, your inbox, as
    your own choices for staff messages allow): nobody else is sent anything. 202: it goes
    through the notification service; the answer says where it goes."""
    campaign = await campaigns.get(db, campaign_id=campaign_id)
    test_id = (
        uuid.uuid5(TEST_NAMESPACE, f"{campaign.id}:{admin.id}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    out = await preview.record_test(
        db,
        campaign=campaign,
        staff=admin,
        test_id=test_id,
        settings=settings,
        workflow_id=campaign_test_key(campaign.id, test_id),
    )
    await db.commit()
    await lifecycle.start_test(
        temporal,
        settings,
        TestSend(campaign_id=campaign.id, staff_id=admin.id, test_id=test_id),
        workflow_facts.campaign(campaign),
        workflow_facts.customer(admin),
    )
    return out


@router.get(
    "/{campaign_id}/progress",
    response_model=CampaignProgress,
    responses={
        **problems(404),
        409: {"description": "The campaign has not started: it has no workflow yet"},
    },
)
async def live_progress(
    campaign_id: uuid.UUID, _staff: StaffUser, db: SessionDep, temporal: TemporalDep
) -> CampaignProgress:
    """The live progress, asked of the campaign's workflow."""
    campaign = await campaigns.get(db, campaign_id=campaign_id)
    campaigns.check_started(campaign)
    return await lifecycle.progress(temporal, campaign.id)


@router.post(
    "/{campaign_id}/start",
    response_model=CampaignDetail,
    responses={
        **problems(404, 409),
        429: {"description": "You have started the most campaigns allowed in an hour"},
    },
)
async def start_campaign(
    campaign_id: uuid.UUID,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    links: LinksDep,
) -> CampaignDetail:
    """Start a draft: its audience is frozen now (people who join later are not in it) and it
    goes out in batches at the configured rate. Answers once the audience is frozen."""
    campaign = await campaigns.before_start(
        db, campaign_id=campaign_id, admin=admin, settings=settings
    )
    await db.commit()
    await lifecycle.start(temporal, settings, campaign.id, workflow_facts.campaign(campaign))
    return detail(await campaigns.get(db, campaign_id=campaign.id), links)


async def _move(
    db: SessionDep,
    temporal: TemporalDep,
    admin: User,
    campaign_id: uuid.UUID,
    which: Move,
    links: WorkflowLinks,
) -> CampaignDetail:
    campaign = await campaigns.get(db, campaign_id=campaign_id)
    campaigns.check_move(campaign, which)
    progress = await lifecycle.move(temporal, campaign.id, which, admin.id)
    campaigns.audit_move(db, campaign=campaign, move=which, admin=admin, after=progress.status)
    await db.commit()
    return detail(await campaigns.get(db, campaign_id=campaign.id), links)


@router.post("/{campaign_id}/pause", response_model=CampaignDetail, responses=problems(404, 409))
async def pause_campaign(
    campaign_id: uuid.UUID, admin: AdminUser, db: SessionDep, temporal: TemporalDep, links: LinksDep
) -> CampaignDetail:
    """Pause: the batch going out finishes, no other starts until resumed."""
    return await _move(db, temporal, admin, campaign_id, Move.pause, links)


@router.post("/{campaign_id}/resume", response_model=CampaignDetail, responses=problems(404, 409))
async def resume_campaign(
    campaign_id: uuid.UUID, admin: AdminUser, db: SessionDep, temporal: TemporalDep, links: LinksDep
) -> CampaignDetail:
    """Resume a paused campaign where it stopped."""
    return await _move(db, temporal, admin, campaign_id, Move.resume, links)


@router.post("/{campaign_id}/cancel", response_model=CampaignDetail, responses=problems(404, 409))
async def cancel_campaign(
    campaign_id: uuid.UUID, admin: AdminUser, db: SessionDep, temporal: TemporalDep, links: LinksDep
) -> CampaignDetail:
    """Cancel for good: the batch going out finishes, nobody else is sent it."""
    return await _move(db, temporal, admin, campaign_id, Move.cancel, links)
