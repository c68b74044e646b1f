"""The restore drill: a running system is backed up with `manage.py backup` (Temporal's store
first, then the read model), lost, and restored with `manage.py restore` into a fresh database and
a fresh Temporal server started from the copied store. The restored system serves the same orders
and subscriptions, and its workflows go on there: a checkout that was waiting for its payment at
the backup completes after the restore, and a subscription bought before it takes a cancellation
and its refund.

Temporal here is a dev server with its state in a SQLite file, as `make run` keeps it; production
keeps it in PostgreSQL, which the same command dumps as it dumps the read model
(`--temporal-database`, docs/operations.md).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.main import create_app
from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from devstack.postgres import LocalPostgres
from devstack.temporal_server import server_command
from domain.subscriptions.models import Subscription
from tests.conftest import (
    ROOT,
    TEST_OTP_SECRET,
    TEST_SECRET,
    alembic_config,
    free_port,
    make_database,
    make_settings,
)
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order
from tests.support.subscription_helpers import Bought, buy_plan
from tests.support.waiting import eventually
from worker import build_worker

READY_S = 60.0  # a bound for slow machines, never an expectation


@dataclass
class System:
    """One whole system: its Temporal server, database, worker and API."""

    api: httpx.AsyncClient
    db: AsyncSession
    temporal: Client


@asynccontextmanager
async def temporal_server(db_file: Path) -> AsyncIterator[Client]:
    """A Temporal dev server keeping its state in `db_file`, stopped on leaving."""
    port = free_port()
    argv = server_command(host="127.0.0.1", port=port, ui_port=free_port(), db_file=db_file)
    db_file.parent.mkdir(parents=True, exist_ok=True)
    log = db_file.with_suffix(".log")
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(*argv, stdout=out, stderr=out)
    try:

        async def connected() -> Client | None:
            assert proc.returncode is None, f"Temporal exited: {log.read_text()}"
            try:
                return await Client.connect(
                    f"127.0.0.1:{port}", data_converter=pydantic_data_converter
                )
            except RuntimeError:  # not listening yet
                return None

        client = await eventually(connected, lambda c: c is not None, "Temporal answered")
        assert client is not None
        yield client
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@asynccontextmanager
async def system(settings: Settings, temporal: Client) -> AsyncIterator[System]:
    engine = make_engine(settings)
    sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
    try:
        async with build_worker(temporal, settings, sessions=sessions):
            app = create_app(settings, temporal=temporal)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with (
                    httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as api,
                    sessions() as db,
                ):
                    yield System(api, db, temporal)
    finally:
        await engine.dispose()


async def manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """`python manage.py ARGS` as an operator runs it, against `database_url`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "OTP_SECRET": TEST_OTP_SECRET,
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=READY_S,
    )


async def seen_by(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """What the customer's app shows of their purchases."""
    orders = await api.get("/orders", headers=headers)
    subscriptions = await api.get("/subscriptions", headers=headers)
    assert orders.status_code == subscriptions.status_code == 200
    return {"orders": orders.json(), "subscriptions": subscriptions.json()}


async def test_a_restored_backup_serves_the_same_purchases_and_its_workflows_go_on(
    pg_server: LocalPostgres | None, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    first_db = make_database(pg_server, f"homeplans_drill_{suffix}")
    command.upgrade(alembic_config(first_db), "head")
    queue = f"drill-{suffix}"
    backup = tmp_path / "backup"

    # --- the system as it ran: a plan bought, another purchase waiting for its payment ----------
    async with (
        temporal_server(tmp_path / "lost" / "temporal.db") as temporal,
        system(make_settings(database_url=first_db, temporal_task_queue=queue), temporal) as s,
    ):
        bought: Bought = await buy_plan(s.api, s.db, "holder@example.com")
        waiting = await buyer_with_cart(s.api, bought.plan, "waiting@example.com")
        started = await checkout(s.api, waiting)
        assert started.status_code == 201, started.text
        pending = started.json()
        before = await seen_by(s.api, bought.buyer.headers)
        assert len(before["subscriptions"]["items"]) == 1

        made = await manage(
            "backup",
            "--to",
            str(backup),
            "--temporal-sqlite",
            str(tmp_path / "lost" / "temporal.db"),
            database_url=first_db,
        )
        assert made.returncode == 0, made.stderr
    # The machine is lost: its Temporal server, worker and API are gone.

    # --- restored: a new database and a Temporal server on the copied store --------------------
    restored_db = make_database(pg_server, f"homeplans_restored_{suffix}")
    store = tmp_path / "restored" / "temporal.db"
    done = await manage(
        "restore", "--from", str(backup), "--temporal-sqlite", str(store), database_url=restored_db
    )
    assert done.returncode == 0, done.stderr

    # A restore never writes over a database in use: refused, and nothing changed.
    again = await manage("restore", "--from", str(backup), database_url=restored_db)
    assert again.returncode == 2
    assert "has" in again.stderr and "tables" in again.stderr

    async with (
        temporal_server(store) as temporal,
        system(make_settings(database_url=restored_db, temporal_task_queue=queue), temporal) as s,
    ):
        # The same orders and subscriptions, and the same sessions (the customer is still
        # signed in).
        assert await seen_by(s.api, bought.buyer.headers) == before

        # The checkout that waited for its payment at the backup completes now.
        approved = await sandbox_act(s.api, pending["payment"])
        assert approved.status_code < 400, approved.text
        order = await wait_for_order(s.api, waiting, pending["order"]["id"], {"completed"})
        assert order["status"] == "completed"

        # The subscription bought before the backup is cancelled with its refund.
        sid = bought.subscription_id
        quote = await s.api.post(
            f"/subscriptions/{sid}/cancellation-quote", headers=bought.buyer.headers
        )
        assert quote.status_code == 200, quote.text
        cancelled = await s.api.post(
            f"/subscriptions/{sid}/cancel",
            json={"quote_id": quote.json()["quote_id"]},
            headers=bought.buyer.headers,
        )
        assert cancelled.status_code == 200, cancelled.text

        async def status() -> str:
            s.db.expire_all()
            row = await s.db.scalar(select(Subscription.status).where(Subscription.id == sid))
            await s.db.commit()
            return str(row)

        await eventually(status, lambda v: v == "cancelled", "the subscription cancelled")
