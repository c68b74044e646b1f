"""SLA timers at their configured lengths (escalated when unassigned 4 hours after it was asked
for; overdue when not completed 2 hours after its window ends), on the dev server with
per-workflow time skipping: the flags reach the admin list, the search attributes and the
admins' inboxes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from domain.contracts import REQUEST_ESCALATED, REQUEST_OVERDUE
from domain.service_requests.contracts import RequestState, service_request_workflow_id
from tests.request_helpers import asked, sent_to, shop, technician, until

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
