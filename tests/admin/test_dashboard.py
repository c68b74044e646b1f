"""The dashboard's figures move with the business, exactly once per thing that happened: a
purchase, a refund, a sign-up, a request asked for and moved along, also when the activity that
made the change runs again (Temporal runs activities at least once). Counting everything again
from the rows (the migration's backfill, `manage.py rebuild-rollups`) gives the same rollups."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from domain.orders import refunds, settlement
from domain.orders.models import Order, Refund
from domain.payments import PaymentState, PaymentStatus, RefundResult
from domain.reports import backfill
from domain.service_requests import service as requests
from domain.service_requests.contracts import Change, RequestInput, RequestPolicy
from domain.service_requests.models import RequestEvent, RequestStatus, ServiceRequest
from tests.conftest import ROOT
from tests.support.catalog_helpers import make_customer
from tests.support.request_helpers import asked, shop, technician, technician_headers

PHONE = "+919812300301"


async def board(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = await api.get("/admin/dashboard", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def in_series(figures: dict[str, Any], name: str) -> int:
    """The figure summed over the last 30 days (whatever day it is now)."""
    return sum(
        day[name]["amount_minor"] if isinstance(day[name], dict) else day[name]
        for day in figures["series"]
    )


async def rollups(db: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    found = {
        "daily_stats": "SELECT * FROM daily_stats ORDER BY day",
        "daily_revenue": "SELECT * FROM daily_revenue ORDER BY day, dimension, key, currency",
        "state_counters": (
            "SELECT name, sum(value) FROM state_counters GROUP BY name HAVING sum(value) <> 0 "
            "ORDER BY name"
        ),
    }
    out = {
        name: [tuple(r) for r in (await db.execute(text(sql))).all()] for name, sql in found.items()
    }
    await db.commit()
    return out


async def _refund_settled(
    api: httpx.AsyncClient, admin: dict[str, str], order_id: str
) -> dict[str, Any]:
    for _ in range(400):
        detail = (await api.get(f"/admin/orders/{order_id}", headers=admin)).json()
        if detail["refunds"] and detail["refunds"][0]["status"] != "pending":
            return dict(detail)
        await asyncio.sleep(0.05)
    raise AssertionError("the refund stayed pending")


async def _status(
    api: httpx.AsyncClient, admin: dict[str, str], want: dict[str, int]
) -> dict[str, Any]:
    """The dashboard once its request figures are `want` (they follow a workflow's activity)."""
    figures: dict[str, Any] = {}
    for _ in range(400):
        figures = await board(api, admin)
        if all(figures["requests"][k] == v for k, v in want.items()):
            return figures
        await asyncio.sleep(0.05)
    raise AssertionError(f"requests never became {want}: {figures['requests']}")


async def test_a_purchase_refund_sign_up_and_visit_move_the_dashboard_once(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)  # an admin and a customer signed up; the customer bought a plan
    admin = s.admin
    first = await board(api, admin)
    order = await db.get(Order, uuid.UUID(s.bought.order_id))
    assert order is not None
    await db.commit()
    total = order.total_minor
    assert first["currency"] == "INR" and first["time_zone"] == "Asia/Kolkata"
    assert first["sales"]["month"]["count"] == 1
    assert first["sales"]["month"]["amount"] == {
        "amount_minor": total,
        "currency": "INR",
        "minor_units": 2,
    }
    assert in_series(first, "sales_count") == 1 and in_series(first, "sales_amount") == total
    assert first["active_subscriptions"] == 1
    assert in_series(first, "new_users") == 2  # the admin signed up as a customer first
    assert first["requests"] == {
        "open": 0,
        "escalated": 0,
        "overdue": 0,
        "pending": 0,
        "assigned": 0,
        "in_progress": 0,
    }

    # A sign-up.
    await make_customer(api, "newcomer@example.com")
    assert in_series(await board(api, admin), "new_users") == 3

    # A partial refund (the sandbox refunds at once).
    refunded = await api.post(
        f"/admin/orders/{s.bought.order_id}/refunds",
        json={"amount_minor": 1000, "reason": "one visit was not delivered"},
        headers={**admin, "Idempotency-Key": "refund-1"},
    )
    assert refunded.status_code in (200, 201, 202), refunded.text
    detail = await _refund_settled(api, admin, s.bought.order_id)
    assert detail["refunds"][0]["status"] == "succeeded"
    after_refund = await board(api, admin)
    assert after_refund["sales"]["month"]["refunds"]["amount_minor"] == 1000
    assert after_refund["sales"]["month"]["net"]["amount_minor"] == total - 1000
    assert after_refund["sales"]["month"]["count"] == 1

    # A visit: asked for, assigned, started, completed.
    ravi = await technician(api, admin, "Ravi Kumar", PHONE)
    rid = (await asked(api, s))["id"]
    await _status(api, admin, {"open": 1, "pending": 1})
    assigned = await api.post(
        f"/admin/service-requests/{rid}/assign",
        json={"technician_id": ravi["id"], "reason": "closest"},
        headers=admin,
    )
    assert assigned.status_code == 200, assigned.text
    await _status(api, admin, {"open": 1, "pending": 0, "assigned": 1})
    tech = await technician_headers(api, db, PHONE)
    assert (await api.post(f"/technician/jobs/{rid}/start", headers=tech)).status_code == 200
    await _status(api, admin, {"open": 1, "assigned": 0, "in_progress": 1})
    done = await api.post(
        f"/technician/jobs/{rid}/complete", json={"notes": "Replaced the washer."}, headers=tech
    )
    assert done.status_code == 200, done.text
    figures = await _status(api, admin, {"open": 0, "in_progress": 0})
    assert in_series(figures, "requests_created") == 1
    assert in_series(figures, "requests_completed") == 1

    before = await rollups(db)

    # Every activity again, as Temporal may run it: nothing counts twice.
    refund = (await db.execute(select(Refund).where(Refund.order_id == order.id))).scalar_one()
    status = PaymentStatus(
        provider_ref=order.provider_ref or "",
        state=PaymentState.succeeded,
        amount_minor=order.total_minor,
        currency=order.currency,
        payment_id=order.provider_payment_id,
        method="card",
    )
    again = await settlement.settle_paid_order(db, order_id=order.id, status=status)
    assert again.newly_settled is False
    await refunds.record_refund_result(
        db,
        refund_id=refund.id,
        result=RefundResult(
            provider_refund_id=refund.provider_refund_id or "x",
            amount_minor=1000,
            status="succeeded",
        ),
    )
    row = await db.get(ServiceRequest, uuid.UUID(rid))
    assert row is not None
    await requests.record_opened_request(
        db,
        inp=RequestInput(
            request_id=row.id,
            user_id=row.user_id,
            subscription_id=row.subscription_id,
            category_id=row.category_id,
            address_id=row.address_id,
            address=row.address,
            postal_code=row.postal_code,
            description=row.description,
            window_start=row.window_start,
            window_end=row.window_end,
            policy=RequestPolicy(
                escalate_after_seconds=3600, overdue_margin_seconds=3600, rating_seconds=3600
            ),
        ),
        at=utcnow(),
    )
    for event in (
        await db.execute(
            select(RequestEvent).where(
                RequestEvent.request_id == row.id, RequestEvent.kind != "created"
            )
        )
    ).scalars():
        written = await requests.record_change(
            db,
            change=Change(
                request_id=row.id,
                key=event.event_key,
                kind=event.kind,
                at=event.at,
                actor=event.actor,
                from_status=RequestStatus(event.from_status) if event.from_status else None,
                to_status=RequestStatus(event.to_status) if event.to_status else None,
                fields={"status": event.to_status} if event.to_status else {},
            ),
        )
        assert written is False
    await db.commit()
    assert await rollups(db) == before
    again_figures = await board(api, admin)
    assert {**again_figures, "as_of": None} == {**figures, "as_of": None}

    # Counting everything again from the rows gives the same rollups.
    await backfill.rebuild(db, time_zone="Asia/Kolkata")
    await db.commit()
    assert await rollups(db) == before


async def test_only_staff_see_the_dashboard(api: httpx.AsyncClient, db: AsyncSession) -> None:
    customer = await make_customer(api, "curious@example.com")
    assert (await api.get("/admin/dashboard", headers=customer)).status_code == 403
    assert (await api.get("/admin/dashboard")).status_code == 401
    assert (await api.get("/admin/dashboard/events", headers=customer)).status_code == 403


def test_the_migration_backfills_with_the_statements_the_rebuild_uses() -> None:
    """The migration's frozen copy counts as `backfill.rebuild` does (proven equal to counting as
    things happen, above) at the time it was written."""
    import importlib.util

    path = next(ROOT.glob("migrations/versions/*_4c2a9e7d1f30_*.py"))
    spec = importlib.util.spec_from_file_location("reports_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for name in ("DAILY_STATS", "DAILY_REVENUE", "STATE_COUNTERS"):
        assert getattr(migration, name) == getattr(backfill, name), name


async def test_refunds_stand_beside_gross_sales_in_each_period_so_net_shows(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    order = await db.get(Order, uuid.UUID(s.bought.order_id))
    assert order is not None
    total = order.total_minor
    await db.commit()
    refunded = await api.post(
        f"/admin/orders/{s.bought.order_id}/refunds",
        json={"amount_minor": 1500, "reason": "a visit came late"},
        headers={**s.admin, "Idempotency-Key": "refund-net-1"},
    )
    assert refunded.status_code == 202, refunded.text
    await _refund_settled(api, s.admin, s.bought.order_id)
    figures = await board(api, s.admin)
    # Paid and refunded today: every period that holds today shows both, and what was kept.
    for period in ("today", "month", "last_30_days"):
        sales = figures["sales"][period]
        assert sales["amount"]["amount_minor"] == total, period
        assert sales["refunds"]["amount_minor"] == 1500, period
        assert sales["net"]["amount_minor"] == total - 1500, period
    # The chart's days add up to the chart's period.
    assert in_series(figures, "refunds_amount") == 1500
    assert in_series(figures, "net_amount") == total - 1500
    (today,) = [d for d in figures["series"] if d["sales_count"]]
    assert today["net_amount"]["amount_minor"] == today["sales_amount"]["amount_minor"] - 1500
