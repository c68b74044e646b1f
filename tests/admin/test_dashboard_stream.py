"""The live dashboard (`GET /admin/dashboard/events`) through a real uvicorn process: the figures
as they are first, then new figures after a purchase and after a request's status changes,
without asking again; staff only; a bounded number of streams per user; a stopping process ends
its streams at once.

The purchase and the request run through the in-process API and its worker (the suite's database
and Temporal server); the stream is served by the separate process, which learns of each change
from PostgreSQL's notification, as another API replica would.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from tests.conftest import free_port
from tests.support.catalog_helpers import add_categories, make_admin, make_customer
from tests.support.request_helpers import Shop, asked
from tests.support.sse import WAIT_S, ApiProcess, Stream, api_environment
from tests.support.subscription_helpers import buy_plan

PATH = "/api/v1/admin/dashboard/events"


@pytest.fixture(scope="module")
def live_api(
    database_url: str, temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    env = api_environment(database_url, temporal_env)
    server = ApiProcess(env, free_port(), tmp_path_factory.mktemp("dashboard") / "api.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def watch(server: ApiProcess, headers: dict[str, str]) -> AsyncIterator[Stream]:
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=WAIT_S) as client,
        client.stream("GET", PATH, headers=headers) as response,
    ):
        yield Stream(response)


async def first_figures(stream: Stream) -> dict[str, Any]:
    assert stream.response.status_code == 200, await stream.response.aread()
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    retry = await stream.next()
    assert retry is not None and retry.retry == "3000"
    event = await stream.next_event()
    assert event is not None and event.name == "dashboard"
    return dict(event.data)


async def figures_until(stream: Stream, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next `dashboard` events until one satisfies `done` (each bounded by WAIT_S)."""
    while True:
        event = await stream.next_event()
        assert event is not None, "the stream ended"
        assert event.name == "dashboard"
        if done(event.data):
            return dict(event.data)


async def test_the_dashboard_follows_a_purchase_and_a_request_live(
    api: httpx.AsyncClient, db: AsyncSession, live_api: ApiProcess
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    async with watch(live_api, admin) as stream:
        first = await first_figures(stream)
        assert first["sales"]["month"]["count"] == 0
        assert first["active_subscriptions"] == 0

        bought = await buy_plan(api, db, "live-buyer@example.com", admin=admin)
        sold = await figures_until(
            stream, lambda f: f["sales"]["month"]["count"] == 1 and f["active_subscriptions"] == 1
        )
        assert sold["sales"]["month"]["amount"]["amount_minor"] > 0

        mine = (
            await api.get(f"/subscriptions/{bought.subscription_id}", headers=bought.buyer.headers)
        ).json()
        categories = {c["slug"]: c["category_id"] for c in mine["visits"]["by_category"]}
        request = await asked(api, Shop(bought, categories))
        opened = await figures_until(stream, lambda f: f["requests"]["open"] == 1)
        assert opened["requests"]["pending"] == 1

        cancelled = await api.post(
            f"/service-requests/{request['id']}/cancel",
            json={"reason": "fixed it myself"},
            headers=bought.buyer.headers,
        )
        assert cancelled.status_code == 200, cancelled.text
        closed = await figures_until(stream, lambda f: f["requests"]["open"] == 0)
        assert closed["requests"]["pending"] == 0


async def test_only_staff_follow_and_each_within_a_limit(
    api: httpx.AsyncClient, db: AsyncSession, live_api: ApiProcess
) -> None:
    customer = await make_customer(api, "nosy@example.com")
    async with asyncio.timeout(WAIT_S):
        for headers, status in ((customer, 403), ({}, 401)):
            async with watch(live_api, headers) as refused:
                assert refused.response.status_code == status
    admin = await make_admin(api, db)
    async with contextlib.AsyncExitStack() as streams:
        # Kept: a stream no longer referenced is closed by the garbage collector.
        held = [await streams.enter_async_context(watch(live_api, admin)) for _ in range(3)]
        for stream in held:  # MAX_DASHBOARD_STREAMS_PER_USER
            await first_figures(stream)
        async with asyncio.timeout(WAIT_S), watch(live_api, admin) as fourth:
            assert fourth.response.status_code == 429
            assert fourth.response.headers["retry-after"]


async def test_a_stopping_api_ends_its_dashboard_streams_at_once(
    api: httpx.AsyncClient,
    db: AsyncSession,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    admin = await make_admin(api, db)
    env = api_environment(database_url, temporal_env)
    server = ApiProcess(env, free_port(), tmp_path_factory.mktemp("stopping") / "api.log")
    server.start()
    try:
        async with watch(server, admin) as stream:
            await first_figures(stream)
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            # The stream ends (well within uvicorn's graceful wait for open responses).
            assert await stream.next_event() is None
        assert server.proc.wait(timeout=WAIT_S) == -signal.SIGTERM
    finally:
        server.stop()
