"""Rate limits (domain.accounts.throttle), as a client meets them: failed sign-ins and codes are
limited tightly per account and widely per IP; codes sent are limited per destination, account
and IP; sign-ups per IP. Each refusal is a 429 problem with Retry-After, and what is refused
never happens (no code sent, no account made)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.settings import Settings
from domain.accounts.models import RateEvent, User
from domain.notifications.models import Delivery
from tests.conftest import PASSWORD, bearer, count_rows, latest_code, register

Opener = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture
def limited_app(settings: Settings, temporal_env: WorkflowEnvironment, worker: Worker) -> Opener:
    """An app whose limits are the given settings (the test's worker serves its workflows)."""

    @asynccontextmanager
    async def open_app(**limits: Any) -> AsyncIterator[Any]:
        app = create_app(settings.model_copy(update=limits), temporal=temporal_env.client)
        async with app.router.lifespan_context(app):
            yield app

    return open_app


def from_ip(app: Any, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test/api/v1")


async def _fail_logins(api: httpx.AsyncClient, identifier: str, times: int) -> list[int]:
    return [
        (
            await api.post(
                "/auth/login", json={"identifier": identifier, "password": "wrong password"}
            )
        ).status_code
        for _ in range(times)
    ]


def _assert_429(response: httpx.Response, says: str, window_s: int) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= window_s
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"], response.json()


# --- failures -----------------------------------------------------------------------------------


async def test_eleventh_failed_login_of_an_account_is_429_with_retry_after(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "target@example.com")
    assert await _fail_logins(api, "target@example.com", 10) == [401] * 10

    blocked = await api.post(
        "/auth/login", json={"identifier": "target@example.com", "password": PASSWORD}
    )
    _assert_429(blocked, "too many failed attempts", 900)


async def test_many_honest_users_behind_one_address_can_all_mistype(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Carrier-grade NAT: 40 people on one IP each get their password wrong twice (80 failures
    in the window), and each then signs in; the per-IP budget is not the per-account one."""
    for n in range(40):
        assert await _fail_logins(api, f"user{n}@example.com", 2) == [401, 401]
    await register(api, "late@example.com")
    ok = await api.post(
        "/auth/login", json={"identifier": "late@example.com", "password": PASSWORD}
    )
    assert ok.status_code == 200, ok.text


async def test_the_failure_limit_is_per_ip_across_accounts(
    limited_app: Opener, db: AsyncSession
) -> None:
    async with limited_app(auth_max_failures_per_ip=20) as app:
        attacker = from_ip(app, "10.0.9.9")
        await register(attacker, "someone@example.com")
        for n in range(20):  # one address, twenty different accounts
            assert await _fail_logins(attacker, f"guess{n}@example.com", 1) == [401]
        blocked = await attacker.post(
            "/auth/login", json={"identifier": "someone@example.com", "password": PASSWORD}
        )
        _assert_429(blocked, "too many failed attempts", 900)
        # Someone on another address is unaffected.
        other = await from_ip(app, "10.0.8.8").post(
            "/auth/login", json={"identifier": "someone@example.com", "password": PASSWORD}
        )
        assert other.status_code == 200


async def test_the_failure_limit_is_per_account_across_ips(
    limited_app: Opener, db: AsyncSession
) -> None:
    async with limited_app() as app:
        first = from_ip(app, "10.0.0.1")
        await register(first, "spread@example.com")
        for n in range(10):  # a botnet: every attempt from another address
            client = from_ip(app, f"10.0.1.{n}")
            assert (await _fail_logins(client, "spread@example.com", 1)) == [401]
        fresh = from_ip(app, "10.0.2.1")
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


async def test_code_guessing_is_limited_per_account(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    # Lock the first verification after 5 wrong codes, start another, keep guessing: the
    # eleventh failure is refused before it reaches the workflow.
    registered = await register(api, "guess@example.com")
    headers = bearer(registered["tokens"])
    code = await latest_code(db, "guess@example.com")
    wrong = "000000" if code != "000000" else "111111"

    async def guess() -> int:
        response = await api.post(
            "/auth/verification/email/confirm", json={"code": wrong}, headers=headers
        )
        return response.status_code

    assert [await guess() for _ in range(5)] == [400, 400, 400, 400, 409]
    assert (await api.post("/auth/verification/email", headers=headers)).status_code == 202
    assert [await guess() for _ in range(6)] == [400, 400, 400, 400, 409, 429]


# --- codes sent ---------------------------------------------------------------------------------


async def test_codes_to_one_phone_are_limited_whoever_asks(
    limited_app: Opener, db: AsyncSession
) -> None:
    """SMS pumping: one number asked for again and again, from many addresses, registered or
    not (the answers stay alike, so the limit reveals nobody)."""
    async with limited_app() as app:
        await register(from_ip(app, "10.1.0.1"), phone="+919812300011")
        for number in ("+919812300011", "+919812300012"):  # registered, and not
            answers = [
                await from_ip(app, f"10.1.1.{n}").post("/auth/phone/start", json={"phone": number})
                for n in range(6)
            ]
            codes = [a.status_code for a in answers]
            # The registered number already had its sign-up code: one fewer.
            expected = [202] * (4 if number.endswith("11") else 5)
            assert codes[: len(expected)] == expected, codes
            _assert_429(answers[len(expected)], "too many codes were sent to this address", 3600)
        # What was refused was not sent: the sign-up code and four sign-in codes.
        assert await count_rows(db, Delivery, Delivery.destination == "+919812300011") == 2
        # The sign-in workflow is pending after the first start: later starts send nothing new.


async def test_codes_from_one_address_are_limited(limited_app: Opener, db: AsyncSession) -> None:
    async with limited_app(codes_per_ip=3) as app:
        here = from_ip(app, "10.2.0.1")
        statuses = [
            (await here.post("/auth/phone/start", json={"phone": f"+9198123001{n:02}"})).status_code
            for n in range(4)
        ]
        assert statuses == [202, 202, 202, 429]
        elsewhere = from_ip(app, "10.2.0.2")
        ok = await elsewhere.post("/auth/phone/start", json={"phone": "+919812300199"})
        assert ok.status_code == 202


async def test_codes_for_one_account_are_limited_across_its_contacts(
    limited_app: Opener, db: AsyncSession
) -> None:
    async with limited_app(codes_per_account=3) as app:
        client = from_ip(app, "10.3.0.1")
        headers = bearer((await register(client, "changer@example.com"))["tokens"])
        # Sign-up made no account budget yet (no account); three contact changes do.
        for n in range(3):
            changed = await client.patch(
                "/me", json={"email": f"changer{n}@example.com"}, headers=headers
            )
            assert changed.status_code == 200, changed.text
        refused = await client.patch("/me", json={"email": "changer9@example.com"}, headers=headers)
        _assert_429(refused, "too many codes were sent for this account", 3600)
        me = (await client.get("/me", headers=headers)).json()
        assert me["email"] == "changer2@example.com"  # the refused change did not happen


async def test_a_resend_refused_for_its_cooldown_costs_nothing(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    registered = await register(api, "patient@example.com")
    headers = bearer(registered["tokens"])
    for _ in range(8):  # more than the destination's budget of 5
        resend = await api.post("/auth/verification/email/resend", headers=headers)
        assert resend.status_code == 429
        assert "can be sent in" in resend.json()["detail"]  # the cooldown, not the budget
    spent = RateEvent.key == "send:destination:patient@example.com"
    assert await count_rows(db, RateEvent, spent) == 1  # the sign-up's code


async def test_concurrent_requests_cannot_overspend_a_budget(
    limited_app: Opener, db: AsyncSession
) -> None:
    async with limited_app(codes_per_destination=3) as app:
        answers = await asyncio.gather(
            *(
                from_ip(app, f"10.4.0.{n}").post(
                    "/auth/phone/start", json={"phone": "+919812300077"}
                )
                for n in range(10)
            )
        )
        assert sorted(a.status_code for a in answers) == [202] * 3 + [429] * 7


async def test_sign_ups_from_one_address_are_limited(limited_app: Opener, db: AsyncSession) -> None:
    async with limited_app(signups_per_ip=2) as app:
        here = from_ip(app, "10.5.0.1")
        for n in range(2):
            await register(here, f"new{n}@example.com")
        body = {"email": "new2@example.com", "password": PASSWORD}
        _assert_429(await here.post("/auth/register", json=body), "too many sign-ups", 3600)
        assert await count_rows(db, User, User.email == "new2@example.com") == 0
        assert await count_rows(db, Delivery, Delivery.destination == body["email"]) == 0
        elsewhere = from_ip(app, "10.5.0.2")
        assert (await elsewhere.post("/auth/register", json=body)).status_code == 201
