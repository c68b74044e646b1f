"""/healthz says the process is up; /readyz says whether PostgreSQL and Temporal answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from tests.conftest import free_port, make_settings


async def test_ready_when_postgres_and_temporal_answer(app: Any, db: AsyncSession) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "temporal": "ok"}


async def test_readiness_says_how_the_catalog_cache_and_live_streams_learn_of_changes(
    app: Any, db: AsyncSession
) -> None:
    notified = {"catalog_cache": "notified", "request_streams": "notified", "open_streams": 0}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for _ in range(500):  # the listeners connect in the background; bounded wait
            ready = (await client.get("/readyz")).json()
            if ready["info"] == notified:
                break
            await asyncio.sleep(0.02)
        assert ready["info"] == notified
        await app.state.catalog.stop()
        await app.state.streams.stop()
        after = await client.get("/readyz")
    # Informational: the cache still answers, checking each time; streams read the table.
    assert after.status_code == 200
    assert after.json()["info"] == {
        "catalog_cache": "checking every request",
        "request_streams": "reading every second",
        "open_streams": 0,
    }


async def test_not_ready_names_the_part_that_is_down(database_url: str) -> None:
    # Temporal address where nothing listens; PostgreSQL is the real one.
    settings = make_settings(database_url=database_url, temporal_address=f"127.0.0.1:{free_port()}")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["temporal"].startswith("down")
    assert "temporal" in body["detail"]
    assert "postgres" not in body["detail"]


async def test_not_ready_when_postgres_is_down(temporal_env: Any) -> None:
    settings = make_settings(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    )
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["temporal"] == "ok"
    assert "postgres" in ready.json()["detail"]
    assert ready.json()["info"] == {
        "catalog_cache": "checking every request",
        "request_streams": "reading every second",
        "open_streams": 0,
    }


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (RPCStatusCode.UNAVAILABLE, "tcp connect error"),
        # What the SDK raises when the connection breaks during a call (Temporal restarting).
        (RPCStatusCode.UNKNOWN, "transport error"),
    ],
)
async def test_a_call_that_cannot_reach_temporal_is_a_503_to_try_again(
    database_url: str, status: RPCStatusCode, message: str
) -> None:
    app = create_app(make_settings(database_url=database_url))

    @app.get("/api/v1/reaches-temporal")
    async def reaches_temporal() -> None:
        raise RPCError(message, status, b"")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/api/v1/reaches-temporal")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    assert "Temporal cannot be reached" in answer.json()["detail"]


async def test_any_other_temporal_error_is_still_a_500(database_url: str) -> None:
    app = create_app(make_settings(database_url=database_url))

    @app.get("/api/v1/reaches-temporal")
    async def reaches_temporal() -> None:
        raise RPCError("workflow task failed", RPCStatusCode.UNKNOWN, b"")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/api/v1/reaches-temporal")
    assert answer.status_code == 500
