"""Shared steps of the campaign tests: customers seeded in bulk (SQL, not the API), a campaign
created and started through the API, and waiting for its workflow to end."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from domain.campaigns.contracts import CampaignProgress, campaign_workflow_id
from domain.notifications.models import Delivery, Message

WAIT_S = 90.0  # a bound for slow machines, never an expectation
OFFER = {"title": "20% off plumbing plans", "body": "Buy or renew before Sunday and pay less."}


async def seed_customers(
    db: AsyncSession,
    count: int,
    *,
    prefix: str = "customer",
    opt_in_email: bool = False,
    verified: bool = True,
    role: str = "customer",
    active: bool = True,
) -> list[uuid.UUID]:
    """`count` customers with an email (`<prefix><n>@example.com`), verified unless told
    otherwise, in one INSERT; opted in to offers by email when asked. Their ids."""
    rows = await db.execute(
        text(
            "INSERT INTO users (id, name, email, email_verified_at, role, is_active) "
            "SELECT gen_random_uuid(), :prefix || ' ' || g, :prefix || g || '@example.com', "
            "CASE WHEN :verified THEN now() END, :role, :active "
            "FROM generate_series(1, :count) AS g RETURNING id"
        ),
        {"prefix": prefix, "count": count, "verified": verified, "role": role, "active": active},
    )
    ids = [r[0] for r in rows]
    if opt_in_email:
        await opt_in(db, ids)
    await db.commit()
    return ids


async def opt_in(db: AsyncSession, ids: list[uuid.UUID], channel: str = "email") -> None:
    await db.execute(
        text(
            "INSERT INTO notification_preferences (user_id, topic, channel, enabled) "
            "SELECT id, 'promotions', :channel, true FROM unnest(CAST(:ids AS uuid[])) AS id"
        ),
        {"ids": ids, "channel": channel},
    )


async def create(
    api: httpx.AsyncClient, admin: dict[str, str], audience: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = {**OFFER, "audience": audience or {"kind": "all"}}
    response = await api.post("/admin/campaigns", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def start(api: httpx.AsyncClient, admin: dict[str, str], campaign_id: str) -> dict[str, Any]:
    response = await api.post(f"/admin/campaigns/{campaign_id}/start", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def finished(temporal: Client, campaign_id: str | uuid.UUID) -> CampaignProgress:
    """The campaign's outcome, once its workflow (through every continue-as-new) ends."""
    handle = temporal.get_workflow_handle(
        campaign_workflow_id(uuid.UUID(str(campaign_id))), result_type=CampaignProgress
    )
    return await asyncio.wait_for(handle.result(), timeout=WAIT_S)


async def messages_per_user(db: AsyncSession, campaign_id: str | uuid.UUID) -> dict[uuid.UUID, int]:
    rows = await db.execute(
        select(Message.user_id, func.count())
        .where(Message.campaign_id == uuid.UUID(str(campaign_id)))
        .group_by(Message.user_id)
    )
    found = {user_id: n for user_id, n in rows if user_id is not None}
    await db.commit()
    return found


async def deliveries(db: AsyncSession, campaign_id: str | uuid.UUID) -> list[tuple[Any, ...]]:
    """(user id, channel, status, destination) of every delivery of the campaign."""
    rows = await db.execute(
        select(Message.user_id, Delivery.channel, Delivery.status, Delivery.destination)
        .join(Message, Message.id == Delivery.message_id)
        .where(Message.campaign_id == uuid.UUID(str(campaign_id)))
    )
    found = [tuple(r) for r in rows]
    await db.commit()
    return found
