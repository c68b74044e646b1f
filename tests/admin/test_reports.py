"""Reports for a period (revenue by day, plan, category and method; activity) as JSON and CSV,
for admins only; the daily report made by its workflow, stored once per day and mailed once to
each admin; the `daily-report` schedule created once against the real Temporal server."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.service import RPCError

from core.db import utcnow
from core.settings import Settings
from domain.accounts.models import User
from domain.notifications.models import Message
from domain.reports.calendar import business_day, zone_for
from domain.reports.contracts import SCHEDULE_ID, DailyReportInput, daily_report_workflow_id
from domain.reports.models import Report
from domain.reports.schedules import ensure_schedules
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin, make_customer
from tests.support.subscription_helpers import buy_plan
from tests.support.waiting import eventually
from workflows.daily_report import DailyReportWorkflow


def _today() -> date:
    """The business day now (the tests' zone): asked when a test needs it, never at import, so a
    run that crosses midnight in India does not look for today's sale in yesterday's report."""
    return business_day(utcnow(), zone_for("Asia/Kolkata"))


PLAN_NAME = 'Home care, "Gold" =plus'  # a comma, quotes, and a formula's first character


async def _support(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    headers = await make_customer(api, "desk@example.com")
    await db.execute(update(User).where(User.email == "desk@example.com").values(role="support"))
    await db.commit()
    return headers


async def _sold(api: httpx.AsyncClient, db: AsyncSession) -> tuple[dict[str, str], dict[str, Any]]:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, name=PLAN_NAME)
    await buy_plan(api, db, "buyer@example.com", admin=admin, plan=plan)
    return admin, plan


def _period(days: int = 30) -> dict[str, str]:
    today = _today()
    return {"since": (today - timedelta(days=days - 1)).isoformat(), "until": today.isoformat()}


async def test_revenue_and_activity_for_a_period_as_json_and_csv(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin, plan = await _sold(api, db)
    price = plan["current_version"]["price"]["total_minor"]

    by_day = (await api.get("/admin/reports/revenue", params=_period(), headers=admin)).json()
    assert len(by_day["rows"]) == 30  # every day of the period, sold or not
    assert sum(r["orders"] for r in by_day["rows"]) == 1
    (total,) = by_day["totals"]
    assert total["amount"] == {"amount_minor": price, "currency": "INR", "minor_units": 2}
    assert total["net"]["amount_minor"] == price and total["refunds"]["amount_minor"] == 0

    by_plan = (
        await api.get(
            "/admin/reports/revenue", params={**_period(), "group_by": "plan"}, headers=admin
        )
    ).json()
    assert [(r["key"], r["label"], r["orders"]) for r in by_plan["rows"]] == [
        (plan["id"], PLAN_NAME, 1)
    ]
    by_category = (
        await api.get(
            "/admin/reports/revenue", params={**_period(), "group_by": "category"}, headers=admin
        )
    ).json()
    # The plan covers plumbing and electrical: its amount is split between them, whole.
    assert sorted(r["label"] for r in by_category["rows"]) == ["Electrical", "Plumbing"]
    assert sum(r["amount"]["amount_minor"] for r in by_category["rows"]) == price
    by_method = (
        await api.get(
            "/admin/reports/revenue", params={**_period(), "group_by": "method"}, headers=admin
        )
    ).json()
    assert sum(r["orders"] for r in by_method["rows"]) == 1

    download = await api.get(
        "/admin/reports/revenue",
        params={**_period(), "group_by": "plan", "format": "csv"},
        headers=admin,
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"] == (
        f'attachment; filename="revenue-by-plan-{_period()["since"]}-to-{_today()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == [
        "key",
        "label",
        "currency",
        "orders",
        "amount",
        "refund_count",
        "refunds",
        "net",
    ]
    amount = f"{price // 100}.{price % 100:02d}"
    assert rows[1] == [plan["id"], PLAN_NAME, "INR", "1", amount, "0", "0.00", amount]
    assert rows[2][:2] == ["total", "Total"]

    activity = (await api.get("/admin/reports/activity", params=_period(), headers=admin)).json()
    assert sum(d["count"] for d in activity["new_users_by_day"]) == 2  # the admin, the buyer
    assert activity["requests_by_status"]["pending"] == 0
    assert activity["time_to_assign"] == {"count": 0, "p50_minutes": None, "avg_minutes": None}
    activity_csv = await api.get(
        "/admin/reports/activity", params={**_period(), "format": "csv"}, headers=admin
    )
    assert next(csv.reader(io.StringIO(activity_csv.text))) == ["metric", "key", "value"]


async def test_a_report_period_is_bounded_and_for_admins_only(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    support = await _support(api, db)
    customer = await make_customer(api, "someone@example.com")
    year = {"since": "2026-01-01", "until": "2027-01-01"}  # 366 days: allowed
    assert (await api.get("/admin/reports/revenue", params=year, headers=admin)).status_code == 200
    too_long = {"since": "2026-01-01", "until": "2027-01-02"}
    refused = await api.get("/admin/reports/revenue", params=too_long, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "until"
    backwards = {"since": "2026-02-02", "until": "2026-02-01"}
    for path in ("/admin/reports/revenue", "/admin/reports/activity"):
        assert (await api.get(path, params=backwards, headers=admin)).status_code == 422
        assert (await api.get(path, params=_period(), headers=support)).status_code == 403
        assert (await api.get(path, params=_period(), headers=customer)).status_code == 403
    assert (await api.get("/admin/reports/daily", headers=support)).status_code == 403
    # Support sees the dashboard, not the reports.
    assert (await api.get("/admin/dashboard", headers=support)).status_code == 200


async def _mailed(db: AsyncSession, day: date) -> list[uuid.UUID]:
    found = (
        await db.execute(
            select(Message.user_id).where(Message.key.like(f"report:daily:{day.isoformat()}:%"))
        )
    ).scalars()
    out = sorted(user_id for user_id in found.all() if user_id is not None)
    await db.commit()
    return out


async def test_the_daily_report_is_stored_and_mailed_to_each_admin_once(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client, settings: Settings
) -> None:
    admin, _ = await _sold(api, db)
    today = _today()
    await make_admin(api, db, "second-admin@example.com")
    admins = sorted((await db.execute(select(User.id).where(User.role == "admin"))).scalars().all())
    await db.commit()

    for attempt in range(2):  # a re-run of the same day: replaced, never duplicated or re-sent
        done = await temporal.execute_workflow(
            DailyReportWorkflow.run,
            DailyReportInput(day=today),
            id=f"{daily_report_workflow_id(today)}:{attempt}",
            task_queue=settings.temporal_task_queue,
        )
        assert done.day == today and done.orders == 1
        stored = await db.scalar(select(func.count()).select_from(Report))
        await db.commit()
        assert stored == 1
        assert await _mailed(db, today) == admins

    listed = (await api.get("/admin/reports/daily", headers=admin)).json()
    assert listed["total"] == 1
    (summary,) = listed["items"]
    assert summary["day"] == today.isoformat() and summary["orders"] == 1
    report = (await api.get(f"/admin/reports/daily/{today}", headers=admin)).json()
    assert report["revenue"]["totals"][0]["orders"] == 1
    download = await api.get(summary["download_url"].removeprefix("/api/v1"), headers=admin)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        f'attachment; filename="daily-report-{today}.csv"'
    )
    assert "revenue_by_plan" in download.text
    missing = await api.get(f"/admin/reports/daily/{today - timedelta(days=400)}", headers=admin)
    assert missing.status_code == 404


async def test_the_daily_schedule_is_created_once_and_reports_on_yesterday(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client, settings: Settings
) -> None:
    await make_admin(api, db)
    # The suite's server is shared: a worker process another test ran (worker.py makes sure the
    # schedule exists when it starts) may have left one behind.
    with contextlib.suppress(RPCError):
        await temporal.get_schedule_handle(SCHEDULE_ID).delete()
    try:
        assert await ensure_schedules(temporal, settings) == [SCHEDULE_ID]
        assert await ensure_schedules(temporal, settings) == []  # exists: left as it is
        handle = temporal.get_schedule_handle(SCHEDULE_ID)
        described = await handle.describe()
        (calendar,) = described.schedule.spec.calendars
        assert [r.start for r in calendar.hour] == [0] and [r.start for r in calendar.minute] == [
            30
        ]
        assert described.schedule.spec.time_zone_name == "Asia/Kolkata"
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "DailyReportWorkflow"

        # Run it now, as at its time: the report is of the business day before.
        await handle.trigger()
        yesterday = _today() - timedelta(days=1)
        for _ in range(600):
            day = await db.scalar(select(Report.day))
            await db.commit()
            if day is not None:
                break
            await asyncio.sleep(0.05)
        assert day == yesterday
        # The run says what it is in the Web UI (the schedule's summary).
        runs = await eventually(
            lambda: _runs(temporal), bool, "the schedule's run in the workflow list"
        )
        described_run = await temporal.get_workflow_handle(runs[0]).describe()
        assert await described_run.static_summary() == "Daily report of the business day just ended"
        assert "every day at 00:30 (Asia/Kolkata)" in (await described_run.static_details() or "")
    finally:
        with contextlib.suppress(RPCError):
            await temporal.get_schedule_handle(SCHEDULE_ID).delete()


async def _runs(temporal: Client) -> list[str]:
    return [
        wf.id async for wf in temporal.list_workflows(f"WorkflowId STARTS_WITH '{SCHEDULE_ID}-run'")
    ]
