"""The daily report: one business day's revenue and activity, computed from the rollups, stored
once per day (a re-run replaces it), listed and downloaded by admins."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain.reports import queries
from domain.reports.models import Report
from domain.reports.schemas import DailyReport, GroupBy, RevenueReport

KIND = "daily"


async def compute(
    db: AsyncSession, *, day: date, time_zone: str, currency: str, now: datetime
) -> DailyReport:
    def revenue(group_by: GroupBy) -> Coroutine[Any, Any, RevenueReport]:
        return queries.revenue(
            db, since=day, until=day, group_by=group_by, time_zone=time_zone, currency=currency
        )

    return DailyReport(
        day=day,
        time_zone=time_zone,
        generated_at=now,
        revenue=await revenue(GroupBy.day),
        by_plan=await revenue(GroupBy.plan),
        by_method=await revenue(GroupBy.method),
        activity=await queries.activity(db, since=day, until=day, time_zone=time_zone),
    )


async def store(db: AsyncSession, *, report: DailyReport) -> None:
    """Keep the report of its day: the one row of that day, replaced when run again."""
    values = {
        "kind": KIND,
        "day": report.day,
        "time_zone": report.time_zone,
        "generated_at": report.generated_at,
        "data": report.model_dump(mode="json"),
    }
    stmt = pg_insert(Report).values(**values)
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=[Report.kind, Report.day],
            set_={k: stmt.excluded[k] for k in ("time_zone", "generated_at", "data")},
        )
    )


async def get(db: AsyncSession, *, day: date) -> DailyReport:
    data = (
        await db.execute(select(Report.data).where(Report.kind == KIND, Report.day == day))
    ).scalar_one_or_none()
    if data is None:
        raise NotFound(f"no daily report for {day.isoformat()}")
    return DailyReport.model_validate(data)


async def listing(
    db: AsyncSession, *, since: date | None, until: date | None, limit: int, offset: int
) -> tuple[list[DailyReport], int]:
    """Stored daily reports, newest day first."""
    where = [Report.kind == KIND]
    if since is not None:
        where.append(Report.day >= since)
    if until is not None:
        where.append(Report.day <= until)
    total = int(
        (await db.execute(select(func.count()).select_from(Report).where(*where))).scalar_one()
    )
    rows = await db.execute(
        select(Report.data).where(*where).order_by(Report.day.desc()).limit(limit).offset(offset)
    )
    return [DailyReport.model_validate(data) for data in rows.scalars()], total
