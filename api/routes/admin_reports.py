"""Admins: reports for a period (revenue by day, plan, category or payment method; activity), as
JSON or CSV, and the stored daily reports (the `daily-report` Temporal Schedule makes one each
night). Periods are business days in DEFAULT_TIME_ZONE, both ends included, at most 366 days."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from api.deps import AdminUser, SessionDep, SettingsDep
from api.pagination import StaffPage
from api.periods import IsoDate, iso_8601
from api.problems import problems
from domain.reports import daily, export, queries
from domain.reports.schemas import (
    ActivityReport,
    DailyReport,
    DailyReportSummary,
    GroupBy,
    RevenueReport,
)
from domain.types import Page

router = APIRouter(prefix="/admin/reports", tags=["admin: reports"])


class Format(StrEnum):
    json = "json"
    csv = "csv"


# Bounded: a day past 9999-12-30 could not be followed by the next one.
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)
# (The ISO check after the bounds: before them, the document would show them as unknown keys.)
Since = Annotated[
    date,
    Query(ge=EARLIEST, le=LATEST, description="The first business day of the period (YYYY-MM-DD)"),
    BeforeValidator(iso_8601),
]
Until = Annotated[
    date,
    Query(
        ge=EARLIEST,
        le=LATEST,
        description="The last business day of the period, included (at most 366 days)",
    ),
    BeforeValidator(iso_8601),
]
FormatQuery = Annotated[Format, Query(description="json, or csv to download")]


def _csv_answer(body: str, filename: str) -> Response:
    return Response(
        content=body.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _or_csv(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "The report (JSON), or with format=csv the CSV file to download",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }


@router.get("/revenue", response_model=RevenueReport, responses=_or_csv(RevenueReport))
async def revenue_report(
    _admin: AdminUser,
    db: SessionDep,
    settings: SettingsDep,
    since: Since,
    until: Until,
    group_by: GroupBy = GroupBy.day,
    format: FormatQuery = Format.json,
) -> Any:
    """Orders paid, amounts, refunds and net, by day, plan, category or payment method."""
    report = await queries.revenue(
        db,
        since=since,
        until=until,
        group_by=group_by,
        time_zone=settings.default_time_zone,
        currency=settings.reports_currency,
    )
    if format == Format.csv:
        return _csv_answer(
            export.revenue_csv(report), f"revenue-by-{group_by.value}-{since}-to-{until}.csv"
        )
    return report


@router.get("/activity", response_model=ActivityReport, responses=_or_csv(ActivityReport))
async def activity_report(
    _admin: AdminUser,
    db: SessionDep,
    settings: SettingsDep,
    since: Since,
    until: Until,
    format: FormatQuery = Format.json,
) -> Any:
    """New users and requests by day, requests by status, time to assign and to complete."""
    report = await queries.activity(
        db, since=since, until=until, time_zone=settings.default_time_zone
    )
    if format == Format.csv:
        return _csv_answer(export.activity_csv(report), f"activity-{since}-to-{until}.csv")
    return report


@router.get("/daily", response_model=Page[DailyReportSummary])
async def list_daily_reports(
    _admin: AdminUser,
    db: SessionDep,
    settings: SettingsDep,
    page: StaffPage,
    since: Annotated[IsoDate | None, Query(description="From this day")] = None,
    until: Annotated[IsoDate | None, Query(description="To this day, included")] = None,
) -> Page[DailyReportSummary]:
    """The stored daily reports, newest day first."""
    reports, total = await daily.listing(
        db, since=since, until=until, limit=page.limit, offset=page.offset
    )
    items = []
    for report in reports:
        own = [r for r in report.revenue.totals if r.currency == settings.reports_currency]
        items.append(
            DailyReportSummary(
                day=report.day,
                generated_at=report.generated_at,
                orders=sum(r.orders for r in report.revenue.totals),
                amount=[r.amount for r in (own or report.revenue.totals)],
                download_url=f"/api/v1/admin/reports/daily/{report.day}?format=csv",
            )
        )
    return Page[DailyReportSummary](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/daily/{day}",
    response_model=DailyReport,
    responses={**_or_csv(DailyReport), **problems(404)},
)
async def read_daily_report(
    day: IsoDate, _admin: AdminUser, db: SessionDep, format: FormatQuery = Format.json
) -> Any:
    """One stored daily report: its figures, or with format=csv the file to download."""
    report = await daily.get(db, day=day)
    if format == Format.csv:
        return _csv_answer(export.daily_csv(report), f"daily-report-{day}.csv")
    return report
