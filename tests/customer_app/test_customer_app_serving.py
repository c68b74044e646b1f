"""The customer app's build at /app, as a phone's browser fetches it: precompressed files in the
encoding it accepts, the service worker and manifest revalidated, the page's policy opening only
the configured providers' hosts; and the app's public configuration, which holds no secret.

A tiny fake build in a temporary folder (CUSTOMER_APP_DIST) stands in for Vite's output."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest

from api.app_config import app_config
from api.main import create_app
from tests.conftest import make_settings

SCRIPT = "console.log('app');" * 50


def _build(dist: Path) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>HomePlans</title>")
    script = dist / "assets" / "index-ab12cd.js"
    script.write_text(SCRIPT)
    (dist / "assets" / "index-ab12cd.js.br").write_bytes(brotli.compress(SCRIPT.encode()))
    (dist / "assets" / "index-ab12cd.js.gz").write_bytes(gzip.compress(SCRIPT.encode()))
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (dist / "manifest.webmanifest").write_text('{"name": "HomePlans"}')


async def _client(dist: Path, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(customer_app_dist=str(dist), **settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def phone(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    _build(tmp_path / "dist")
    async for client in _client(tmp_path / "dist"):
        yield client


async def _raw(client: httpx.AsyncClient, path: str, encoding: str) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its body as sent, not decoded (httpx would undo the encoding)."""
    request = client.build_request("GET", path, headers={"Accept-Encoding": encoding})
    response = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response.headers, raw


async def test_a_precompressed_file_is_sent_in_the_encoding_the_browser_takes(
    phone: httpx.AsyncClient,
) -> None:
    path = "/app/assets/index-ab12cd.js"
    headers, body = await _raw(phone, path, "gzip, deflate, br")
    assert headers["content-encoding"] == "br"
    assert brotli.decompress(body).decode() == SCRIPT
    assert "javascript" in headers["content-type"]
    assert headers["vary"] == "Accept-Encoding"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert int(headers["content-length"]) == len(body) < len(SCRIPT) // 5

    headers, body = await _raw(phone, path, "gzip")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).decode() == SCRIPT

    headers, body = await _raw(phone, path, "identity")
    assert "content-encoding" not in headers
    assert body.decode() == SCRIPT


async def test_the_service_worker_and_manifest_are_revalidated(phone: httpx.AsyncClient) -> None:
    worker = await phone.get("/app/sw.js")
    assert worker.status_code == 200
    assert worker.headers["cache-control"] == "no-cache"
    assert "javascript" in worker.headers["content-type"]
    manifest = await phone.get("/app/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    page = await phone.get("/app/plans/home-care")  # a route of the app
    assert page.status_code == 200 and "HomePlans" in page.text


async def test_the_page_policy_opens_only_the_configured_providers(tmp_path: Path) -> None:
    _build(tmp_path / "dist")
    async for sandbox in _client(tmp_path / "dist"):
        policy = (await sandbox.get("/app/")).headers["content-security-policy"]
        assert "script-src 'self';" in policy and "stripe" not in policy
        assert "frame-src 'none'" in policy
    stripe = {
        "payments_provider": "stripe",
        "stripe_secret_key": "sk_test_x",
        "stripe_publishable_key": "pk_test_123",
        "stripe_webhook_secret": "whsec_x",
    }
    async for client in _client(tmp_path / "dist", **stripe):
        policy = (await client.get("/app/")).headers["content-security-policy"]
        assert "script-src 'self' https://js.stripe.com;" in policy
        assert "frame-src https://js.stripe.com https://hooks.stripe.com;" in policy
        admin_policy = (await client.get("/admin/")).headers["content-security-policy"]
        assert "stripe" not in admin_policy  # the admin panel takes no payments


def test_the_apps_configuration_holds_public_values_only() -> None:
    settings = make_settings(
        payments_provider="stripe",
        stripe_secret_key="sk_test_x",
        stripe_publishable_key="pk_test_123",
        stripe_webhook_secret="whsec_x",
    )
    config = app_config(settings).model_dump()
    assert config["payments"] == {
        "provider": "stripe",
        "stripe_publishable_key": "pk_test_123",
        "razorpay_key_id": None,
    }
    assert config["time_zone"] == "Asia/Kolkata" and config["firebase"] is None
    assert "sk_test_x" not in str(config) and "whsec" not in str(config)


async def test_the_app_reads_its_configuration_before_signing_in(api: httpx.AsyncClient) -> None:
    answer = await api.get("/app/config")
    assert answer.status_code == 200
    assert answer.json()["payments"]["provider"] == "sandbox"
    assert answer.json()["currency"] == "INR"
