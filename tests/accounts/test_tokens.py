"""Access-token attacks: each one is a 401, never a way in."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from tests.conftest import TEST_SECRET, register


def _claims(user_id: str, session_id: str, settings: Settings, **over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "sid": session_id,
        "role": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(over)
    return claims


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
async def victim(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, Any]:
    registered = await register(api, "victim@example.com")
    access = registered["tokens"]["access_token"]
    claims = jwt.decode(access, options={"verify_signature": False})
    return {"user_id": claims["sub"], "session_id": claims["sid"], "tokens": registered["tokens"]}


async def _me(api: httpx.AsyncClient, token: str) -> httpx.Response:
    return await api.get("/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_genuine_token_works(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings
) -> None:
    token = jwt.encode(
        _claims(victim["user_id"], victim["session_id"], settings),
        TEST_SECRET,
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    assert (await _me(api, token)).status_code == 200


async def test_alg_none_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings
) -> None:
    claims = _claims(victim["user_id"], victim["session_id"], settings)
    claims = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
    response = await _me(api, token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings
) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(
        _claims(
            victim["user_id"],
            victim["session_id"],
            settings,
            iat=past,
            nbf=past,
            exp=past + timedelta(minutes=15),
        ),
        TEST_SECRET,
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    assert (await _me(api, token)).status_code == 401


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "evil")])
async def test_wrong_audience_or_issuer_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings, claim: str, value: str
) -> None:
    token = jwt.encode(
        _claims(victim["user_id"], victim["session_id"], settings, **{claim: value}),
        TEST_SECRET,
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    assert (await _me(api, token)).status_code == 401


async def test_token_signed_with_another_key_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings
) -> None:
    token = jwt.encode(
        _claims(victim["user_id"], victim["session_id"], settings),
        "another-key-entirely-0123456789abcdef",
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    assert (await _me(api, token)).status_code == 401


async def test_token_without_access_type_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings
) -> None:
    token = jwt.encode(
        _claims(victim["user_id"], victim["session_id"], settings),
        TEST_SECRET,
        algorithm="HS256",
        headers={"typ": "JWT"},
    )
    assert (await _me(api, token)).status_code == 401


async def test_refresh_token_used_as_access_token_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    assert (await _me(api, victim["tokens"]["refresh_token"])).status_code == 401


async def test_access_token_used_as_refresh_token_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    response = await api.post(
        "/auth/refresh", json={"refresh_token": victim["tokens"]["access_token"][:200]}
    )
    assert response.status_code == 401


async def test_token_for_a_made_up_session_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any], settings: Settings
) -> None:
    token = jwt.encode(
        _claims(victim["user_id"], str(uuid.uuid4()), settings),
        TEST_SECRET,
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    assert (await _me(api, token)).status_code == 401


async def test_missing_or_malformed_authorization_is_refused(
    api: httpx.AsyncClient, victim: dict[str, Any]
) -> None:
    assert (await api.get("/me")).status_code == 401
    basic = await api.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert (await _me(api, "not.a.jwt")).status_code == 401
