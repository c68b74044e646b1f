"""The visit ledger: a subscription reserves a visit per service request (keyed by the request, so
a retry is the same reservation), consumes or releases it; what the plan does not cover, or
has no visits left for, is refused with the reason. Two requests racing for the last visit: one
gets it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from api import subscriptions as lifecycle
from core.errors import Conflict
from domain.subscriptions.contracts import ReservationStatus, VisitRef, VisitRequest
from domain.subscriptions.models import VisitReservation
from tests.support.subscription_helpers import Bought, bought_and_running, running

DAY = timedelta(days=1)
ONE_PLUMBING_VISIT: dict[str, Any] = {
    "visit_cap": 2,
    "inclusions": [
        {"category": "plumbing", "visits": 1, "details": "One plumber's visit."},
        {"category": "electrical", "visits": 1, "details": "One electrician's visit."},
    ],
}


@pytest.fixture
async def bought(
    skipping_api: httpx.AsyncClient, db: AsyncSession, time_skipping_env: WorkflowEnvironment
) -> Bought:
    """Here the plan holds one plumbing visit (the area's `bought` buys the default plan)."""
    return await bought_and_running(skipping_api, db, time_skipping_env, **ONE_PLUMBING_VISIT)


async def _categories(api: httpx.AsyncClient, bought: Bought) -> dict[str, uuid.UUID]:
    mine = await api.get(f"/subscriptions/{bought.subscription_id}", headers=bought.buyer.headers)
    return {c["slug"]: uuid.UUID(c["category_id"]) for c in mine.json()["visits"]["by_category"]}


async def _rows(db: AsyncSession, subscription_id: uuid.UUID) -> int:
    count = await db.scalar(
        select(func.count()).where(VisitReservation.subscription_id == subscription_id)
    )
    await db.commit()
    return int(count or 0)


async def test_two_requests_racing_for_the_last_visit_one_gets_it(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    client, sid = time_skipping_env.client, bought.subscription_id
    plumbing = (await _categories(skipping_api, bought))["plumbing"]

    async def reserve() -> Any:
        try:
            return await lifecycle.reserve_visit(
                client, sid, VisitRequest(request_id=uuid.uuid4(), category_id=plumbing)
            )
        except Conflict as exc:
            return exc

    results = await asyncio.gather(*(reserve() for _ in range(8)))
    won = [r for r in results if not isinstance(r, Conflict)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 7
    assert {str(r.detail) for r in lost} == {
        "all 1 visits of this category in this period are booked or used"
    }
    assert await _rows(db, sid) == 1
    mine = (await skipping_api.get(f"/subscriptions/{sid}", headers=bought.buyer.headers)).json()
    by_slug = {c["slug"]: c for c in mine["visits"]["by_category"]}
    assert (by_slug["plumbing"]["used"], by_slug["plumbing"]["left"]) == (1, 0)
    assert (mine["visits"]["used"], mine["visits"]["left"]) == (1, 1)


async def test_a_reservation_is_keyed_by_its_request_and_closes_once(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    client, sid = time_skipping_env.client, bought.subscription_id
    categories = await _categories(skipping_api, bought)
    first, second = uuid.uuid4(), uuid.uuid4()
    asked = VisitRequest(request_id=first, category_id=categories["plumbing"])
    reserved = await lifecycle.reserve_visit(client, sid, asked)
    again = await lifecycle.reserve_visit(client, sid, asked)  # a retry of the same request
    assert again == reserved
    assert await _rows(db, sid) == 1

    # Released (the request was cancelled): the visit is back for another request.
    released = await lifecycle.release_visit(client, sid, VisitRef(request_id=first))
    assert released.status == ReservationStatus.released
    assert await lifecycle.release_visit(client, sid, VisitRef(request_id=first)) == released
    with pytest.raises(Conflict, match="was released"):
        await lifecycle.consume_visit(client, sid, VisitRef(request_id=first))
    other = VisitRequest(request_id=second, category_id=categories["plumbing"])
    await lifecycle.reserve_visit(client, sid, other)
    consumed = await lifecycle.consume_visit(client, sid, VisitRef(request_id=second))
    assert consumed.status == ReservationStatus.consumed
    with pytest.raises(Conflict, match="was consumed"):
        await lifecycle.release_visit(client, sid, VisitRef(request_id=second))
    with pytest.raises(Conflict, match="no visit is reserved"):
        await lifecycle.consume_visit(client, sid, VisitRef(request_id=uuid.uuid4()))


async def test_what_the_plan_does_not_cover_or_has_no_visits_left_for_is_refused(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    client, sid = time_skipping_env.client, bought.subscription_id
    categories = await _categories(skipping_api, bought)
    with pytest.raises(Conflict, match="does not cover that category"):
        await lifecycle.reserve_visit(
            client, sid, VisitRequest(request_id=uuid.uuid4(), category_id=uuid.uuid4())
        )
    for slug in ("plumbing", "electrical"):
        await lifecycle.reserve_visit(
            client, sid, VisitRequest(request_id=uuid.uuid4(), category_id=categories[slug])
        )
    with pytest.raises(Conflict, match="all 1 visits of this category"):
        await lifecycle.reserve_visit(
            client,
            sid,
            VisitRequest(request_id=uuid.uuid4(), category_id=categories["electrical"]),
        )
    assert await _rows(db, sid) == 2


async def test_in_grace_visits_can_be_booked_after_expiry_not(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    time_skipping_env: WorkflowEnvironment,
    bought: Bought,
) -> None:
    env, sid = time_skipping_env, bought.subscription_id
    plumbing = (await _categories(skipping_api, bought))["plumbing"]
    handle = await running(env.client, sid)
    await env.fast_forward(handle, 366 * DAY)
    reserved = await lifecycle.reserve_visit(
        env.client, sid, VisitRequest(request_id=uuid.uuid4(), category_id=plumbing)
    )
    assert reserved.status == ReservationStatus.reserved
    await env.fast_forward(handle, 10 * DAY)
    await handle.result()
    with pytest.raises(Conflict, match="has ended"):
        await lifecycle.reserve_visit(
            env.client, sid, VisitRequest(request_id=uuid.uuid4(), category_id=plumbing)
        )
