"""What a campaign says before anyone is sent it: its message as a customer sees it (the email,
the phone's notification, the app's inbox: the template every campaign message is made from),
and a test send to the admin who asks, alone (recorded in the audit log; the message goes
through the one send activity, started by the API as `CampaignTestWorkflow`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.accounts import throttle
from domain.accounts.models import User
from domain.audit import service as audit
from domain.campaigns.contracts import KIND, TEST_KIND
from domain.campaigns.models import Campaign
from domain.notifications import devices, preferences
from domain.notifications.kinds import Channel, kind
from domain.notifications.render import render

# What the foot of an offer's email says to a customer who asked for offers by email.
EMAIL_FOOT = [
    "You get offers by email because you asked for them in the app.",
    "Unsubscribe from offers by email",
]


class MessagePreview(BaseModel):
    """A campaign's message as its customers get it (where their choices send it)."""

    subject: str = Field(description="The email's subject and the inbox item's title")
    paragraphs: list[str] = Field(description="The message's text, paragraph by paragraph")
    email_foot: list[str] = Field(description="The email's foot: why they get it, unsubscribing")
    push_title: str = Field(description="The phone notification's title")
    push_body: str = Field(description="The phone notification's text (cut to fit)")


class TestSendOut(BaseModel):
    """Where the test goes: the admin's own account, by the channels their choices allow."""

    to: str = Field(description="Who it goes to: your name, or your email")
    email: str | None = Field(description="Your email address, when it goes by email")
    channels: list[str] = Field(description="email, push and in_app: where it goes")
    workflow_id: str


def message(campaign: Campaign, settings: Settings) -> MessagePreview:
    """The campaign's message, rendered as the send renders it for a customer."""
    facts = {
        "campaign_id": str(campaign.id),
        "title": campaign.title,
        "body": campaign.body,
        "tz": ZoneInfo(settings.default_time_zone),
        "name": None,
        "unsubscribe_url": None,
        "reason": None,
    }
    rendered = render(KIND, facts)
    return MessagePreview(
        subject=rendered.subject,
        paragraphs=rendered.text.split("\n\n"),
        email_foot=EMAIL_FOOT,
        push_title=rendered.push_title,
        push_body=rendered.push_body,
    )


async def channels_of(db: AsyncSession, *, staff: User, settings: Settings) -> list[Channel]:
    """Where a test reaches `staff`: their own choices for staff messages, their devices."""
    topic = kind(TEST_KIND).topic
    choices = (await preferences.load(db, [staff.id], settings))[staff.id]
    tokens = (await devices.tokens_of(db, [staff.id])).get(staff.id, [])
    wanted = [
        (Channel.email, bool(staff.email)),
        (Channel.push, bool(tokens)),
        (Channel.in_app, True),
    ]
    return [c for c, possible in wanted if possible and choices.wants(topic, c)]


# A test send reaches only the admin, but each is an email and a push paid for: a few an hour.
TEST_SENDS = throttle.Limit(
    "campaign:test:staff",
    10,
    timedelta(hours=1),
    "you have sent the most test messages allowed in an hour",
)


async def record_test(
    db: AsyncSession,
    *,
    campaign: Campaign,
    staff: User,
    test_id: uuid.UUID,
    settings: Settings,
    workflow_id: str,
) -> TestSendOut:
    """Count and audit a test send of `campaign` to `staff` (the caller commits, then starts it).
    TooManyRequests past TEST_SENDS."""
    await throttle.spend(db, [TEST_SENDS.on(str(staff.id))])
    channels = await channels_of(db, staff=staff, settings=settings)
    email = staff.email if Channel.email in channels else None
    audit.record(
        db,
        actor_id=staff.id,
        action="campaign.test_send",
        entity_type="campaign",
        entity_id=campaign.id,
        after={
            "test_id": str(test_id),
            "to": staff.email or staff.phone,
            "channels": [c.value for c in channels],
        },
    )
    return TestSendOut(
        to=staff.name or staff.email or "you",
        email=email,
        channels=[c.value for c in channels],
        workflow_id=workflow_id,
    )
