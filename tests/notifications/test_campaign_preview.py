"""Before a campaign starts: how many it reaches (the number its start confirmation states), its
message as a customer sees it, and a test send to the admin alone, through the notification
service like any message and in the audit log. Nobody else is sent anything; support staff read
the preview but do not send; customers reach none of it."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.audit.models import AuditEntry
from domain.campaigns.preview import TEST_SENDS
from domain.notifications.models import Delivery, Message
from tests.conftest import bearer, register
from tests.support.admin_helpers import account
from tests.support.campaign_helpers import messages_per_user, seed_customers
from tests.support.catalog_helpers import make_admin
from tests.support.waiting import eventually

OFFER = {
    "title": "20% off plumbing this week",
    "body": "Renew before Sunday and pay 20% less.\n\nThe offer ends on Sunday at midnight.",
    "audience": {"kind": "all"},
}


async def _sent_to(db: AsyncSession) -> list[tuple[str, str, str, str | None]]:
    """(subject, key, channel, destination) of every delivery of a campaign's message."""
    rows = await db.execute(
        select(Message.subject, Message.key, Delivery.channel, Delivery.destination)
        .join(Delivery, Delivery.message_id == Message.id)
        .where(Message.key.like("campaign:%"))
        .order_by(Delivery.channel)
    )
    out = [tuple(r) for r in rows]
    await db.commit()
    return out  # type: ignore[return-value]


async def test_a_draft_states_its_audience_shows_its_message_and_sends_a_test_to_the_admin_alone(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await db.execute(update(User).where(User.email == "admin@example.com").values(name="Meera"))
    await db.commit()
    admin_id = await db.scalar(select(User.id).where(User.email == "admin@example.com"))
    await db.commit()
    await seed_customers(db, 12, opt_in_email=True)
    created = await api.post("/admin/campaigns", json=OFFER, headers=admin)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]

    # The number a start confirmation states: who is in the audience now.
    size = await api.get(f"/admin/campaigns/{cid}/audience", headers=admin)
    assert size.json() == {"size": 12}

    # The message as a customer sees it: the email, the phone's notification, the inbox.
    shown = (await api.get(f"/admin/campaigns/{cid}/message", headers=admin)).json()
    assert shown["subject"] == "20% off plumbing this week"
    assert shown["paragraphs"] == [
        "Renew before Sunday and pay 20% less.",
        "The offer ends on Sunday at midnight.",
    ]
    assert shown["push_title"] == "20% off plumbing this week"
    assert shown["push_body"] == "Renew before Sunday and pay 20% less."
    assert "Unsubscribe from offers by email" in shown["email_foot"]

    # A test: to the admin alone, by the notification service.
    test = await api.post(
        f"/admin/campaigns/{cid}/test",
        headers={**admin, "Idempotency-Key": "test-send-0001"},
    )
    assert test.status_code == 202, test.text
    answer = test.json()
    assert answer["to"] == "Meera"
    assert answer["email"] == "admin@example.com"
    assert answer["channels"] == ["email", "in_app"]
    sent = await eventually(
        lambda: _sent_to(db), lambda rows: len(rows) >= 1, "the test's email delivery"
    )
    assert [(subject, channel, to) for subject, _, channel, to in sent] == [
        ("Test: 20% off plumbing this week", "email", "admin@example.com")
    ]
    assert sent[0][1].startswith(f"campaign:{cid}:test:")
    message = (
        await db.execute(
            select(Message).where(Message.user_id == admin_id, Message.key.like("campaign:%"))
        )
    ).scalar_one()
    await db.commit()
    assert "Renew before Sunday and pay 20% less." in message.text
    # The same request again (a retry) sends nothing more.
    again = await api.post(
        f"/admin/campaigns/{cid}/test",
        headers={**admin, "Idempotency-Key": "test-send-0001"},
    )
    assert again.status_code == 202, again.text
    assert again.json()["workflow_id"] == answer["workflow_id"]

    # Nobody in the audience was sent anything; the campaign is still a draft.
    assert await messages_per_user(db, cid) == {}
    campaign = (await api.get(f"/admin/campaigns/{cid}", headers=admin)).json()
    assert campaign["status"] == "draft"
    assert campaign["sent"] == 0
    # In the audit log, by the admin, saying where it went.
    entries = (
        await db.execute(
            select(AuditEntry).where(
                AuditEntry.action == "campaign.test_send", AuditEntry.entity_id == cid
            )
        )
    ).scalars()
    (entry, *more) = list(entries)
    await db.commit()
    assert entry.actor_id == admin_id
    assert entry.after is not None and entry.after["to"] == "admin@example.com"
    assert len(more) == 1  # the retried request is audited too; it sent nothing more
    assert len(await _sent_to(db)) == 1


async def test_support_reads_the_preview_but_only_admins_send_a_test(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    cid = (await api.post("/admin/campaigns", json=OFFER, headers=admin)).json()["id"]
    _, support = await account(api, db, "desk@example.com", role="support")
    customer = bearer((await register(api, "buyer@example.com"))["tokens"])

    assert (await api.get(f"/admin/campaigns/{cid}/message", headers=support)).is_success
    assert (await api.get(f"/admin/campaigns/{cid}/audience", headers=support)).is_success
    refused: list[tuple[str, str, int]] = []
    for who, headers, method, path in (
        ("support", support, "POST", f"/admin/campaigns/{cid}/test"),
        ("customer", customer, "POST", f"/admin/campaigns/{cid}/test"),
        ("customer", customer, "GET", f"/admin/campaigns/{cid}/message"),
        ("customer", customer, "GET", f"/admin/campaigns/{cid}/audience"),
    ):
        response = await api.request(method, path, headers=headers)
        refused.append((who, path, response.status_code))
    assert [code for _, _, code in refused] == [403, 403, 403, 403]
    missing = await api.get(
        "/admin/campaigns/00000000-0000-4000-8000-000000000000/message", headers=admin
    )
    assert missing.status_code == 404


async def test_test_sends_are_limited_per_admin_per_hour(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    created = await api.post("/admin/campaigns", json=OFFER, headers=admin)
    cid = created.json()["id"]
    for n in range(TEST_SENDS.max_events):
        sent = await api.post(
            f"/admin/campaigns/{cid}/test",
            headers={**admin, "Idempotency-Key": f"test-send-{n:04d}"},
        )
        assert sent.status_code == 202, sent.text
    refused = await api.post(
        f"/admin/campaigns/{cid}/test", headers={**admin, "Idempotency-Key": "test-send-9999"}
    )
    assert refused.status_code == 429, refused.text
    assert "test messages" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
