"""The app's side of messages: the inbox, devices for push, and what a user chooses to receive;
each private to its owner."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from domain.notifications.kinds import kind
from domain.notifications.models import Message
from domain.notifications.service import Recipient
from tests.conftest import outbox_notifier, rows_become
from tests.support.catalog_helpers import make_admin
from tests.support.orders_helpers import customer

OFFER = {"campaign_id": str(uuid.uuid4()), "title": "20% off", "body": "This week only."}
TOKEN = "fcm-token-of-ashas-phone-0123456789:APA91b"


async def _tell(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, who: uuid.UUID, key: str
) -> None:
    notifier = outbox_notifier(sessions, settings)
    ids, _ = await notifier.write(
        kind("campaign.promotion"), [Recipient(who, None, None)], key=key, facts=OFFER
    )
    await notifier.deliver(ids)


async def test_the_inbox_lists_counts_and_marks_read_only_ones_own_messages(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    asha = await customer(api, "asha@example.com")
    ravi = await customer(api, "ravi@example.com")
    for n in range(3):
        await _tell(sessions, settings, asha.id, f"campaign:{n}")

    page = (await api.get("/me/notifications?limit=2", headers=asha.headers)).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert page["items"][0]["subject"] == "20% off"
    assert page["items"][0]["data"] == {"campaign_id": OFFER["campaign_id"]}
    assert (await api.get("/me/notifications/unread-count", headers=asha.headers)).json() == {
        "unread": 3
    }
    assert (await api.get("/me/notifications", headers=ravi.headers)).json()["total"] == 0

    first = page["items"][0]["id"]
    # Another customer cannot read or mark it: the same 404 as a message that does not exist.
    theirs = await api.post(f"/me/notifications/{first}/read", headers=ravi.headers)
    assert theirs.status_code == 404
    assert theirs.headers["content-type"] == "application/problem+json"
    read = await api.post(f"/me/notifications/{first}/read", headers=asha.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = (await api.get("/me/notifications?unread=true", headers=asha.headers)).json()
    assert unread["total"] == 2 and first not in [i["id"] for i in unread["items"]]
    assert (await api.post("/me/notifications/read-all", headers=asha.headers)).json() == {
        "marked": 2
    }
    assert (await api.get("/me/notifications/unread-count", headers=asha.headers)).json() == {
        "unread": 0
    }
    assert (await api.get("/me/notifications")).status_code == 401


async def test_a_device_is_registered_once_moved_with_its_phone_and_removed_by_its_owner(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    asha = await customer(api, "asha@example.com")
    ravi = await customer(api, "ravi@example.com")
    body = {"token": TOKEN, "platform": "android"}
    first = await api.put("/me/devices", json=body, headers=asha.headers)
    assert first.status_code == 201
    assert (await api.put("/me/devices", json=body, headers=asha.headers)).status_code == 200
    assert [d["token"] for d in (await api.get("/me/devices", headers=asha.headers)).json()] == [
        TOKEN
    ]
    # Ravi cannot remove Asha's phone ...
    assert (await api.delete(f"/me/devices/{TOKEN}", headers=ravi.headers)).status_code == 404
    assert len((await api.get("/me/devices", headers=asha.headers)).json()) == 1
    # ... but signing in on it as Ravi makes it his alone: Asha's pushes stop going there.
    assert (await api.put("/me/devices", json=body, headers=ravi.headers)).status_code == 201
    assert (await api.get("/me/devices", headers=asha.headers)).json() == []
    assert (await api.delete(f"/me/devices/{TOKEN}", headers=ravi.headers)).status_code == 204
    assert (await api.get("/me/devices", headers=ravi.headers)).json() == []

    bad = await api.put(
        "/me/devices",
        json={"token": "has spaces in it", "platform": "android"},
        headers=asha.headers,
    )
    assert bad.status_code == 422


async def test_choices_default_to_no_offers_and_keep_transactional_ones_in_the_inbox(
    api: httpx.AsyncClient,
) -> None:
    asha = await customer(api, "asha@example.com")
    mine = (await api.get("/me/notification-settings", headers=asha.headers)).json()
    topics: dict[str, Any] = {t["topic"]: t for t in mine["topics"]}
    assert mine["time_zone"] == "Asia/Kolkata"
    assert mine["quiet_hours"] == {"starts": "22:00:00", "ends": "07:00:00"}
    assert (topics["promotions"]["email"], topics["promotions"]["push"]) == (False, False)
    assert topics["service_updates"] == {
        "topic": "service_updates",
        "label": "Service updates",
        "transactional": True,
        "email": True,
        "push": True,
        "in_app": True,
    }

    changed = await api.patch(
        "/me/notification-settings",
        json={
            "time_zone": "Europe/London",
            "quiet_hours": None,
            "topics": {"promotions": {"email": True}, "plan_reminders": {"push": False}},
        },
        headers=asha.headers,
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    topics = {t["topic"]: t for t in after["topics"]}
    assert after["time_zone"] == "Europe/London" and after["quiet_hours"] is None
    assert topics["promotions"]["email"] is True and topics["plan_reminders"]["push"] is False

    refused = await api.patch(
        "/me/notification-settings",
        json={"topics": {"service_updates": {"in_app": False}}},
        headers=asha.headers,
    )
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == "topics.service_updates.in_app"
    assert "always reach your inbox" in error["message"]
    for wrong in (
        {"time_zone": "Mars/Olympus"},
        {"quiet_hours": {"starts": "22:00", "ends": "22:00"}},
        {"topics": {"security": {"email": False}}},
    ):
        answer = await api.patch("/me/notification-settings", json=wrong, headers=asha.headers)
        assert answer.status_code == 422, (wrong, answer.text)
    # Nothing of the refused changes stuck.
    assert (await api.get("/me/notification-settings", headers=asha.headers)).json() == after


async def test_staff_see_what_a_customer_was_sent_but_never_a_codes_words(
    api: httpx.AsyncClient,
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    asha = await customer(api, "asha@example.com")  # signing up sent her a verification code
    await _tell(sessions, settings, asha.id, "campaign:1")
    admin = await make_admin(api, db)
    seen = await rows_become(db, 2, Message, Message.user_id == asha.id)
    assert seen == 2
    sent = (await api.get(f"/admin/users/{asha.id}/notifications", headers=admin)).json()
    by_kind = {m["kind"]: m for m in sent["items"]}
    code = by_kind["account.verification_code"]
    assert code["text"] is None
    assert [(d["channel"], d["destination"], d["status"]) for d in code["deliveries"]] == [
        ("email", "asha@example.com", "delivered")
    ]
    assert by_kind["campaign.promotion"]["text"] == "This week only."
    assert by_kind["campaign.promotion"]["deliveries"] == []  # offers: the inbox only
    assert (
        await api.get(f"/admin/users/{asha.id}/notifications", headers=asha.headers)
    ).status_code == 403
    assert (
        await api.get(f"/admin/users/{uuid.uuid4()}/notifications", headers=admin)
    ).status_code == 404
