"""Sign-in and code endpoints allow at most 10 failures a minute per account and per IP."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import PASSWORD, bearer, latest_code, register


async def _fail_logins(api: httpx.AsyncClient, identifier: str, times: int) -> list[int]:
    return [
        (
            await api.post(
                "/auth/login", json={"identifier": identifier, "password": "wrong password"}
            )
        ).status_code
        for _ in range(times)
    ]


async def test_eleventh_failed_login_is_429_with_retry_after(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "target@example.com")
    assert await _fail_logins(api, "target@example.com", 10) == [401] * 10

    blocked = await api.post(
        "/auth/login", json={"identifier": "target@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert blocked.headers["content-type"] == "application/problem+json"


async def test_the_limit_is_per_ip_across_accounts(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "someone@example.com")
    for n in range(10):  # one attacker, ten different accounts
        await _fail_logins(api, f"guess{n}@example.com", 1)
    blocked = await api.post(
        "/auth/login", json={"identifier": "someone@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429


async def test_the_limit_is_per_account_across_ips(app: object, db: AsyncSession) -> None:
    async def from_ip(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://test/api/v1")

    first = await from_ip("10.0.0.1")
    await register(first, "spread@example.com")
    for n in range(10):  # a botnet: every attempt from another address
        client = await from_ip(f"10.0.1.{n}")
        assert (await _fail_logins(client, "spread@example.com", 1)) == [401]
    fresh = await from_ip("10.0.2.1")
    blocked = await fresh.post(
        "/auth/login", json={"identifier": "spread@example.com", "password": PASSWORD}
    )
    assert blocked.status_code == 429

    # Another account from a fresh address is unaffected.
    await register(fresh, "bystander@example.com")
    ok = await fresh.post(
        "/auth/login", json={"identifier": "bystander@example.com", "password": PASSWORD}
    )
    assert ok.status_code == 200


async def test_successful_logins_do_not_count(api: httpx.AsyncClient, db: AsyncSession) -> None:
    await register(api, "busy@example.com")
    for _ in range(12):
        ok = await api.post(
            "/auth/login", json={"identifier": "busy@example.com", "password": PASSWORD}
        )
        assert ok.status_code == 200


async def test_code_guessing_is_rate_limited(api: httpx.AsyncClient, db: AsyncSession) -> None:
    # Lock the first verification after 5 wrong codes, start another, keep guessing: the
    # eleventh failure in the minute is refused before it reaches the workflow.
    registered = await register(api, "guess@example.com")
    headers = bearer(registered["tokens"])
    code = await latest_code(db, "guess@example.com")
    wrong = "000000" if code != "000000" else "111111"
    statuses = [
        (
            await api.post(
                "/auth/verification/email/confirm", json={"code": wrong}, headers=headers
            )
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 400, 409]
    await api.post("/auth/verification/email", headers=headers)
    more = [
        (
            await api.post(
                "/auth/verification/email/confirm", json={"code": wrong}, headers=headers
            )
        ).status_code
        for _ in range(6)
    ]
    assert more == [400, 400, 400, 400, 409, 429]
