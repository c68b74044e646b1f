"""Promotion campaigns through the admin API and CampaignWorkflow: who is in each audience, that
choices are respected, the admin's moves (and the refused ones), who may do what, and that the
audience is frozen when the campaign starts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from core.db import utcnow
from core.settings import Settings
from domain.accounts.models import User
from domain.audit.models import AuditEntry
from domain.notifications.models import Message
from domain.subscriptions.models import Subscription
from tests.conftest import PASSWORD, bearer, make_settings, register
from tests.support.campaign_helpers import (
    create,
    deliveries,
    finished,
    messages_per_user,
    opt_in,
    seed_customers,
    start,
)
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.orders_helpers import add_to_cart, customer, pay, place_order


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Small batches at a slow pace (2 people every 2 s), continuing as new every 2 batches: a
    campaign of a few people takes a few batches and runs long enough to be paused."""
    return make_settings(
        database_url=database_url,
        campaign_batch_size=2,
        campaign_rate_per_second=1.0,
        campaign_batches_per_run=2,
        campaign_starts_per_hour=3,
    )


async def _verify(db: AsyncSession, *emails: str) -> list[uuid.UUID]:
    rows = await db.execute(
        update(User)
        .where(User.email.in_(emails))
        .values(email_verified_at=utcnow())
        .returning(User.id)
    )
    ids = list(rows.scalars())
    await db.commit()
    return ids


async def _holder(
    api: httpx.AsyncClient, db: AsyncSession, email: str, plan: dict[str, Any]
) -> uuid.UUID:
    """A verified customer holding a paid subscription of `plan`."""
    who = await customer(api, email)
    await add_to_cart(api, who, plan["id"])
    await pay(db, await place_order(db, who, key=f"order-{email}"))
    await _verify(db, email)
    return who.id


async def _size(api: httpx.AsyncClient, headers: dict[str, str], audience: dict[str, Any]) -> int:
    response = await api.post(
        "/admin/campaigns/preview", json={"audience": audience}, headers=headers
    )
    assert response.status_code == 200, response.text
    return int(response.json()["size"])


