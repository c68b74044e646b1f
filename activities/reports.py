"""Reports activities: compute one business day's report and store it (one row per day, replaced
when run again: idempotent by the day)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.db import utcnow
from core.settings import Settings
from domain.reports import daily
from domain.reports.calendar import business_day, zone_for
from domain.reports.contracts import COMPUTE_DAILY, DailyReportDone, DailyReportRun


class ReportActivities:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name=COMPUTE_DAILY)
    async def compute_daily(self, run: DailyReportRun) -> DailyReportDone:
        """The report of `run.day` (default: the business day before `due_at`), stored."""
        tz = zone_for(self._settings.default_time_zone)
        day = run.day or business_day(run.due_at, tz) - timedelta(days=1)
        async with self._sessions() as db:
            report = await daily.compute(
                db,
                day=day,
                time_zone=self._settings.default_time_zone,
                currency=self._settings.reports_currency,
                now=utcnow(),
            )
            await daily.store(db, report=report)
            await db.commit()
        return DailyReportDone(day=day, orders=sum(r.orders for r in report.revenue.totals))
