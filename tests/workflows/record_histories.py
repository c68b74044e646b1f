"""Record workflow histories for the replay tests (tests/histories/*.json).

Run this when a workflow's behaviour changes ON PURPOSE and the change is patched
(`workflow.patched`), keeping the old files: the replay test then proves that runs started on the
old code still replay on the new one.

    .venv/bin/python -m tests.workflows.record_histories
    .venv/bin/python -m tests.workflows.record_histories campaigns      # campaigns alone
    .venv/bin/python -m tests.workflows.record_histories subscriptions  # subscriptions alone
    .venv/bin/python -m tests.workflows.record_histories service_requests  # the race alone
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api import subscriptions as lifecycle
from api.main import create_app
from core.db import make_engine, make_sessionmaker
from core.paths import temporal_cli
from core.settings import Settings
from devstack.postgres import LocalPostgres, ensure_database
from domain.accounts import otp
from domain.accounts import service as accounts
from domain.campaigns.contracts import campaign_workflow_id
from domain.contracts import (
    SEARCH_ATTRIBUTES,
    Channel,
    CodeSubmission,
    VerificationPurpose,
    VerificationStart,
    checkout_workflow_id,
)
from domain.service_requests.contracts import Cancel, service_request_workflow_id
from domain.subscriptions.contracts import VisitRef, VisitRequest, subscription_workflow_id
from tests.conftest import TEST_OTP_SECRET, alembic_config, free_port, latest_code, make_settings
from tests.support import campaign_helpers as campaigns
from tests.support.campaign_helpers import seed_customers
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, shop_with_cart
from tests.support.request_helpers import asked, shop, technician, technician_headers, window
from tests.support.subscription_helpers import buy_plan, renew, running, subscription_until
from tests.support.worker_process import until_timer_fired
from worker import build_worker
from workflows.account_verification import AccountVerificationWorkflow
from workflows.service_request import ServiceRequestWorkflow

OUT = Path(__file__).resolve().parents[1] / "histories"
# The checkout's newest patch (workflows/checkout.py ANNOUNCE_SUBSCRIPTIONS): part of the names of
# its recordings, so recording again after the next patch keeps these.
CHECKOUT_GENERATION = "announcing_subscriptions"
# The service request's newest patch (ENDED_FIRST in workflows/service_request.py; the
# recordings named after MESSAGES, the one before, are kept).
REQUESTS_GENERATION = "ended_before_flags"
# The subscription's newest patch (IN_ORDER in workflows/subscription.py).
SUBSCRIPTION_GENERATION = "writes_in_order"
DAY = timedelta(days=1)


async def record(only: str | None = None) -> None:
    """Every scenario; `only="campaigns"` or `"subscriptions"`: those scenarios alone."""
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
                if only in (None, "campaigns"):
                    async with sessions() as db:
                        await _campaigns(env.client, settings, db)
                if only == "campaigns":
                    return
                if only is None:
                    await _verifications(env.client, settings, sessions)
                    async with sessions() as db:
                        await _checkouts(env.client, settings, db)
        finally:
            await env.shutdown()
        skipping = await WorkflowEnvironment.start_time_skipping_v2(
            dev_server_existing_path=str(temporal_cli()),
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_extra_args=[
                "--dynamic-config-value",
                "frontend.WorkflowTimeSkippingEnabled=true",
            ],
        )
        try:
            async with (
                build_worker(skipping.client, settings, sessions=sessions),
                sessions() as db,
            ):
                if only in (None, "subscriptions"):
                    await _subscriptions(skipping, settings, db, only_these=only == "subscriptions")
                if only is None:
                    await _service_requests(skipping, settings, db)
            if only in (None, "service_requests"):
                await _service_request_race(
                    skipping, settings, sessions, only_these=only == "service_requests"
                )
        finally:
            await skipping.shutdown()
            await engine.dispose()


async def _verifications(
    temporal: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """One verification that succeeds after a wrong code and a resend, one that locks."""
    for scenario in ("verified_after_wrong_code_and_resend", "locked"):
        async with sessions() as db:
            email = f"{scenario}@example.com"
            user = await accounts.create_user(db, email=email, phone=None, password_hash=None)
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
        handle = await temporal.start_workflow(
            AccountVerificationWorkflow.run,
            start,
            id=f"record-{uuid.uuid4()}",
            task_queue=settings.temporal_task_queue,
        )
        await handle.execute_update(AccountVerificationWorkflow.current)

        def sub(code: str, uid: uuid.UUID = user.id) -> CodeSubmission:
            return CodeSubmission(digest=otp.code_digest(TEST_OTP_SECRET, uid, Channel.email, code))

        await handle.execute_update(AccountVerificationWorkflow.submit_code, sub("000000"))
        if scenario == "locked":
            for _ in range(2):
                await handle.execute_update(AccountVerificationWorkflow.submit_code, sub("000000"))
        else:
            await handle.execute_update(AccountVerificationWorkflow.resend)
            async with sessions() as db:
                code = await latest_code(db, email)
            await handle.execute_update(AccountVerificationWorkflow.submit_code, sub(code))
        await handle.result()
        history = await handle.fetch_history()
        path = OUT / f"account_verification_{scenario}.json"
        path.write_text(history.to_json())
        print("recorded", path)


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
                # Named after the last patch they include: earlier recordings keep their names.
                path = OUT / f"checkout_{scenario}_{CHECKOUT_GENERATION}.json"
                path.write_text((await handle.fetch_history()).to_json())
                print("recorded", path)


async def _subscriptions(
    env: WorkflowEnvironment, settings: Settings, db: AsyncSession, *, only_these: bool
) -> None:
    """Subscriptions on the time-skipping server, every run of each (continue-as-new):
    - a year with its reminders, grace, a renewal in grace, then the renewed year to expiry;
    - visits reserved and consumed, a cancellation quoted, and cancelled with a refund;
    - automatic renewal declined through dunning to expiry."""
    app = create_app(settings, temporal=env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://record/api/v1") as api:
            with env.with_time_skipping_disabled():
                admin = await make_admin(api, db, "subscriptions-admin@example.com")
                if only_these:  # the categories the checkouts made otherwise
                    await add_categories(api, admin)
                plan = await add_active_plan(api, admin, "subscription-care")
                year = await buy_plan(api, db, "year@example.com", admin=admin, plan=plan)
            # A year, grace, renewed in grace, the second year to its end.
            h = await running(env.client, year.subscription_id)
            await env.fast_forward(h, 367 * DAY)
            with env.with_time_skipping_disabled():
                await renew(api, year.buyer, year.subscription_id)
                await subscription_until(
                    api, year.buyer, year.subscription_id, lambda s: s["period"] == 2
                )
            await env.fast_forward(h, 400 * DAY)
            await _save_runs(env, year.subscription_id, "subscription_year_renewed_in_grace")
            # Visits, then a cancellation with its refund. Each bought when its scenario begins:
            # the fast-forwards before it move the server's clock past a year bought earlier.
            with env.with_time_skipping_disabled():
                cancelled = await buy_plan(api, db, "cancel@example.com", admin=admin, plan=plan)
            mine = (
                await api.get(
                    f"/subscriptions/{cancelled.subscription_id}", headers=cancelled.buyer.headers
                )
            ).json()
            category = uuid.UUID(mine["visits"]["by_category"][0]["category_id"])
            request = uuid.uuid4()
            sid = cancelled.subscription_id
            await lifecycle.reserve_visit(
                env.client, sid, VisitRequest(request_id=request, category_id=category)
            )
            await lifecycle.consume_visit(env.client, sid, VisitRef(request_id=request))
            quote = (
                await api.post(
                    f"/subscriptions/{sid}/cancellation-quote", headers=cancelled.buyer.headers
                )
            ).json()
            await api.post(
                f"/subscriptions/{sid}/cancel",
                json={"quote_id": quote["quote_id"]},
                headers=cancelled.buyer.headers,
            )
            await _save_runs(env, sid, "subscription_visits_then_cancelled")
            # Automatic renewal on a card the bank declines: dunning, then expiry.
            with env.with_time_skipping_disabled():
                dunning = await buy_plan(api, db, "dunning@example.com", admin=admin, plan=plan)
            card = await api.post(
                "/me/payment-methods",
                json={
                    "provider": "sandbox",
                    "provider_method_id": "sbx_pm_decline_rec",
                    "kind": "card",
                },
                headers=dunning.buyer.headers,
            )
            assert card.status_code == 201, card.text
            switched = await api.put(
                f"/subscriptions/{dunning.subscription_id}/auto-renew",
                json={"enabled": True, "payment_method_id": card.json()["id"]},
                headers=dunning.buyer.headers,
            )
            assert switched.status_code == 200, switched.text
            await env.fast_forward(await running(env.client, dunning.subscription_id), 400 * DAY)
            await _save_runs(env, dunning.subscription_id, "subscription_dunning_then_expired")


async def _service_requests(env: WorkflowEnvironment, settings: Settings, db: AsyncSession) -> None:
    """Service requests through the API: one from request to rating, one cancelled after it
    was assigned and moved."""
    app = create_app(settings, temporal=env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://record/api/v1") as api:
            with env.with_time_skipping_disabled():
                admin = await make_admin(api, db, "requests-admin@example.com")
                plan = await add_active_plan(api, admin, "request-care")
                s = await shop(api, db, "requests@example.com", admin=admin, plan=plan)
                plumber = await technician(api, s.admin, "Recorder", "+919812377777")
                tech = await technician_headers(api, db, "+919812377777")
                done = (await asked(api, s))["id"]
                await api.post(
                    f"/admin/service-requests/{done}/assign",
                    json={"technician_id": plumber["id"], "reason": "recorded"},
                    headers=s.admin,
                )
                await api.post(f"/technician/jobs/{done}/start", headers=tech)
                await api.post(
                    f"/technician/jobs/{done}/complete", json={"notes": "ok"}, headers=tech
                )
                await api.post(
                    f"/service-requests/{done}/rating", json={"stars": 5}, headers=s.customer
                )
                dropped = (await asked(api, s, when=window(days=3)))["id"]
                await api.post(
                    f"/admin/service-requests/{dropped}/assign",
                    json={"technician_id": plumber["id"]},
                    headers=s.admin,
                )
                start, end = window(days=4)
                await api.post(
                    f"/service-requests/{dropped}/reschedule",
                    json={"window_start": start, "window_end": end},
                    headers=s.customer,
                )
                await api.post(f"/service-requests/{dropped}/cancel", json={}, headers=s.customer)
            for rid, name in ((done, "rated"), (dropped, "moved_then_cancelled")):
                handle = env.client.get_workflow_handle(service_request_workflow_id(uuid.UUID(rid)))
                await handle.result()
                path = OUT / f"service_request_{name}_{REQUESTS_GENERATION}.json"
                path.write_text((await handle.fetch_history()).to_json())
                print("recorded", path)


async def _service_request_race(
    env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    only_these: bool,
) -> None:
    """A request cancelled as its escalation falls due (the patch ended-before-flags): the
    escalation's timer fires while no worker runs, the customer cancels before one is back, and
    the next worker runs both in one workflow task (as tests/test_service_request_sla.py stages
    it). Its history holds the patch's marker."""
    app = create_app(settings, temporal=env.client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://record/api/v1"
        ) as api,
        sessions() as db,
    ):
        async with build_worker(env.client, settings, sessions=sessions):
            with env.with_time_skipping_disabled():
                admin = await make_admin(api, db, "race-admin@example.com")
                if only_these:  # the categories the checkouts made otherwise
                    await add_categories(api, admin)
                plan = await add_active_plan(api, admin, "race-care")
                s = await shop(api, db, "race@example.com", admin=admin, plan=plan)
                rid = (await asked(api, s))["id"]
            handle = env.client.get_workflow_handle(service_request_workflow_id(uuid.UUID(rid)))
            for _ in range(1200):  # its "received" message sent: time skips with none out
                if not (await handle.describe()).raw_description.pending_activities:
                    break
                await asyncio.sleep(0.05)
        moved = asyncio.create_task(env.fast_forward(handle, timedelta(hours=5)))
        await until_timer_fired(handle)
        cancel = asyncio.create_task(
            handle.execute_update(
                ServiceRequestWorkflow.cancel, Cancel(actor="customer", reason="fixed it myself")
            )
        )
        await asyncio.sleep(1.0)  # the update reaches the server before a worker is there
        async with build_worker(env.client, settings, sessions=sessions):
            await asyncio.wait_for(cancel, timeout=60)
            await asyncio.wait_for(moved, timeout=60)
            await asyncio.wait_for(handle.result(), timeout=60)
    history = await handle.fetch_history()
    patches = [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    # The race was staged (the flag's timer looked at once the request had ended): its marker.
    assert "ended-before-flags" in patches, "the update and the timer came in different tasks"
    path = OUT / f"service_request_cancelled_as_escalation_fell_due_{REQUESTS_GENERATION}.json"
    path.write_text(history.to_json())
    print("recorded", path)


async def _campaigns(temporal: Client, settings: Settings, db: AsyncSession) -> None:
    """Campaigns through the real API, 2 people a batch, continuing as new every 2 batches: one
    paused and resumed to the end (3 runs), one cancelled."""
    paced = settings.model_copy(
        update={
            "campaign_batch_size": 2,
            "campaign_rate_per_second": 2.0,
            "campaign_batches_per_run": 2,
        }
    )
    app = create_app(paced, temporal=temporal)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://record/api/v1") as api:
            admin = await make_admin(api, db, "campaigner@example.com")
            await seed_customers(db, 9, prefix="recorded")
            resumed = await campaigns.create(api, admin)
            await campaigns.start(api, admin, resumed["id"])
            await api.post(f"/admin/campaigns/{resumed['id']}/pause", headers=admin)
            await api.post(f"/admin/campaigns/{resumed['id']}/resume", headers=admin)
            await campaigns.finished(temporal, resumed["id"])
            cancelled = await campaigns.create(api, admin)
            await campaigns.start(api, admin, cancelled["id"])
            await api.post(f"/admin/campaigns/{cancelled['id']}/cancel", headers=admin)
            await campaigns.finished(temporal, cancelled["id"])
            for name, campaign in (("paused_resumed", resumed), ("cancelled", cancelled)):
                workflow_id = campaign_workflow_id(uuid.UUID(campaign["id"]))
                runs = [r async for r in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]
                for n, run in enumerate(sorted(runs, key=lambda r: r.start_time), start=1):
                    handle = temporal.get_workflow_handle(workflow_id, run_id=run.run_id)
                    path = OUT / f"campaign_{name}_run{n}.json"
                    path.write_text((await handle.fetch_history()).to_json())
                    print("recorded", path)


async def _save_runs(env: WorkflowEnvironment, subscription_id: uuid.UUID, name: str) -> None:
    """Every run of the subscription's workflow, oldest first, once it has ended."""
    workflow_id = subscription_workflow_id(subscription_id)
    await env.client.get_workflow_handle(workflow_id).result()
    runs = [r async for r in env.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    for n, run in enumerate(sorted(runs, key=lambda r: r.start_time), start=1):
        handle = env.client.get_workflow_handle(workflow_id, run_id=run.run_id)
        path = OUT / f"{name}_{SUBSCRIPTION_GENERATION}_run{n}.json"
        path.write_text((await handle.fetch_history()).to_json())
        print("recorded", path)


if __name__ == "__main__":
    asyncio.run(record(*sys.argv[1:2]))
    os._exit(0)  # temporalio/sdk-python#300: the client can crash at interpreter exit
