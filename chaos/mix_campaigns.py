"""A campaign to a few thousand customers through the admin API: the customers are seeded in bulk
(SQL: thousands of sign-ups through argon2 would be the whole run), some opted in to offers by
email, some with the offers' inbox turned off; the campaign is created, started, paused and
resumed through the API while the faults go on."""

from __future__ import annotations

import asyncio

import psycopg

from chaos.world import World

PAUSED_S = 3.0


def plain_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


async def seed_customers(world: World, database_url: str, count: int) -> None:
    prefix = f"crowd{world.seed}-"
    async with await psycopg.AsyncConnection.connect(plain_url(database_url)) as db:
        await db.execute(
            "INSERT INTO users (id, name, email, email_verified_at, role, is_active) "
            "SELECT gen_random_uuid(), 'Crowd ' || g, %(p)s || g || '@example.com', now(), "
            "'customer', true FROM generate_series(1, %(n)s) AS g",
            {"p": prefix, "n": count},
        )
        # One in five opted in to offers by email; one in twenty turned the offers' inbox off.
        for channel, enabled, every in (("email", True, 5), ("in_app", False, 20)):
            await db.execute(
                "INSERT INTO notification_preferences (user_id, topic, channel, enabled) "
                "SELECT id, 'promotions', %(c)s, %(e)s FROM users "
                "WHERE email LIKE %(like)s AND mod(abs(hashtext(email)), %(every)s) = 0",
                {"c": channel, "e": enabled, "like": f"{prefix}%", "every": every},
            )
        await db.commit()


async def campaign(world: World, database_url: str, crowd: int) -> None:
    await seed_customers(world, database_url, crowd)
    api, admin = world.api, world.admin
    body = {
        "title": "20% off plumbing plans",
        "body": "Buy or renew before Sunday and pay less.",
        "audience": {"kind": "all"},
    }
    made = await api.call("POST", "/admin/campaigns", who=admin, op="create campaign", json=body)
    if made.status_code != 201:
        world.errors.append(f"create campaign: {made.status_code} {made.text[:200]}")
        return
    campaign_id = made.json()["id"]
    world.campaigns.append(campaign_id)
    path = f"/admin/campaigns/{campaign_id}"
    started = await api.call("POST", f"{path}/start", who=admin, op="start campaign")
    if started.status_code not in (200, 409):
        world.errors.append(f"start campaign: {started.status_code} {started.text[:200]}")
        return
    await asyncio.sleep(5 + world.rng.random() * 5)
    paused = await api.call("POST", f"{path}/pause", who=admin, op="pause campaign")
    if paused.status_code == 200:
        await asyncio.sleep(PAUSED_S)
        await api.call("POST", f"{path}/resume", who=admin, op="resume campaign")
