"""Sending through the notifications domain, with the real sendgrid and firebase-admin SDKs posting
to local SendGrid and FCM servers (tests/support/fake_sendgrid.py, tests/support/fake_fcm.py).

What a customer notices: a visit update reaches their inbox, their mailbox and each of their phones;
what they turned off does not; offers come only when asked for, and the unsubscribe link in one
works once and cannot be made up; no push at night in their own time zone; a phone that was
reset stops being sent to; a provider's bad minute delays a message and never doubles it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from domain.accounts.models import User
from domain.notifications import devices, preferences
from domain.notifications.delivery import DeliveryDeferred
from domain.notifications.kinds import Channel, Topic, kind
from domain.notifications.models import Delivery, DeviceToken, Message
from domain.notifications.ports import Providers
from domain.notifications.service import Notifier, Recipient
from providers.notifications.fcm import FcmPush
from providers.notifications.outbox import OutboxSms
from providers.notifications.sendgrid import SendGridEmail
from tests.conftest import count_rows, make_settings
from tests.support.fake_fcm import FakeFcm
from tests.support.fake_sendgrid import FakeSendGrid

# 22:30 in Bengaluru (quiet by default: 22:00-07:00) and 08:30 there.
NIGHT = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
MORNING = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
PHONE_1 = "fcm-token-phone-one-0123456789:APA91b"
PHONE_2 = "fcm-token-phone-two-0123456789:APA91b"

VISIT = {
    "request_id": str(uuid.uuid4()),
    "category": "Plumbing",
    "window_start": datetime(2026, 12, 5, 4, 30, tzinfo=UTC),
    "window_end": datetime(2026, 12, 5, 6, 30, tzinfo=UTC),
    "address": "12 MG Road, Bengaluru",
    "technician": "Ravi",
    "note": None,
}
OFFER = {"campaign_id": str(uuid.uuid4()), "title": "20% off deep cleaning", "body": "This week."}


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as fake:
        yield fake


@pytest.fixture
def fcm() -> Iterator[FakeFcm]:
    with FakeFcm() as fake:
        yield fake


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def wired(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    sendgrid: FakeSendGrid,
    fcm: FakeFcm,
    db: AsyncSession,
) -> AsyncIterator[tuple[Notifier, Settings, Clock]]:
    """A notifier on the real SendGrid and FCM providers, pointed at the local servers."""
    settings = make_settings(
        database_url=database_url, notify_max_attempts=3, **sendgrid.settings(), **fcm.settings()
    )
    email = SendGridEmail(settings)
    push = FcmPush(settings, credential=fcm.credential())
    clock = Clock(MORNING)
    providers = Providers(email=email, push=push, sms=OutboxSms())
    yield Notifier(sessions, providers, settings, clock=clock), settings, clock
    email.close()
    push.close()


async def _person(db: AsyncSession, email: str | None, *tokens: str) -> Recipient:
    user = User(name="Asha", email=email, role="customer")
    db.add(user)
    await db.flush()
    for token in tokens:
        await devices.register(db, user_id=user.id, token=token, platform="android", now=MORNING)
    await db.commit()
    return Recipient(user.id, user.name, user.email)


async def _send(
    notifier: Notifier,
    kind_name: str,
    who: Recipient,
    facts: dict[str, Any],
    key: str,
    attempt: int = 1,
) -> None:
    ids, _ = await notifier.write(kind(kind_name), [who], key=key, facts=facts)
    await notifier.deliver(ids, attempt=attempt)


async def _deliveries(db: AsyncSession, who: Recipient) -> list[Delivery]:
    rows = (
        await db.execute(
            select(Delivery)
            .join(Message, Message.id == Delivery.message_id)
            .where(Message.user_id == who.id)
            .order_by(Delivery.created_at, Delivery.channel, Delivery.destination)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    out = list(rows.all())
    await db.commit()
    return out


async def test_a_visit_update_reaches_the_inbox_the_mailbox_and_each_phone(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, sendgrid: FakeSendGrid, fcm: FakeFcm
) -> None:
    notifier, _, _ = wired
    asha = await _person(db, "asha@example.com", PHONE_1, PHONE_2)
    await _send(notifier, "request.assigned", asha, VISIT, "request:1:2:assigned")

    (mail,) = sendgrid.mails_to("asha@example.com")
    assert mail["subject"] == "Ravi will come for your Plumbing visit"
    text, html = (c["value"] for c in mail["content"])
    # Times in her zone (IST), in both parts; the HTML is the layout around it.
    assert "Ravi will come on Sat 5 Dec, 10:00\u201312:00 IST." in text
    assert "Sat 5 Dec, 10:00" in html and "<h1" in html
    assert mail["categories"] == ["service_updates"]
    assert "List-Unsubscribe" not in (mail.get("headers") or {})
    pushed = {m["token"]: m for m in fcm.messages}
    assert set(pushed) == {PHONE_1, PHONE_2}
    assert pushed[PHONE_1]["notification"]["title"] == "Ravi will come for your Plumbing visit"
    assert pushed[PHONE_1]["data"]["request_id"] == VISIT["request_id"]
    assert pushed[PHONE_1]["data"]["kind"] == "request.assigned"

    sent = await _deliveries(db, asha)
    assert {(d.channel, d.status) for d in sent} == {("email", "sent"), ("push", "sent")}
    assert all(d.provider_message_id for d in sent)
    (message,) = (await db.execute(select(Message).where(Message.user_id == asha.id))).scalars()
    assert message.in_inbox and message.read_at is None
    await db.commit()

    # Written and handed over once, however often the step is run again.
    await _send(notifier, "request.assigned", asha, VISIT, "request:1:2:assigned")
    assert len(sendgrid.mails) == 1 and len(fcm.messages) == 2
    assert await count_rows(db, Message, Message.user_id == asha.id) == 1


async def test_what_a_customer_turned_off_does_not_come_but_the_inbox_keeps_it(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, sendgrid: FakeSendGrid, fcm: FakeFcm
) -> None:
    notifier, settings, _ = wired
    asha = await _person(db, "asha@example.com", PHONE_1)
    await preferences.update(
        db, asha.id, settings, channels={Topic.service_updates: {Channel.email: False}}
    )
    await db.commit()
    await _send(notifier, "request.started", asha, VISIT, "request:1:3:started")
    assert sendgrid.mails == []
    assert [m["token"] for m in fcm.messages] == [PHONE_1]
    assert (
        await count_rows(db, Message, Message.user_id == asha.id, Message.in_inbox.is_(True)) == 1
    )


async def test_offers_come_only_to_those_who_asked_and_the_link_unsubscribes_once(
    wired: tuple[Notifier, Settings, Clock],
    db: AsyncSession,
    sendgrid: FakeSendGrid,
    fcm: FakeFcm,
    api: httpx.AsyncClient,
) -> None:
    notifier, settings, _ = wired
    asha = await _person(db, "asha@example.com", PHONE_1)
    await _send(notifier, "campaign.promotion", asha, OFFER, "campaign:1")
    # Not asked for: in the app's inbox only.
    assert sendgrid.mails == [] and fcm.messages == []
    assert (
        await count_rows(db, Message, Message.user_id == asha.id, Message.in_inbox.is_(True)) == 1
    )

    await preferences.update(
        db, asha.id, settings, channels={Topic.promotions: {Channel.email: True}}
    )
    await db.commit()
    await _send(notifier, "campaign.promotion", asha, OFFER, "campaign:2")
    (mail,) = sendgrid.mails
    link = mail["headers"]["List-Unsubscribe"].strip("<>")
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = mail["content"][1]["value"]
    assert "/api/v1/unsubscribe?token=" in html and "Unsubscribe from offers by email" in html
    assert fcm.messages == []  # push is still off

    path = link.split("/api/v1", 1)[1]
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await api.post(forged)).status_code == 400
    page = await api.get(path)
    assert page.status_code == 200 and "<form method=post" in page.text
    assert (await preferences.load(db, [asha.id], settings))[asha.id].wants(
        Topic.promotions, Channel.email
    ), "opening the page (a link scanner) unsubscribes no one"
    done = await api.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    again = await api.post(path)
    assert again.status_code == 410 and "used already" in again.text
    assert not (await preferences.load(db, [asha.id], settings))[asha.id].wants(
        Topic.promotions, Channel.email
    )
    await db.commit()

    await _send(notifier, "campaign.promotion", asha, OFFER, "campaign:3")
    assert len(sendgrid.mails) == 1


async def test_a_link_signed_with_another_key_is_refused(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, api: httpx.AsyncClient
) -> None:
    from domain.notifications import unsubscribe

    asha = await _person(db, "asha@example.com")
    other = make_settings(jwt_secret="another-secret-of-at-least-thirty-two-characters")
    link = unsubscribe.link(
        other,
        message_id=uuid.uuid4(),
        user_id=asha.id,
        topic=Topic.promotions,
        channel=Channel.email,
        now=datetime.now(UTC),
    )
    answer = await api.post("/unsubscribe?" + link.split("?", 1)[1])
    assert answer.status_code == 400 and "not one we sent" in answer.text


async def test_no_push_during_quiet_hours_in_the_customers_own_time_zone(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, sendgrid: FakeSendGrid, fcm: FakeFcm
) -> None:
    notifier, settings, clock = wired
    asha = await _person(db, "asha@example.com", PHONE_1)
    clock.at = NIGHT  # 22:30 in Bengaluru
    await _send(notifier, "request.rescheduled", asha, VISIT, "request:1:4:rescheduled")
    assert fcm.messages == []
    assert len(sendgrid.mails) == 1  # email is not held: it does not ring
    (push,) = [d for d in await _deliveries(db, asha) if d.channel == "push"]
    assert push.status == "suppressed" and "quiet hours 22:00-07:00 (Asia/Kolkata)" in (
        push.reason or ""
    )

    # The same moment is the afternoon in London: her phone rings there.
    await preferences.update(db, asha.id, settings, time_zone="Europe/London")
    await db.commit()
    await _send(notifier, "request.rescheduled", asha, VISIT, "request:1:5:rescheduled")
    assert [m["token"] for m in fcm.messages] == [PHONE_1]


async def test_a_phone_fcm_no_longer_knows_is_forgotten(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, fcm: FakeFcm
) -> None:
    notifier, _, _ = wired
    asha = await _person(db, "asha@example.com", PHONE_1, PHONE_2)
    fcm.fail_with(PHONE_1, "UNREGISTERED")
    await _send(notifier, "request.completed", asha, VISIT, "request:1:6:completed")
    by_token = {d.destination: d for d in await _deliveries(db, asha) if d.channel == "push"}
    assert by_token[PHONE_1].status == "failed"
    assert "unregistered" in (by_token[PHONE_1].reason or "")
    assert by_token[PHONE_2].status == "sent"
    tokens = (
        await db.execute(select(DeviceToken.token).where(DeviceToken.user_id == asha.id))
    ).scalars()
    assert list(tokens) == [PHONE_2]
    await db.commit()

    fcm.reset()
    await _send(notifier, "request.cancelled", asha, VISIT, "request:1:7:cancelled")
    assert [m["token"] for m in fcm.messages] == [PHONE_2]


async def test_a_passing_failure_is_tried_again_without_sending_twice(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, sendgrid: FakeSendGrid, fcm: FakeFcm
) -> None:
    notifier, _, _ = wired
    asha = await _person(db, "asha@example.com", PHONE_1)
    sendgrid.respond_for("asha@example.com", 429, {"errors": [{"message": "too many"}]}, times=1)
    ids, _ = await notifier.write(
        kind("order.receipt"),
        [asha],
        key="order:1:receipt",
        facts={
            "order_id": str(uuid.uuid4()),
            "receipt_number": "HP-2026-000001",
            "total_minor": 149900,
            "currency": "INR",
            "receipt_url": "http://test/receipt",
        },
    )
    with pytest.raises(DeliveryDeferred):
        await notifier.deliver(ids, attempt=1)
    email = next(d for d in await _deliveries(db, asha) if d.channel == "email")
    assert (email.status, email.attempts) == ("retrying", 1)
    assert len(fcm.messages) == 1  # the push went at once

    await notifier.deliver(ids, attempt=2)  # the activity's retry
    assert len(sendgrid.mails_to("asha@example.com")) == 1
    assert len(fcm.messages) == 1, "what went is not sent again"
    assert {d.status for d in await _deliveries(db, asha)} == {"sent"}


async def test_a_permanent_failure_is_recorded_and_never_retried(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, sendgrid: FakeSendGrid
) -> None:
    from tests.support.fake_sendgrid import bad_request

    notifier, _, _ = wired
    asha = await _person(db, "asha@example.com")
    sendgrid.respond_for(
        "asha@example.com",
        400,
        bad_request("personalizations.0.to", "Does not contain a valid address."),
    )
    await _send(notifier, "request.received", asha, VISIT, "request:1:1:received")
    (email,) = await _deliveries(db, asha)
    assert email.status == "failed" and "valid address" in (email.reason or "")
    posted = len(sendgrid.requests)
    await _send(notifier, "request.received", asha, VISIT, "request:1:1:received", attempt=2)
    assert len(sendgrid.requests) == posted


async def test_a_provider_down_for_good_is_given_up_at_the_last_attempt(
    wired: tuple[Notifier, Settings, Clock], db: AsyncSession, sendgrid: FakeSendGrid
) -> None:
    notifier, _, _ = wired  # NOTIFY_MAX_ATTEMPTS=3
    asha = await _person(db, "asha@example.com")
    sendgrid.respond_for("asha@example.com", 503, {"errors": [{"message": "down"}]})
    ids, _ = await notifier.write(
        kind("request.received"), [asha], key="request:1:1:received", facts=VISIT
    )
    for attempt in (1, 2):
        with pytest.raises(DeliveryDeferred):
            await notifier.deliver(ids, attempt=attempt)
    await notifier.deliver(ids, attempt=3)  # completes: the workflow is not held up for ever
    (email,) = await _deliveries(db, asha)
    assert email.status == "failed" and email.attempts == 3
    assert (email.reason or "").startswith("gave up after 3 attempts")
