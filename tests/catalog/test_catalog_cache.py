"""The public catalog cache: repeated reads are answered before routing, and never with a catalog
that has changed, whether the change came through this process, another API process, or SQL.

Each API process LISTENs on `catalog_changed` (a trigger on `catalog_state` notifies at commit);
without the listener, every request confirms the catalog revision with a database read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.caching import LISTENER_NAME, CatalogCache
from api.main import create_app
from core.settings import Settings
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin

DEADLINE_S = 15.0  # how long a change may take to reach another process before the test fails


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Until `check()` holds; fails after DEADLINE_S (a liveness bound, not a speed figure)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"not within {DEADLINE_S:.0f} s: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def another_api_process(
    settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """A second app on the same database, with its own cache and listener (another replica)."""
    application = create_app(settings, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
            yield application, client


async def listening(app: Any) -> None:
    cache: CatalogCache = app.state.catalog
    await eventually(lambda: _true(cache.listening), "the catalog listener connected")


async def _true(value: bool) -> bool:
    return value


def _scope(path: str, query: bytes = b"") -> dict[str, Any]:
    return {"path": f"/api/v1{path}", "query_string": query}


async def test_a_repeated_read_gets_exactly_what_the_route_sent(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await add_active_plan(api, admin, "home-care")
    await listening(app)
    cache: CatalogCache = app.state.catalog
    answers: list[httpx.Response] = []

    async def served_early_after_a_read() -> bool:
        # The setup's own changes are announced in their own time: a late one empties the cache
        # (rightly), so the read is repeated until no announcement is still on its way.
        answers.append(await api.get("/catalog/plans", params={"sort": "price_asc"}))
        assert answers[-1].status_code == 200
        return cache.hit(_scope("/catalog/plans", b"sort=price_asc")) is not None

    await eventually(served_early_after_a_read, "a read served early after the route's answer")
    first = answers[-1]

    again = await api.get("/catalog/plans", params={"sort": "price_asc"})
    assert again.status_code == 200
    assert again.content == first.content
    for header in ("etag", "cache-control", "content-type", "content-length"):
        assert again.headers[header] == first.headers[header], header

    revalidated = await api.get(
        "/catalog/plans",
        params={"sort": "price_asc"},
        headers={"If-None-Match": f'W/"other", {first.headers["etag"]}'},
    )
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == first.headers["etag"]
    assert revalidated.headers["cache-control"] == first.headers["cache-control"]

    stale_tag = await api.get(
        "/catalog/plans", params={"sort": "price_asc"}, headers={"If-None-Match": '"old"'}
    )
    assert stale_tag.status_code == 200
    assert stale_tag.content == first.content


async def test_invalid_queries_are_refused_every_time_and_never_cached(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await listening(app)
    for _ in range(2):
        bad = await api.get("/catalog/plans", params={"limit": "0"})
        assert bad.status_code == 422
        assert "limit" in bad.text
    missing = [await api.get("/catalog/plans/no-such-plan") for _ in range(2)]
    assert [r.status_code for r in missing] == [404, 404]
    cache: CatalogCache = app.state.catalog
    assert cache.hit(_scope("/catalog/plans", b"limit=0")) is None
    assert cache.hit(_scope("/catalog/plans/no-such-plan")) is None


async def test_an_edit_is_seen_at_once_by_the_process_that_made_it(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")
    await listening(app)
    for _ in range(2):
        assert '"badge":null' in (await api.get("/catalog/plans/home-care")).text

    # Between a commit and its notification the process still trusts the old revision. Freeze it
    # in that moment: no notification will come, the revision stays trusted.
    cache: CatalogCache = app.state.catalog
    await cache.stop()
    cache.listening = True
    assert '"badge":null' in (await api.get("/catalog/plans/home-care")).text
    assert cache.hit(_scope("/catalog/plans/home-care")) is not None

    edit = await api.patch(
        f"/admin/catalog/plans/{plan['id']}", json={"badge": "New"}, headers=admin
    )
    assert edit.status_code == 200

    # The very next read, in the process that made the edit, has it: it does not wait for the
    # notification.
    assert '"badge":"New"' in (await api.get("/catalog/plans/home-care")).text


async def test_another_api_process_drops_its_cached_catalog_when_an_edit_commits(
    app: Any,
    api: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")

    async with another_api_process(settings, temporal_env) as (other_app, other):
        await listening(other_app)
        before = await other.get("/catalog/plans")
        assert (await other.get("/catalog/plans")).content == before.content
        assert other_app.state.catalog.hit(_scope("/catalog/plans")) is not None

        edit = await api.patch(
            f"/admin/catalog/plans/{plan['id']}", json={"badge": "Best value"}, headers=admin
        )
        assert edit.status_code == 200

        async def updated() -> bool:
            response = await other.get("/catalog/plans")
            return '"badge":"Best value"' in response.text

        await eventually(updated, "the other process served the edited plan")
        after = await other.get("/catalog/plans", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200


async def test_a_change_committed_in_sql_reaches_the_cache_too(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    """An operator's fix in psql: whoever replaces the revision token notifies (a trigger)."""
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await listening(app)
    for _ in range(2):
        assert "Plumbing & drains" not in (await api.get("/catalog/categories")).text

    await db.execute(
        text("UPDATE service_categories SET name = 'Plumbing & drains' WHERE slug = 'plumbing'")
    )
    await db.execute(text("UPDATE catalog_state SET revision = gen_random_uuid()"))
    await db.commit()

    async def renamed() -> bool:
        return "Plumbing & drains" in (await api.get("/catalog/categories")).text

    await eventually(renamed, "the categories list showed the rename")


