"""Record workflow histories for the replay tests (tests/histories/*.json).

Run this when a workflow's behaviour changes ON PURPOSE and the change is patched
(`workflow.patched`), keeping the old files: the replay test then proves that runs started on the
old code still replay on the new one.

    .venv/bin/python -m tests.record_histories
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.db import make_engine, make_sessionmaker
from core.paths import temporal_cli
from core.settings import Settings
from devstack.postgres import LocalPostgres, ensure_database
from domain.accounts import otp
from domain.accounts import service as accounts
from domain.contracts import (
    SEARCH_ATTRIBUTES,
    Channel,
    CodeSubmission,
    VerificationPurpose,
    VerificationStart,
    checkout_workflow_id,
)
from tests.checkout_helpers import buyer_with_cart, checkout, sandbox_act, shop_with_cart
from tests.conftest import TEST_OTP_SECRET, alembic_config, free_port, latest_code, make_settings
from worker import build_worker
from workflows.account_verification import AccountVerificationWorkflow

OUT = Path(__file__).parent / "histories"


async def record() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalPostgres(Path(tmp) / "pg", port=free_port()) as pg,
    ):
        ensure_database(pg.host, pg.port, "record")
        settings = make_settings(database_url=pg.url("record"))
        command.upgrade(alembic_config(settings.database_url), "head")
        engine = make_engine(settings)
        sessions = make_sessionmaker(engine)
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli()),
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
        )
        try:
            async with build_worker(env.client, settings, sessions=sessions):
                for scenario in ("verified_after_wrong_code_and_resend", "locked"):
                    async with sessions() as db:
                        email = f"{scenario}@example.com"
                        user = await accounts.create_user(
                            db, email=email, phone=None, password_hash=None
                        )
                        await db.commit()
                    start = VerificationStart(
                        user_id=user.id,
                        channel=Channel.email,
                        destination=email,
                        purpose=VerificationPurpose.verify,
                        ttl_seconds=600,
                        max_attempts=3,
                        resend_cooldown_seconds=0,
                        max_resends=3,
                    )
                    handle = await env.client.start_workflow(
                        AccountVerificationWorkflow.run,
                        start,
                        id=f"record-{uuid.uuid4()}",
                        task_queue=settings.temporal_task_queue,
                    )
                    await handle.execute_update(AccountVerificationWorkflow.current)

                    def sub(code: str, uid: uuid.UUID = user.id) -> CodeSubmission:
                        return CodeSubmission(
                            digest=otp.code_digest(TEST_OTP_SECRET, uid, Channel.email, code)
                        )

                    await handle.execute_update(
                        AccountVerificationWorkflow.submit_code, sub("000000")
                    )
                    if scenario == "locked":
                        for _ in range(2):
                            await handle.execute_update(
                                AccountVerificationWorkflow.submit_code, sub("000000")
                            )
                    else:
                        await handle.execute_update(AccountVerificationWorkflow.resend)
                        async with sessions() as db:
                            code = await latest_code(db, email)
                        await handle.execute_update(
                            AccountVerificationWorkflow.submit_code, sub(code)
                        )
                    await handle.result()
                    history = await handle.fetch_history()
                    path = OUT / f"account_verification_{scenario}.json"
                    path.write_text(history.to_json())
                    print("recorded", path)
                async with sessions() as db:
                    await _checkouts(env.client, settings, db)
        finally:
            await env.shutdown()
            await engine.dispose()


async def _checkouts(temporal: Client, settings: Settings, db: AsyncSession) -> None:
    """Sandbox checkouts through the real API: one paid, one declined."""
    app = create_app(settings, temporal=temporal)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://record/api/v1") as api:
            buyer, plan = await shop_with_cart(api, db)
            for scenario in ("paid", "declined"):
                if scenario == "declined":
                    buyer = await buyer_with_cart(api, plan, "declined@example.com")
                body = (await checkout(api, buyer)).json()
                order_id = body["order"]["id"]
                await sandbox_act(
                    api, body["payment"], "approve" if scenario == "paid" else "decline"
                )
                handle = temporal.get_workflow_handle(checkout_workflow_id(uuid.UUID(order_id)))
                await handle.result()
                path = OUT / f"checkout_{scenario}.json"
                path.write_text((await handle.fetch_history()).to_json())
                print("recorded", path)


if __name__ == "__main__":
    asyncio.run(record())
    os._exit(0)  # temporalio/sdk-python#300: the client can crash at interpreter exit
