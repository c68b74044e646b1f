"""Fixtures of the subscription tests."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from tests.support.subscription_helpers import Bought, bought_and_running


@pytest.fixture
async def bought(
    skipping_api: httpx.AsyncClient, db: AsyncSession, time_skipping_env: WorkflowEnvironment
) -> Bought:
    """A customer who bought the default plan on the time-skipping server; its subscription's
    workflow is running."""
    return await bought_and_running(skipping_api, db, time_skipping_env)
