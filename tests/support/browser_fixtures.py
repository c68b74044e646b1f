"""Fixtures of the web apps' browser tests (a pytest plugin, loaded by tests/conftest.py): per test
module, Debian's chromium and a built app (`chromium`: the module's `WEB_APP_DIST`, the admin
panel's by default), a live API and worker of its own (`live`), and one launched browser
(`browser`). See tests/support/admin_ui_harness.py for what runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright
from temporalio.testing import WorkflowEnvironment

from devstack.postgres import LocalPostgres
from tests.support.admin_ui_harness import (
    CHROMIUM_ARGS,
    DIST,
    Live,
    live_stack,
    require_browser_and_build,
)


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> str:
    return require_browser_and_build(getattr(request.module, "WEB_APP_DIST", DIST))


@pytest.fixture(scope="module")
def live(
    request: pytest.FixtureRequest,
    chromium: str,
    pg_server: LocalPostgres | None,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Live]:
    logs = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with live_stack(pg_server, temporal_env, logs) as stack:
        yield stack


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
