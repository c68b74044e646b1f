"""Register, verify, sign in, refresh, reuse detection, logout: an account through the API."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import bearer, latest_code, register


async def test_register_sends_code_and_confirming_it_verifies_the_email(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    registered = await register(api, "Asha@Example.com")
    assert registered["user"]["email"] == "asha@example.com"
    assert registered["user"]["email_verified"] is False
    assert registered["verification"]["status"] == "pending"
    assert registered["verification"]["attempts_left"] == 5

    code = await latest_code(db, "asha@example.com")
    headers = bearer(registered["tokens"])
    confirmed = await api.post(
        "/auth/verification/email/confirm", json={"code": code}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email_verified"] is True

    me = await api.get("/me", headers=headers)
    assert me.json()["email_verified"] is True
