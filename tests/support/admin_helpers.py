"""Accounts of each role for the admin panel's tests."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.conftest import bearer, register

CSRF = {"X-Requested-With": "homeplans-admin"}


async def account(
    api: httpx.AsyncClient,
    db: AsyncSession,
    email: str,
    *,
    role: str = "customer",
    name: str = "Test",
) -> tuple[str, dict[str, str]]:
    """(user id, bearer headers) of a new account with `role` (set in the database, as an admin
    or `manage.py create-admin` would)."""
    body = await register(api, email, name=name)
    if role != "customer":
        await db.execute(update(User).where(User.email == email).values(role=role))
        await db.commit()
    return body["user"]["id"], bearer(body["tokens"])
