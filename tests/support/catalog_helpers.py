"""Small factories shared by the catalog tests: an admin, categories and plans through the API."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.conftest import bearer, register


async def make_admin(
    api: httpx.AsyncClient, db: AsyncSession, email: str = "admin@example.com"
) -> dict[str, str]:
    """Headers of a freshly registered user made admin in the database (authorization reads the
    user's row, so the token they already hold works as an admin's)."""
    tokens = (await register(api, email))["tokens"]
    await db.execute(update(User).where(User.email == email).values(role="admin"))
    await db.commit()
    return bearer(tokens)


async def make_customer(
    api: httpx.AsyncClient, email: str = "customer@example.com", *, phone: str | None = None
) -> dict[str, str]:
    return bearer((await register(api, email, phone=phone))["tokens"])


async def add_category(
    api: httpx.AsyncClient, admin: dict[str, str], slug: str, **fields: Any
) -> dict[str, Any]:
    body = {"slug": slug, "name": slug.replace("-", " ").title(), **fields}
    response = await api.post("/admin/catalog/categories", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def add_categories(
    api: httpx.AsyncClient, admin: dict[str, str], *slugs: str
) -> dict[str, dict[str, Any]]:
    """Categories in the catalog in the order given (each new one goes last)."""
    slugs = slugs or ("plumbing", "electrical", "carpentry")
    return {slug: await add_category(api, admin, slug) for slug in slugs}


def plan_body(slug: str = "home-care", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "description": "Repairs around the home for a year.",
        "categories": ["plumbing", "electrical"],
        "price": {
            "amount_minor": 299900,
            "currency": "INR",
            "tax_rate_bps": 1800,
            "includes_tax": True,
        },
        "validity_days": 365,
        "visit_cap": 4,
        "inclusions": [
            {
                "category": "plumbing",
                "visits": 2,
                "labour_covered": True,
                "parts_covered": True,
                "parts_cap_minor": 50000,
                "details": "Taps, pipes and drains.",
            },
            {"category": "electrical", "visits": 2, "details": "Switches and sockets."},
        ],
    }
    body.update(overrides)
    return body


async def add_plan(
    api: httpx.AsyncClient, admin: dict[str, str], slug: str = "home-care", **overrides: Any
) -> dict[str, Any]:
    response = await api.post(
        "/admin/catalog/plans", json=plan_body(slug, **overrides), headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()


async def publish(api: httpx.AsyncClient, admin: dict[str, str], plan_id: str) -> dict[str, Any]:
    response = await api.post(f"/admin/catalog/plans/{plan_id}/publish", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def add_active_plan(
    api: httpx.AsyncClient, admin: dict[str, str], slug: str = "home-care", **overrides: Any
) -> dict[str, Any]:
    plan = await add_plan(api, admin, slug, **overrides)
    return await publish(api, admin, plan["id"])


def price(amount_minor: int, *, includes_tax: bool = True, rate: int = 1800) -> dict[str, Any]:
    return {
        "amount_minor": amount_minor,
        "currency": "INR",
        "tax_rate_bps": rate,
        "includes_tax": includes_tax,
    }
