"""Who did something is named for whoever reads it, never shown as an internal id: the one
naming (`domain.actors`) serves every timeline (orders, subscriptions, visits, the live stream)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import actors
from domain.accounts.models import User
from domain.technicians.models import Technician
from tests.support.subscription_helpers import buy_plan


async def test_an_orders_history_names_the_customer_and_the_system_to_staff(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db, "named@example.com")
    await db.execute(update(User).where(User.email == "named@example.com").values(name="Asha Rao"))
    await db.commit()
    order = (await api.get(f"/admin/orders/{bought.order_id}", headers=bought.admin)).json()
    assert [h["actor"] for h in order["history"]] == [
        {"role": "customer", "name": "Asha Rao"},  # placed it
        {"role": "system", "name": "System"},  # paid
        {"role": "system", "name": "System"},  # completed
    ]


async def test_each_audience_reads_the_same_actors_by_the_names_it_may_know(
    db: AsyncSession,
) -> None:
    admin = User(email="meera@example.com", name="Meera Nair", role="admin")
    customer = User(email="asha@example.com", name="Asha Rao")
    tech_user = User(phone="+919800000003", role="technician")
    gone = uuid.uuid4()  # a staff member whose account was deleted since
    db.add_all([admin, customer, tech_user])
    await db.flush()
    ravi = Technician(
        user_id=tech_user.id,
        name="Ravi Kumar",
        phone="+919800000003",
        zones=[],
        working_hours={},
        timezone="Asia/Kolkata",
    )
    db.add(ravi)
    await db.flush()
    recorded = [
        actors.CUSTOMER,
        actors.staff(admin.id),
        actors.staff(gone),
        actors.technician(ravi.id),
        actors.WORKFLOW,
    ]

    async def names(audience: actors.Audience) -> list[tuple[str, str]]:
        named = await actors.name_all(db, recorded, audience=audience, customer_id=customer.id)
        return [(named[r].role, named[r].name) for r in recorded]

    assert await names("customer") == [
        ("customer", "You"),
        ("staff", "Support team"),
        ("staff", "Support team"),
        ("technician", "Ravi Kumar"),
        ("system", "System"),
    ]
    assert await names("technician") == [
        ("customer", "Asha Rao"),
        ("staff", "Support team"),
        ("staff", "Support team"),
        ("technician", "Ravi Kumar"),
        ("system", "System"),
    ]
    assert await names("staff") == [
        ("customer", "Asha Rao"),
        ("staff", "Meera Nair"),
        ("staff", "A former staff member"),
        ("technician", "Ravi Kumar"),
        ("system", "System"),
    ]
    await db.rollback()
