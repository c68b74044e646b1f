"""Fixtures of the contract tests, which send every route something: whose token goes where,
and the live API the OpenAPI contract drives, with its seeded data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from devstack.postgres import LocalPostgres
from tests.support.catalog_helpers import add_categories, make_admin
from tests.support.fuzz_seed import Seeded, seed
from tests.support.live_api import LiveApi, live_api
from tests.support.request_helpers import technician, technician_headers

SWEEP_PHONE = "+919812399999"


@pytest.fixture
async def admin_headers(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    return await make_admin(api, db, "sweeper@example.com")


@pytest.fixture
async def headers_for(
    api: httpx.AsyncClient, db: AsyncSession, admin_headers: dict[str, str]
) -> Callable[[str], dict[str, str]]:
    """An admin's token, but a technician's for the technician's own routes (an admin gets 403
    there before any input is looked at)."""
    await add_categories(api, admin_headers, "plumbing")
    await technician(api, admin_headers, "Sweeping Tech", SWEEP_PHONE)
    tech = await technician_headers(api, db, SWEEP_PHONE)
    return lambda path: tech if path.startswith("/technician/") else admin_headers


@pytest.fixture(scope="session")
async def seeded_api(
    pg_server: LocalPostgres | None,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveApi, Seeded]]:
    """The live API (processes of their own, see tests.support.live_api) over seeded data (see
    tests.support.fuzz_seed), with each role's token."""
    with live_api(pg_server, temporal_env, tmp_path_factory.mktemp("contract")) as live:
        seeded = await seed(live)
        live.tokens.update(seeded.tokens)
        live.emails.update(seeded.emails)
        yield live, seeded