async def test_each_audience_holds_only_the_active_verified_customers_it_names(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    admin = await make_admin(api, db)
    categories = await add_categories(api, admin)
    home = await add_active_plan(api, admin, "home-care")
    wood = await add_active_plan(
        api,
        admin,
        "woodwork",
        categories=["carpentry"],
        inclusions=[{"category": "carpentry", "visits": 4, "details": "Doors and shelves."}],
    )
    asha = await _holder(api, db, "asha@example.com", home)
    ravi = await _holder(api, db, "ravi@example.com", wood)
    meera = await _holder(api, db, "meera@example.com", home)
    # Meera's plan ends in 10 days; the others' in a year.
    await db.execute(
        update(Subscription)
        .where(Subscription.user_id == meera)
        .values(ends_at=utcnow() + timedelta(days=10))
    )
    await db.commit()
    # Not in any audience: an unverified customer, a disabled one, a technician, the admin.
    await register(api, "unverified@example.com")
    await seed_customers(db, 1, prefix="disabled", active=False)
    await seed_customers(db, 1, prefix="tech", role="technician")
    (plain,) = await seed_customers(db, 1, prefix="plain")

    assert await _size(api, admin, {"kind": "all"}) == 4
    assert await _size(api, admin, {"kind": "plan", "plan_id": home["id"]}) == 2
    assert await _size(api, admin, {"kind": "plan", "plan_id": wood["id"]}) == 1
    carpentry = categories["carpentry"]["id"]
    plumbing = categories["plumbing"]["id"]
    assert await _size(api, admin, {"kind": "category", "category_id": carpentry}) == 1
    assert await _size(api, admin, {"kind": "category", "category_id": plumbing}) == 2
    assert await _size(api, admin, {"kind": "expiring", "within_days": 30}) == 1
    assert await _size(api, admin, {"kind": "expiring", "within_days": 5}) == 0

    # An unknown plan or category is refused with the field named, as is a bad audience.
    for audience, field in (
        ({"kind": "plan", "plan_id": str(uuid.uuid4())}, "audience.plan_id"),
        ({"kind": "category", "category_id": str(uuid.uuid4())}, "audience.category_id"),
    ):
        refused = await api.post(
            "/admin/campaigns",
            json={"title": "T", "body": "B", "audience": audience},
            headers=admin,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    too_far = await api.post(
        "/admin/campaigns/preview",
        json={"audience": {"kind": "expiring", "within_days": 9999}},
        headers=admin,
    )
    assert too_far.status_code == 422

    # A campaign to the home-care holders reaches exactly them, each once.
    campaign = await create(api, admin, {"kind": "plan", "plan_id": home["id"]})
    started = await start(api, admin, campaign["id"])
    assert started["status"] == "running" and started["total"] == 2
    outcome = await finished(temporal, campaign["id"])
    assert (outcome.status, outcome.sent, outcome.total) == ("completed", 2, 2)
    assert await messages_per_user(db, campaign["id"]) == {asha: 1, meera: 1}
    assert ravi not in await messages_per_user(db, campaign["id"])
    assert plain not in await messages_per_user(db, campaign["id"])


async def test_offers_go_by_email_only_to_who_opted_in_and_to_every_inbox_not_turned_off(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    admin = await make_admin(api, db)
    wants_email, default, no_inbox, with_phone = await seed_customers(db, 4, prefix="choice")
    await opt_in(db, [wants_email])
    await db.execute(
        text(
            "INSERT INTO notification_preferences (user_id, topic, channel, enabled) "
            "VALUES (:u, 'promotions', 'in_app', false)"
        ),
        {"u": no_inbox},
    )
    # A phone registered for push, but push offers not opted in to: no push goes to it.
    await db.execute(
        text(
            "INSERT INTO device_tokens (id, user_id, token, platform) "
            "VALUES (gen_random_uuid(), :u, 'fcm-token-of-a-phone', 'android')"
        ),
        {"u": with_phone},
    )
    await db.commit()

    campaign = await create(api, admin)
    await start(api, admin, campaign["id"])
    outcome = await finished(temporal, campaign["id"])
    assert (outcome.status, outcome.sent) == ("completed", 4)

    assert await messages_per_user(db, campaign["id"]) == dict.fromkeys(
        (wants_email, default, no_inbox, with_phone), 1
    )
    assert await deliveries(db, campaign["id"]) == [
        (wants_email, "email", "delivered", "choice1@example.com")
    ]
    rows = (
        await db.execute(select(Message).where(Message.campaign_id == uuid.UUID(campaign["id"])))
    ).scalars()
    by_user = {m.user_id: m for m in rows}
    assert not by_user[no_inbox].in_inbox
    assert all(by_user[u].in_inbox for u in (wants_email, default, with_phone))
    # The email carries its one-time unsubscribe link; the inbox copy says what the admin wrote.
    email = by_user[wants_email]
    assert email.html is not None and "/api/v1/unsubscribe?token=" in email.html
    assert (email.subject, email.text) == (campaign["title"], campaign["body"])
    inbox = await api.get("/me/notifications", headers=bearer(await _tokens_of(api, db, default)))
    assert [i["subject"] for i in inbox.json()["items"]] == [campaign["title"]]


async def _tokens_of(api: httpx.AsyncClient, db: AsyncSession, user_id: uuid.UUID) -> Any:
    """Sign a seeded customer in (a password set for the purpose)."""
    from core.security import Passwords

    hashed = Passwords(make_settings()).hash(PASSWORD)
    await db.execute(update(User).where(User.id == user_id).values(password_hash=hashed))
    await db.commit()
    email = await db.scalar(select(User.email).where(User.id == user_id))
    await db.commit()
    response = await api.post("/auth/login", json={"identifier": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


async def test_pause_resume_and_cancel_move_a_campaign_and_refuse_the_wrong_moves(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    admin = await make_admin(api, db)
    audience = await seed_customers(db, 7, prefix="moves")
    campaign = await create(api, admin)
    cid = campaign["id"]

    async def act(move: str) -> httpx.Response:
        return await api.post(f"/admin/campaigns/{cid}/{move}", headers=admin)

    not_started = await act("pause")
    assert not_started.status_code == 409
    assert "has not started" in not_started.json()["detail"]

    await start(api, admin, cid)
    again = await act("start")
    assert again.status_code == 409 and "already started" in again.json()["detail"]
    running = await act("resume")
    assert running.status_code == 409 and "not paused" in running.json()["detail"]

    paused = await act("pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused" and paused.json()["paused_at"] is not None
    twice = await act("pause")
    assert twice.status_code == 409 and "already paused" in twice.json()["detail"]
    listed = await api.get("/admin/campaigns?status=paused", headers=admin)
    assert [c["id"] for c in listed.json()["items"]] == [cid]
    live = await api.get(f"/admin/campaigns/{cid}/progress", headers=admin)
    assert live.status_code == 200 and live.json()["status"] == "paused"
    assert live.json()["total"] == 7

    # Someone who signs up after the start is not in the frozen audience.
    (late,) = await seed_customers(db, 1, prefix="late")

    resumed = await act("resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    outcome = await finished(temporal, cid)
    # 7 people, 2 a batch, continuing as new every 2 batches: 4 batches over 2 runs.
    assert (outcome.status, outcome.sent, outcome.batches, outcome.runs) == ("completed", 7, 4, 2)
    assert await messages_per_user(db, cid) == dict.fromkeys(audience, 1)
    assert late not in await messages_per_user(db, cid)
    done = (await api.get(f"/admin/campaigns/{cid}", headers=admin)).json()
    assert (done["status"], done["sent"], done["total"], done["percent"]) == (
        "completed",
        7,
        7,
        100.0,
    )
    assert done["completed_at"] is not None
    ended = await act("cancel")
    assert ended.status_code == 409 and "completed" in ended.json()["detail"]

    # Cancelled: what went, went; nobody else is sent it, and it cannot be resumed.
    second = await create(api, admin)
    await start(api, admin, second["id"])
    cancelled = await api.post(f"/admin/campaigns/{second['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    outcome = await finished(temporal, second["id"])
    assert outcome.status == "cancelled" and outcome.sent < outcome.total == 8
    assert sum((await messages_per_user(db, second["id"])).values()) == outcome.sent
    refused = await api.post(f"/admin/campaigns/{second['id']}/resume", headers=admin)
    assert refused.status_code == 409
    assert "cancelled: it cannot be resumed" in refused.json()["detail"]

    actions = (
        await db.execute(
            select(AuditEntry.action).where(AuditEntry.entity_id == cid).order_by(AuditEntry.at)
        )
    ).scalars()
    assert list(actions) == [
        "campaign.create",
        "campaign.start",
        "campaign.pause",
        "campaign.resume",
    ]


async def test_customers_are_refused_support_reads_and_only_admins_act_within_their_limit(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    admin = await make_admin(api, db)
    support = await make_admin(api, db, "support@example.com")
    await db.execute(update(User).where(User.email == "support@example.com").values(role="support"))
    await db.commit()
    shopper = bearer((await register(api, "shopper@example.com"))["tokens"])
    await seed_customers(db, 1, prefix="reached")
    campaign = await create(api, admin)
    cid = campaign["id"]

    for method, path in (
        ("GET", "/admin/campaigns"),
        ("GET", f"/admin/campaigns/{cid}"),
        ("POST", "/admin/campaigns"),
        ("POST", f"/admin/campaigns/{cid}/start"),
    ):
        body = {**campaign, "audience": {"kind": "all"}} if method == "POST" else None
        refused = await api.request(method, path, headers=shopper, json=body)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await api.get("/admin/campaigns")).status_code == 401

    assert (await api.get(f"/admin/campaigns/{cid}", headers=support)).status_code == 200
    assert (await api.get(f"/admin/campaigns/{cid}/audience", headers=support)).json() == {
        "size": 1
    }
    body = {"title": "Offer", "body": "Words", "audience": {"kind": "all"}}
    assert (await api.post("/admin/campaigns", json=body, headers=support)).status_code == 403
    assert (await api.post(f"/admin/campaigns/{cid}/start", headers=support)).status_code == 403
    assert (await api.get(f"/admin/campaigns/{cid}", headers=support)).json()["status"] == "draft"

    # Bounded words: an empty or overlong title, a body past its limit, unknown fields.
    for bad in (
        {**body, "title": ""},
        {**body, "title": "x" * 121},
        {**body, "body": "x" * 2001},
        {**body, "audience": {"kind": "all", "plan_id": str(uuid.uuid4())}},
        {**body, "extra": 1},
    ):
        assert (await api.post("/admin/campaigns", json=bad, headers=admin)).status_code == 422

    # Three starts an hour per admin here (CAMPAIGN_STARTS_PER_HOUR): the fourth waits.
    for _ in range(3):
        started = await create(api, admin)
        await start(api, admin, started["id"])
    fourth = await api.post(f"/admin/campaigns/{cid}/start", headers=admin)
    assert fourth.status_code == 429, fourth.text
    assert int(fourth.headers["retry-after"]) > 0
    assert "in an hour" in fourth.json()["detail"]
    assert (await api.get(f"/admin/campaigns/{cid}", headers=admin)).json()["status"] == "draft"
