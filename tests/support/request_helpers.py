"""Shared steps of the service-request tests: a customer with a plan, technicians, a request
asked for through the API, and reading what happened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.notifications.models import Message
from tests.conftest import bearer, latest_code
from tests.support.subscription_helpers import Bought, buy_plan
from tests.support.waiting import eventually

ALWAYS = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
HOME_ZONE = "560001"  # the postal code of tests.support.orders_helpers' address


@dataclass
class Shop:
    bought: Bought
    categories: dict[str, str]  # slug -> id

    @property
    def admin(self) -> dict[str, str]:
        return self.bought.admin

    @property
    def customer(self) -> dict[str, str]:
        return self.bought.buyer.headers


async def shop(
    api: httpx.AsyncClient, db: AsyncSession, email: str = "asker@example.com", **buying: Any
) -> Shop:
    """A customer holding a plan with 2 plumbing and 2 electrical visits (4 in all); `buying`
    goes to buy_plan (e.g. an existing admin and plan)."""
    bought = await buy_plan(api, db, email, **buying)
    mine = (
        await api.get(f"/subscriptions/{bought.subscription_id}", headers=bought.buyer.headers)
    ).json()
    categories = {c["slug"]: c["category_id"] for c in mine["visits"]["by_category"]}
    listed = (await api.get("/admin/catalog/categories", headers=bought.admin)).json()
    categories |= {c["slug"]: c["id"] for c in listed}
    return Shop(bought, categories)


async def technician(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    name: str,
    phone: str,
    *,
    skills: tuple[str, ...] = ("plumbing",),
    zones: tuple[str, ...] = (HOME_ZONE,),
    hours: dict[str, Any] | None = None,
    active: bool = True,
) -> dict[str, Any]:
    body = {
        "name": name,
        "phone": phone,
        "skills": list(skills),
        "zones": list(zones),
        "working_hours": hours or ALWAYS,
        "timezone": "UTC",
        "is_active": active,
    }
    created = await api.post("/admin/technicians", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def technician_headers(
    api: httpx.AsyncClient, db: AsyncSession, phone: str
) -> dict[str, str]:
    """Sign in as the technician with the code sent to their phone."""
    assert (await api.post("/auth/phone/start", json={"phone": phone})).status_code == 202
    code = await latest_code(db, phone)
    signed = await api.post("/auth/phone/verify", json={"phone": phone, "code": code})
    assert signed.status_code == 200, signed.text
    return bearer(signed.json())


def window(days: int = 2, hour: int = 10, hours: int = 3) -> tuple[str, str]:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=days
    )
    start = day + timedelta(hours=hour)
    return start.isoformat(), (start + timedelta(hours=hours)).isoformat()


async def ask(
    api: httpx.AsyncClient,
    s: Shop,
    *,
    category: str = "plumbing",
    when: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    subscription_id: uuid.UUID | None = None,
) -> httpx.Response:
    start, end = when or window()
    return await api.post(
        "/service-requests",
        json={
            "subscription_id": str(subscription_id or s.bought.subscription_id),
            "category_id": s.categories[category],
            "description": "The kitchen tap drips all night.",
            "window_start": start,
            "window_end": end,
        },
        headers={**(headers or s.customer), "Idempotency-Key": f"ask-{uuid.uuid4()}"},
    )


async def asked(api: httpx.AsyncClient, s: Shop, **options: Any) -> dict[str, Any]:
    response = await ask(api, s, **options)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sent_to(db: AsyncSession, destination: str, request_id: str) -> list[str]:
    """The steps of the messages the user of this email or phone was told about the request
    (in their inbox, and by email or push as they chose), in order."""
    rows = (
        await db.execute(
            select(Message.key)
            .join(User, User.id == Message.user_id)
            .where(
                or_(User.email == destination, User.phone == destination),
                Message.key.like(f"request:{request_id}:%"),
            )
            .order_by(Message.created_at)
        )
    ).scalars()
    out = [key.split(":")[3] for key in rows.all()]
    await db.commit()
    return out


async def until(
    api: httpx.AsyncClient, path: str, headers: dict[str, str], done: Any
) -> dict[str, Any]:
    """GET `path` until `done` says so; bounded."""

    async def read() -> dict[str, Any]:
        return dict((await api.get(path, headers=headers)).json())

    return await eventually(read, done, path)
