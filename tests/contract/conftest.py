"""Fixtures of the contract tests, which send every route something: whose token goes where."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.catalog_helpers import add_categories, make_admin
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