async def test_without_its_listener_a_process_checks_the_revision_on_every_read(
    app: Any, api: httpx.AsyncClient, db: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Until the listener is connected, and whenever it has lost its connection, nothing is taken
    on trust: a change is seen by the very next read, with no notification needed."""
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    cache = CatalogCache(sessions)  # never listening
    first = await cache.revision()
    assert cache.hit(_scope("/catalog/categories")) is None

    await db.execute(text("UPDATE catalog_state SET revision = gen_random_uuid()"))
    await db.commit()
    assert await cache.revision() != first


async def test_a_listener_that_loses_its_connection_reconnects_and_rereads(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await listening(app)
    cache: CatalogCache = app.state.catalog

    async def served_early_after_a_read() -> bool:  # once the setup's announcements are in
        await api.get("/catalog/categories")
        return cache.hit(_scope("/catalog/categories")) is not None

    await eventually(served_early_after_a_read, "a read served early after the route's answer")

    # The database drops the listener's connection (a restart, a failover, an idle-kill rule):
    # every catalog listener on this database, so this app's, which is connected, among them (an
    # API of another module's, a browser test's stack, may listen on its own database of the same
    # server; an earlier test's may still be leaving this one: each reconnects on its own).
    killed = await db.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = :name AND datname = current_database()"
        ),
        {"name": LISTENER_NAME},
    )
    assert True in killed.scalars().all()
    # A change made while no listener is connected...
    await db.execute(
        text("UPDATE service_categories SET name = 'Wiring' WHERE slug = 'electrical'")
    )
    await db.execute(text("UPDATE catalog_state SET revision = gen_random_uuid()"))
    await db.commit()

    async def renamed() -> bool:
        return "Wiring" in (await api.get("/catalog/categories")).text

    # ...is never hidden behind the old revision: it shows, and the listener comes back.
    await eventually(renamed, "the rename made while the listener was down showed")
    await listening(app)
    assert "Wiring" in (await api.get("/catalog/categories")).text


@pytest.mark.parametrize("method", ["HEAD", "POST"])
async def test_only_gets_are_answered_from_the_cache(
    app: Any, api: httpx.AsyncClient, db: AsyncSession, method: str
) -> None:
    """Other methods reach the router, which allows GET and HEAD (its route answers HEAD, see
    test_catalog_head.py) on the public catalog."""
    await listening(app)
    for _ in range(2):
        assert (await api.get("/catalog/categories")).status_code == 200
    other = await api.request(method, "/catalog/categories")
    if method == "HEAD":
        assert other.status_code == 200
    else:
        assert other.status_code == 405
        assert other.headers["allow"] == "GET, HEAD"
