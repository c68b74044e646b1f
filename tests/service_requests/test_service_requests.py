"""A service request's whole life through the API and its workflow: asked for under a plan (a
visit reserved), assigned from the suggestions, started and completed by the technician (the
visit used), rated; every wrong move refused with its reason; who may see and do what.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.worker import Worker

from activities.subscriptions import SubscriptionActivities
from core.settings import Settings
from domain.accounts.models import User
from domain.service_requests.models import DispatchDecision
from domain.subscriptions.models import VisitReservation
from providers.payments import payment_provider
from tests.conftest import count_rows, outbox_notifier
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin, make_customer
from tests.support.orders_helpers import add_to_cart, customer, pay, place_order
from tests.support.request_helpers import (
    HOME_ZONE,
    ask,
    asked,
    sent_to,
    shop,
    technician,
    technician_headers,
    window,
)
from tests.support.waiting import eventually

PHONE_A, PHONE_B = "+919812300101", "+919812300102"


async def _reservation(db: AsyncSession, request_id: str) -> str | None:
    status = await db.scalar(
        select(VisitReservation.status).where(VisitReservation.request_id == uuid.UUID(request_id))
    )
    await db.commit()
    return status


async def test_a_visit_from_request_to_rating(api: httpx.AsyncClient, db: AsyncSession) -> None:
    s = await shop(api, db)
    for email, name in (("admin@example.com", "Meera Nair"), ("asker@example.com", "Asha Rao")):
        await db.execute(update(User).where(User.email == email).values(name=name))
    await db.commit()
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    request = await asked(api, s)
    rid = request["id"]
    assert request["status"] == "pending"
    assert [e["kind"] for e in request["timeline"]] == ["created"]
    assert await _reservation(db, rid) == "reserved"
    plan = (await api.get(f"/subscriptions/{s.bought.subscription_id}", headers=s.customer)).json()
    assert plan["visits"]["used"] == 1

    # The admin sees Ravi suggested, with why; assigns him.
    suggestions = (
        await api.get(f"/admin/service-requests/{rid}/suggestions", headers=s.admin)
    ).json()
    assert suggestions[0]["technician_id"] == ravi["id"]
    assert suggestions[0]["eligible"] is True
    assert "knows Plumbing" in suggestions[0]["reasons"]
    assigned = await api.post(
        f"/admin/service-requests/{rid}/assign",
        json={"technician_id": ravi["id"], "reason": "closest plumber"},
        headers=s.admin,
    )
    assert assigned.status_code == 200, assigned.text
    detail = assigned.json()
    assert detail["status"] == "assigned" and detail["technician"]["name"] == "Ravi Kumar"
    (decision,) = detail["dispatch_log"]
    assert decision["technician_id"] == ravi["id"] and decision["reason"] == "closest plumber"
    assert decision["suggested"][0]["technician_id"] == ravi["id"]

    # Ravi signs in, sees his job, starts and completes it.
    tech = await technician_headers(api, db, PHONE_A)
    jobs = (await api.get("/technician/jobs", headers=tech)).json()
    assert [j["id"] for j in jobs["items"]] == [rid]
    started = await api.post(f"/technician/jobs/{rid}/start", headers=tech)
    assert started.status_code == 200, started.text
    done = await api.post(
        f"/technician/jobs/{rid}/complete",
        json={
            "notes": "Replaced the washer.",
            "parts_used": [{"name": "washer", "amount_minor": 2000}],
        },
        headers=tech,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert await _reservation(db, rid) == "consumed"

    rated = await api.post(
        f"/service-requests/{rid}/rating", json={"stars": 5, "comment": "Quick"}, headers=s.customer
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] == 5
    again = await api.post(f"/service-requests/{rid}/rating", json={"stars": 1}, headers=s.customer)
    assert again.status_code == 409 and "rated already" in again.json()["detail"]

    # The customer and the admin see one timeline, in order, with who did what: each named as
    # its reader knows them, never by an internal id.
    mine = (await api.get(f"/service-requests/{rid}", headers=s.customer)).json()
    staff = (await api.get(f"/admin/service-requests/{rid}", headers=s.admin)).json()
    unnamed = [{k: v for k, v in e.items() if k != "actor"} for e in mine["timeline"]]
    assert unnamed == [{k: v for k, v in e.items() if k != "actor"} for e in staff["timeline"]]
    # The staff list (one joined query) says what the detail (looked up per table) says.
    (listed,) = (await api.get("/admin/service-requests", headers=s.admin)).json()["items"]
    assert listed["technician"]["name"] == "Ravi Kumar" and listed["rating"] == 5
    assert listed == {field: staff[field] for field in listed}
    assert [e["kind"] for e in mine["timeline"]] == [
        "created",
        "assigned",
        "started",
        "completed",
        "rated",
    ]
    assert [e["actor"] for e in mine["timeline"]] == [
        {"role": "customer", "name": "You"},
        {"role": "staff", "name": "Support team"},
        {"role": "technician", "name": "Ravi Kumar"},
        {"role": "technician", "name": "Ravi Kumar"},
        {"role": "customer", "name": "You"},
    ]
    assert [e["actor"]["name"] for e in staff["timeline"]] == [
        "Asha Rao",
        "Meera Nair",
        "Ravi Kumar",
        "Ravi Kumar",
        "Asha Rao",
    ]
    assert staff["dispatch_log"][0]["actor"] == {"role": "staff", "name": "Meera Nair"}
    for body in (mine, staff):
        assert "admin:" not in str(body) and "technician:" not in str(body)
    # Told at each step: the customer of every change, Ravi of his new job. Each message goes
    # out after the step's answer (an activity of its own): the last one a moment later.
    told = await eventually(
        lambda: sent_to(db, "asker@example.com", rid),
        lambda sent: len(sent) >= 4,
        "the customer's messages",
    )
    assert told == [
        "received",
        "assigned",
        "started",
        "completed",
    ]
    ravi_email_or_phone = PHONE_A
    ravi_told = await eventually(
        lambda: sent_to(db, ravi_email_or_phone, rid), lambda sent: len(sent) >= 1, "Ravi's job"
    )
    assert ravi_told == ["assigned"]


async def test_every_wrong_move_is_refused_with_its_reason_and_changes_nothing(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    plumber = await technician(api, s.admin, "Plumber", PHONE_A)
    electrician = await technician(api, s.admin, "Electrician", PHONE_B, skills=("electrical",))
    far = await technician(api, s.admin, "Far Away", "+919812300103", zones=("110001",))
    idle = await technician(api, s.admin, "Idle", "+919812300104", active=False)
    rid = (await asked(api, s))["id"]

    async def move(path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await api.post(f"/admin/service-requests/{rid}/{path}", json=body, headers=s.admin)

    refusals = {
        "start before assigning": (await move("start"), "only an assigned visit can start"),
        "complete before starting": (await move("complete", {}), "completed once it has started"),
        "no skill": (
            await move("assign", {"technician_id": electrician["id"]}),
            "does not do Plumbing",
        ),
        "outside the zone": (
            await move("assign", {"technician_id": far["id"]}),
            f"does not serve {HOME_ZONE}",
        ),
        "inactive": (await move("assign", {"technician_id": idle["id"]}), "inactive"),
        "reassign before assigning": (
            await move("reassign", {"technician_id": plumber["id"]}),
            "not assigned yet",
        ),
    }
    for what, (response, reason) in refusals.items():
        assert response.status_code == 409, (what, response.text)
        assert reason in response.json()["detail"], (what, response.json())
    detail = (await api.get(f"/admin/service-requests/{rid}", headers=s.admin)).json()
    assert detail["status"] == "pending" and detail["technician"] is None
    assert [e["kind"] for e in detail["timeline"]] == ["created"]

    assert (await move("assign", {"technician_id": plumber["id"]})).status_code == 200
    again = await move("assign", {"technician_id": plumber["id"]})
    assert again.status_code == 409 and "already" in again.json()["detail"]
    # Booked in that window: another request at the same time cannot have the same plumber.
    other = (await asked(api, s))["id"]
    busy = await api.post(
        f"/admin/service-requests/{other}/assign",
        json={"technician_id": plumber["id"]},
        headers=s.admin,
    )
    assert busy.status_code == 409 and "booked" in busy.json()["detail"]

    assert (await move("start")).status_code == 200
    for path, body, reason in (
        ("cancel", {"reason": "changed my mind"}, "only before work starts"),
        ("assign", {"technician_id": plumber["id"]}, "in progress"),
    ):
        refused = await move(path, body)
        assert refused.status_code == 409 and reason in refused.json()["detail"], refused.text
    late = await api.post(
        f"/service-requests/{rid}/reschedule",
        json=dict(zip(("window_start", "window_end"), window(days=3), strict=True)),
        headers=s.customer,
    )
    assert late.status_code == 409 and "only before work starts" in late.json()["detail"]
    early_rating = await api.post(
        f"/service-requests/{rid}/rating", json={"stars": 4}, headers=s.customer
    )
    assert (
        early_rating.status_code == 409 and "once it is completed" in early_rating.json()["detail"]
    )


async def test_two_admins_assigning_at_once_one_wins(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    first = await technician(api, s.admin, "First", PHONE_A)
    second = await technician(api, s.admin, "Second", PHONE_B)
    rid = (await asked(api, s))["id"]
    answers = await asyncio.gather(
        *(
            api.post(
                f"/admin/service-requests/{rid}/assign",
                json={"technician_id": t["id"]},
                headers=s.admin,
            )
            for t in (first, second)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    (lost,) = [a for a in answers if a.status_code == 409]
    assert lost.json()["detail"]
    (won,) = [a for a in answers if a.status_code == 200]
    detail = (await api.get(f"/admin/service-requests/{rid}", headers=s.admin)).json()
    assert detail["technician"]["id"] == won.json()["technician"]["id"]
    assert len(detail["dispatch_log"]) == 1
    decisions = (
        (
            await db.execute(
                select(DispatchDecision).where(DispatchDecision.request_id == uuid.UUID(rid))
            )
        )
        .scalars()
        .all()
    )
    await db.commit()
    assert len(decisions) == 1


async def test_cancel_releases_the_visit_and_reschedule_keeps_it(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    plumber = await technician(api, s.admin, "Plumber", PHONE_A)
    kept, dropped = (await asked(api, s))["id"], (await asked(api, s))["id"]
    await api.post(
        f"/admin/service-requests/{kept}/assign",
        json={"technician_id": plumber["id"]},
        headers=s.admin,
    )

    moved = await api.post(
        f"/service-requests/{kept}/reschedule",
        json=dict(zip(("window_start", "window_end"), window(days=4, hour=14), strict=True)),
        headers=s.customer,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "assigned"  # the plumber can come then too
    assert moved.json()["window_start"].startswith(window(days=4, hour=14)[0][:16])
    assert await _reservation(db, kept) == "reserved"

    cancelled = await api.post(
        f"/service-requests/{dropped}/cancel",
        json={"reason": "fixed it myself"},
        headers=s.customer,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await _reservation(db, dropped) == "released"
    plan = (await api.get(f"/subscriptions/{s.bought.subscription_id}", headers=s.customer)).json()
    assert plan["visits"]["used"] == 1  # the kept one
    again = await api.post(f"/service-requests/{dropped}/cancel", json={}, headers=s.customer)
    assert again.status_code == 409


async def test_a_request_is_refused_when_the_plan_does_not_cover_it_or_has_no_visits_left(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    carpentry = await ask(api, s, category="carpentry")
    assert carpentry.status_code == 409
    assert "does not cover that category" in carpentry.json()["detail"]
    for _ in range(2):
        await asked(api, s, category="electrical")
    third = await ask(api, s, category="electrical")
    assert third.status_code == 409
    assert "all 2 visits of this category" in third.json()["detail"]
    mine = (await api.get("/service-requests", headers=s.customer)).json()
    assert mine["total"] == 2  # nothing was recorded for the refused ones


async def test_a_request_names_my_address_and_a_category_and_a_plan_that_has_not_ended(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    start, end = window()
    body = {
        "subscription_id": str(s.bought.subscription_id),
        "category_id": s.categories["plumbing"],
        "description": "The kitchen tap drips all night.",
        "window_start": start,
        "window_end": end,
    }
    for wrong, field in (
        ({"address_id": str(uuid.uuid4())}, "address_id"),
        ({"category_id": str(uuid.uuid4())}, "category_id"),
    ):
        refused = await api.post(
            "/service-requests",
            json={**body, **wrong},
            headers={**s.customer, "Idempotency-Key": f"ask-{uuid.uuid4()}"},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    # A cancelled plan: its ledger (the subscription's workflow) refuses, with its reason.
    sid = s.bought.subscription_id
    quote = await api.post(f"/subscriptions/{sid}/cancellation-quote", headers=s.customer)
    assert quote.status_code == 200, quote.text
    cancelled = await api.post(
        f"/subscriptions/{sid}/cancel",
        json={"quote_id": quote.json()["quote_id"]},
        headers=s.customer,
    )
    assert cancelled.status_code == 200, cancelled.text
    refused = await ask(api, s)
    assert refused.status_code == 409, refused.text
    assert "no visits to book" in refused.json()["detail"]
    assert (await api.get("/service-requests", headers=s.customer)).json()["total"] == 0


async def test_a_request_asks_for_a_window_that_makes_sense(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    for when, field in (
        (window(days=0, hour=0), "window_start"),  # in the past
        (window(days=90), "window_start"),  # too far ahead
        (window(hours=20), "window_end"),  # too long
    ):
        refused = await ask(api, s, when=when)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field


async def test_the_same_key_again_is_the_same_request_and_a_reused_key_is_refused(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    start, end = window()
    body = {
        "subscription_id": str(s.bought.subscription_id),
        "category_id": s.categories["plumbing"],
        "description": "The kitchen tap drips all night.",
        "window_start": start,
        "window_end": end,
    }
    headers = {**s.customer, "Idempotency-Key": "ask-once"}
    first = await api.post("/service-requests", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await api.post("/service-requests", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # A retried POST is the same request; one key for another request is a mistake, said so.
    other = {**body, "description": "The bathroom light flickers."}
    reused = await api.post("/service-requests", json=other, headers=headers)
    assert reused.status_code == 422, reused.text
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
    mine = (await api.get("/service-requests", headers=s.customer)).json()
    assert mine["total"] == 1
    # One visit of the plan is held, not one per POST.
    held = VisitReservation.subscription_id == s.bought.subscription_id
    assert await count_rows(db, VisitReservation, held) == 1


async def test_a_technician_sees_and_moves_only_their_own_jobs(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    mine, theirs = (
        await technician(api, s.admin, "Mine", PHONE_A),
        await technician(api, s.admin, "Theirs", PHONE_B),
    )
    rid = (await asked(api, s))["id"]
    await api.post(
        f"/admin/service-requests/{rid}/assign", json={"technician_id": mine["id"]}, headers=s.admin
    )
    other = await technician_headers(api, db, PHONE_B)
    assert (await api.get("/technician/jobs", headers=other)).json()["items"] == []
    assert (await api.get(f"/technician/jobs/{rid}", headers=other)).status_code == 404
    assert (await api.post(f"/technician/jobs/{rid}/start", headers=other)).status_code == 404
    # Technicians are not staff, and customers are not technicians.
    assert (await api.get("/admin/service-requests", headers=other)).status_code == 403
    assert (await api.get("/technician/jobs", headers=s.customer)).status_code == 403
    assert theirs["id"] != mine["id"]


async def test_a_customer_cannot_see_change_or_rate_anothers_request(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    rid = (await asked(api, s))["id"]
    stranger = await make_customer(api, "stranger@example.com")
    attempts = [
        await api.get(f"/service-requests/{rid}", headers=stranger),
        await api.post(f"/service-requests/{rid}/cancel", json={}, headers=stranger),
        await api.post(
            f"/service-requests/{rid}/reschedule",
            json=dict(zip(("window_start", "window_end"), window(days=3), strict=True)),
            headers=stranger,
        ),
        await api.post(f"/service-requests/{rid}/rating", json={"stars": 1}, headers=stranger),
    ]
    assert [a.status_code for a in attempts] == [404] * 4
    assert (await api.get("/service-requests", headers=stranger)).json()["items"] == []
    # Nor ask for a visit under someone else's plan.
    taken = await ask(api, s, headers=stranger)
    assert taken.status_code == 404
    assert (await api.get(f"/service-requests/{rid}", headers=s.customer)).json()[
        "status"
    ] == "pending"


async def test_a_request_right_after_paying_waits_for_the_plan_instead_of_calling_it_ended(
    api: httpx.AsyncClient,
    db: AsyncSession,
    temporal: Client,
    settings: Settings,
    sessions: Any,
    worker: Worker,
) -> None:
    # Paid through the orders domain: the subscription is active in the read model, but its
    # workflow is not there yet (as in the moment between settling and the order's last step).
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    who = await customer(api, "early@example.com")
    await add_to_cart(api, who, plan["id"])
    (subscription_id,) = (await pay(db, await place_order(db, who))).subscription_ids
    categories = {c["slug"]: c["id"] for c in (await api.get("/catalog/categories")).json()}
    start, end = window()
    asking = asyncio.create_task(
        api.post(
            "/service-requests",
            json={
                "subscription_id": str(subscription_id),
                "category_id": categories["plumbing"],
                "description": "Asked the minute the plan was paid.",
                "window_start": start,
                "window_end": end,
            },
            headers={**who.headers, "Idempotency-Key": "early-request-1"},
        )
    )
    await asyncio.sleep(0.5)  # lets the request find no workflow at least once
    await SubscriptionActivities(
        sessions=sessions,
        settings=settings,
        provider=payment_provider(settings, sessions=sessions),
        notifier=outbox_notifier(sessions, settings),
        temporal=temporal,
        task_queue=settings.temporal_task_queue,
    ).start_existing(subscription_id)
    answer = await asking
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "pending"
    assert await _reservation(db, answer.json()["id"]) == "reserved"
