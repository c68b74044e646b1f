"""What every answer tells a browser, which origins may call the API, and who the client is
(api.security): the security headers on API answers of every kind (the web apps' pages keep their
own), Strict-Transport-Security only when TLS is on, CORS for the allowed origins only, and the
client's address from X-Forwarded-For only when the hop that connected is a trusted proxy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.settings import Settings
from tests.conftest import PASSWORD, make_settings

PARTNER = "https://partner.example.com"
STRANGER = "https://elsewhere.example.net"
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}


def browser(
    base: str = "http://test", *, ip: str = "10.9.9.9", **overrides: Any
) -> httpx.AsyncClient:
    """A client of an app with these settings that is never started (no database): enough for
    what the boundary answers by itself, and for a route that needs nothing started."""
    app = create_app(make_settings(**overrides))
    transport = httpx.ASGITransport(app=app, client=(ip, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base)


def assert_secured(response: httpx.Response, where: str) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get_list(name) == [value], (where, name, response.headers)


# --- security headers ---------------------------------------------------------------------------


async def test_every_kind_of_api_answer_carries_the_security_headers(
    api: httpx.AsyncClient,
) -> None:
    first = await api.get("/catalog/categories")
    again = await api.get("/catalog/categories")  # answered by the catalog's fast path
    assert first.status_code == again.status_code == 200
    assert_secured(first, "catalog")
    assert_secured(again, "catalog, cached")
    missing = await api.get("/orders/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 401
    assert_secured(missing, "401 problem")
    assert "strict-transport-security" not in first.headers  # plain http

    async with browser() as client:
        for path in ("/healthz", "/docs", "/api/v1/no-such-thing"):
            assert_secured(await client.get(path), path)
        # A 500 is answered outside the app's own layers; it is secured all the same (this app
        # was never started, so the catalog it reads is missing).
        broken = await client.get("/api/v1/catalog/categories")
        assert broken.status_code == 500
        assert_secured(broken, "500")


async def test_the_web_apps_pages_keep_their_own_stricter_headers() -> None:
    async with browser() as client:
        for path in ("/admin/", "/app/"):
            page = await client.get(path)
            policy = page.headers.get_list("content-security-policy")
            assert len(policy) == 1 and "default-src 'self'" in policy[0], (path, policy)
            assert "frame-ancestors 'none'" in policy[0]
            assert page.headers.get_list("referrer-policy") == ["same-origin"], path
            assert page.headers.get_list("x-frame-options") == ["DENY"], path
            assert page.headers.get_list("x-content-type-options") == ["nosniff"], path


async def test_hsts_only_when_tls_is_on() -> None:
    async with browser("https://test") as client:
        assert (await client.get("/healthz")).headers[
            "strict-transport-security"
        ] == "max-age=31536000"
    async with browser("https://test", hsts_max_age_seconds=0) as client:
        assert "strict-transport-security" not in (await client.get("/healthz")).headers
    # The deployment says it is served over https: sent whatever the hop in front used.
    async with browser(public_base_url="https://homeplans.example.com") as client:
        assert "strict-transport-security" in (await client.get("/healthz")).headers

    # Behind a proxy: its X-Forwarded-Proto counts only when it is a trusted one.
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.5"}
    async with browser(ip="10.0.0.2", trusted_proxies="10.0.0.0/24") as client:
        assert (
            "strict-transport-security" in (await client.get("/healthz", headers=forwarded)).headers
        )
    async with browser(ip="10.0.1.2", trusted_proxies="10.0.0.0/24") as client:
        untrusted = await client.get("/healthz", headers=forwarded)
        assert "strict-transport-security" not in untrusted.headers


# --- CORS ---------------------------------------------------------------------------------------


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
    }


def cors_headers(response: httpx.Response) -> list[str]:
    return [name for name in response.headers if name.startswith("access-control-")]


async def test_by_default_no_other_origin_gets_cors() -> None:
    async with browser() as client:
        answer = await client.get("/api/v1/no-such-thing", headers={"origin": PARTNER})
        assert cors_headers(answer) == []
        asked = await client.options("/api/v1/auth/register", headers=preflight(PARTNER))
        assert cors_headers(asked) == [] and asked.status_code != 204


async def test_an_allowed_origin_gets_cors_and_others_none() -> None:
    async with browser(cors_allow_origins=f"{PARTNER}, https://other.example.com") as client:
        asked = await client.options("/api/v1/auth/register", headers=preflight(PARTNER))
        assert asked.status_code == 204
        assert asked.headers["access-control-allow-origin"] == PARTNER
        assert "POST" in asked.headers["access-control-allow-methods"]
        allowed = asked.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= {
            h.strip() for h in allowed.split(",")
        }
        assert "access-control-allow-credentials" not in asked.headers  # bearer tokens only
        assert_secured(asked, "preflight")

        answer = await client.get("/api/v1/no-such-thing", headers={"origin": PARTNER})
        assert answer.headers["access-control-allow-origin"] == PARTNER
        assert "Location" in answer.headers["access-control-expose-headers"]
        assert "Origin" in answer.headers["vary"]

        for headers in ({"origin": STRANGER}, preflight(STRANGER)):
            refused = await client.request(
                "OPTIONS" if "access-control-request-method" in headers else "GET",
                "/api/v1/auth/register",
                headers=headers,
            )
            assert cors_headers(refused) == [], refused.headers
        # Caches keep answers apart by origin, whoever asks.
        assert "Origin" in (await client.get("/api/v1/no-such-thing")).headers["vary"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cors_allow_origins", "*"),
        ("cors_allow_origins", "https://partner.example.com/app"),
        ("cors_allow_origins", "partner.example.com"),
        ("trusted_proxies", "nginx"),
        ("trusted_proxies", "10.0.0.0/33"),
        ("trusted_proxies", "10.0.0.1, *"),
    ],
)
def test_a_malformed_list_fails_at_start_naming_the_entry(name: str, value: str) -> None:
    with pytest.raises(ValidationError, match=name.upper()):
        make_settings(**{name: value})


# --- the client's address -----------------------------------------------------------------------

Opener = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture
def open_app(settings: Settings, temporal_env: WorkflowEnvironment, worker: Worker) -> Opener:
    @asynccontextmanager
    async def opened(**overrides: Any) -> AsyncIterator[Any]:
        app = create_app(settings.model_copy(update=overrides), temporal=temporal_env.client)
        async with app.router.lifespan_context(app):
            yield app

    return opened


async def sign_up(app: Any, hop: str, forwarded_for: str, email: str) -> int:
    """A sign-up arriving from `hop`, which says it forwards it for `forwarded_for`."""
    transport = httpx.ASGITransport(app=app, client=(hop, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
        response = await client.post(
            "/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Hopper"},
            headers={"x-forwarded-for": forwarded_for},
        )
    return response.status_code


async def test_x_forwarded_for_from_an_untrusted_hop_is_ignored(
    open_app: Opener, db: AsyncSession
) -> None:
    # One sign-up per IP: a client that names another address in X-Forwarded-For is still counted
    # as the address that connected.
    async with open_app(signups_per_ip=1) as app:
        assert await sign_up(app, "198.51.100.7", "203.0.113.1", "a@example.com") == 201
        assert await sign_up(app, "198.51.100.7", "203.0.113.2", "b@example.com") == 429
    async with open_app(signups_per_ip=1, trusted_proxies="10.0.0.5") as app:
        assert await sign_up(app, "198.51.100.8", "203.0.113.3", "c@example.com") == 201
        assert await sign_up(app, "198.51.100.8", "203.0.113.4", "d@example.com") == 429


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    open_app: Opener, db: AsyncSession
) -> None:
    async with open_app(signups_per_ip=1, trusted_proxies="10.0.0.0/24") as app:
        # Two clients behind the proxy: each is counted as itself.
        assert await sign_up(app, "10.0.0.5", "203.0.113.1", "a@example.com") == 201
        assert await sign_up(app, "10.0.0.5", "203.0.113.2", "b@example.com") == 201
        # The first again, with an address it made up in front of its own: the proxy appended
        # the real one, which is what counts.
        assert await sign_up(app, "10.0.0.5", "192.0.2.99, 203.0.113.1", "c@example.com") == 429
        # Through two trusted proxies: the nearest address that is not a proxy is the client.
        assert await sign_up(app, "10.0.0.6", "203.0.113.2, 10.0.0.7", "d@example.com") == 429
        assert await sign_up(app, "10.0.0.6", "203.0.113.3, 10.0.0.7", "e@example.com") == 201
