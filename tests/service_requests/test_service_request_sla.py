"""SLA timers at their configured lengths (escalated when unassigned 4 hours after it was asked
for; overdue when not completed 2 hours after its window ends), on the dev server with
per-workflow time skipping: the flags reach the admin list, the search attributes and the
admins' inboxes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from domain.contracts import REQUEST_ESCALATED, REQUEST_OVERDUE
from domain.service_requests.contracts import Cancel, RequestState, service_request_workflow_id
from tests.support.request_helpers import asked, sent_to, shop, technician, until
from tests.support.worker_process import until_timer_fired, until_update_admitted
from worker import build_worker
from workflows.service_request import ServiceRequestWorkflow

HOUR = timedelta(hours=1)


async def test_unassigned_after_four_hours_it_is_escalated_and_late_it_is_overdue(
    skipping_api: httpx.AsyncClient, db: AsyncSession, time_skipping_env: WorkflowEnvironment
) -> None:
    env, api = time_skipping_env, skipping_api
    with env.with_time_skipping_disabled():
        s = await shop(api, db)
        plumber = await technician(api, s.admin, "Plumber", "+919812300201")
        request = await asked(api, s)
    rid = request["id"]
    handle = env.client.get_workflow_handle(
        service_request_workflow_id(uuid.UUID(rid)), result_type=RequestState
    )

    await env.fast_forward(handle, 3 * HOUR)
    listed = (
        await api.get("/admin/service-requests", params={"escalated": True}, headers=s.admin)
    ).json()
    assert listed["items"] == []  # not yet
    await env.fast_forward(handle, 2 * HOUR)
    listed = await until(
        api,
        "/admin/service-requests?escalated=true",
        s.admin,
        lambda body: [r["id"] for r in body["items"]] == [rid],
    )
    assert listed["items"][0]["escalated"] is True and listed["items"][0]["overdue"] is False
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(REQUEST_ESCALATED) is True
    admin_email = "admin@example.com"
    assert "escalated" in await sent_to(db, admin_email, rid)

    # Assigned, but never completed: two hours after its window, it is overdue.
    assigned = await api.post(
        f"/admin/service-requests/{rid}/assign",
        json={"technician_id": plumber["id"]},
        headers=s.admin,
    )
    assert assigned.status_code == 200, assigned.text
    await env.fast_forward(handle, 3 * 24 * HOUR)
    overdue = await until(
        api,
        "/admin/service-requests?overdue=true",
        s.admin,
        lambda body: [r["id"] for r in body["items"]] == [rid],
    )
    assert overdue["items"][0]["status"] == "assigned"
    assert (await handle.describe()).typed_search_attributes.get(REQUEST_OVERDUE) is True
    assert "overdue" in await sent_to(db, admin_email, rid)
    kinds = [
        e["kind"]
        for e in (await api.get(f"/admin/service-requests/{rid}", headers=s.admin)).json()[
            "timeline"
        ]
    ]
    assert kinds == ["created", "escalated", "assigned", "overdue"]


# A fault injected in PostgreSQL: the escalation's timeline entry is refused while a row of
# escalation_writes_fail exists; each refusal counts in a sequence (not rolled back with it).
FAULT = (
    "CREATE SEQUENCE escalation_write_failures",
    "CREATE TABLE escalation_writes_fail (since timestamptz DEFAULT now())",
    "INSERT INTO escalation_writes_fail DEFAULT VALUES",
    """CREATE FUNCTION escalation_write_fails() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.kind = 'escalated' AND EXISTS (SELECT 1 FROM escalation_writes_fail) THEN
        PERFORM nextval('escalation_write_failures');
        RAISE EXCEPTION 'injected: the escalation write fails';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER escalation_write_fails BEFORE INSERT ON service_request_events
    FOR EACH ROW EXECUTE FUNCTION escalation_write_fails()""",
)
NO_FAULT = (
    "DROP TRIGGER IF EXISTS escalation_write_fails ON service_request_events",
    "DROP FUNCTION IF EXISTS escalation_write_fails()",
    "DROP TABLE IF EXISTS escalation_writes_fail",
    "DROP SEQUENCE IF EXISTS escalation_write_failures",
)


async def test_an_escalation_written_after_the_assignment_does_not_undo_it(
    skipping_api: httpx.AsyncClient, db: AsyncSession, time_skipping_env: WorkflowEnvironment
) -> None:
    """The escalation's write fails (PostgreSQL refuses it, a fault injected by the test) and is
    retried; meanwhile an admin assigns the request. When the escalation's write goes through, the
    admins still see the request assigned, and escalated."""
    env, api = time_skipping_env, skipping_api
    with env.with_time_skipping_disabled():
        s = await shop(api, db)
        plumber = await technician(api, s.admin, "Plumber", "+919812300202")
        request = await asked(api, s)
    rid = request["id"]
    handle = env.client.get_workflow_handle(
        service_request_workflow_id(uuid.UUID(rid)), result_type=RequestState
    )
    for statement in FAULT:
        await db.execute(text(statement))
    await db.commit()
    try:
        # Past the 4 hours: the escalation is due (the move completes once its task has).
        moved = asyncio.create_task(env.fast_forward(handle, 5 * HOUR))
        for _ in range(1200):
            failures = await db.scalar(text("SELECT is_called FROM escalation_write_failures"))
            await db.commit()
            if failures:
                break
            await asyncio.sleep(0.05)
        assert failures, "the escalation was never written"

        assigned = await api.post(
            f"/admin/service-requests/{rid}/assign",
            json={"technician_id": plumber["id"]},
            headers=s.admin,
        )
        assert assigned.status_code == 200, assigned.text
        await db.execute(text("DELETE FROM escalation_writes_fail"))
        await db.commit()
        await asyncio.wait_for(moved, timeout=60)
        detail = await until(  # the write's next retry: up to 30 s after the fault is lifted
            api,
            f"/admin/service-requests/{rid}",
            s.admin,
            lambda body: "escalated" in [e["kind"] for e in body["timeline"]],
        )
    finally:
        await db.rollback()
        for statement in NO_FAULT:
            await db.execute(text(statement))
        await db.commit()
    assert detail["status"] == "assigned"
    assert detail["escalated"] is True
    listed = (
        await api.get("/admin/service-requests", params={"status": "assigned"}, headers=s.admin)
    ).json()
    assert [r["id"] for r in listed["items"]] == [rid]


async def test_a_request_cancelled_as_its_escalation_falls_due_is_not_escalated(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    """The escalation's timer fires while no worker runs, and the customer cancels before one is
    back: the next worker runs both in one workflow task. The admins are not told that the
    request they can no longer do anything about was escalated."""
    env = time_skipping_env
    application = create_app(settings, temporal=env.client)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://test/api/v1"
        ) as api,
    ):
        async with build_worker(env.client, settings, sessions=sessions):
            with env.with_time_skipping_disabled():
                s = await shop(api, db)
                request = await asked(api, s)
            rid = request["id"]
            handle = env.client.get_workflow_handle(
                service_request_workflow_id(uuid.UUID(rid)), result_type=RequestState
            )
            # Its "received" message sent (time does not skip while an activity is out).
            for _ in range(1200):
                if not (await handle.describe()).raw_description.pending_activities:
                    break
                await asyncio.sleep(0.05)
        # No worker from here: the 4-hour timer fires and waits.
        moved = asyncio.create_task(env.fast_forward(handle, 5 * HOUR))
        await until_timer_fired(handle)
        cancel = asyncio.create_task(
            handle.execute_update(
                ServiceRequestWorkflow.cancel,
                Cancel(actor="customer", reason="fixed it myself"),
                id="cancel-as-the-escalation-falls-due",
            )
        )
        # The update has reached the server before a worker is there.
        await until_update_admitted(env.client, handle, "cancel-as-the-escalation-falls-due")
        async with build_worker(env.client, settings, sessions=sessions):
            assert (await asyncio.wait_for(cancel, timeout=60)).status == "cancelled"
            await asyncio.wait_for(moved, timeout=60)
            await asyncio.wait_for(handle.result(), timeout=60)

        # The race was staged: the fired timer and the update were in one workflow task.
        events = (await handle.fetch_history()).events
        fired = next(i for i, e in enumerate(events) if e.HasField("timer_fired_event_attributes"))
        accepted = max(  # the cancellation's (the request's opening was an update too)
            i
            for i, e in enumerate(events)
            if e.HasField("workflow_execution_update_accepted_event_attributes")
        )
        tasks = [
            e
            for e in events[fired:accepted]
            if e.HasField("workflow_task_completed_event_attributes")
        ]
        assert len(tasks) == 1, "the update came in a task of its own: not the race"

        detail = (await api.get(f"/admin/service-requests/{rid}", headers=s.admin)).json()
    assert [e["kind"] for e in detail["timeline"]] == ["created", "cancelled"]
    assert detail["status"] == "cancelled" and detail["escalated"] is False
    assert "escalated" not in await sent_to(db, "admin@example.com", rid)
