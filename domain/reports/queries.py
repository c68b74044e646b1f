"""Reports for a period of business days: revenue (by day, plan, category or payment method) from
`daily_revenue`, and activity from `daily_stats` and the requests asked for in the period.

A period is `since` to `until`, both included, at most `MAX_DAYS` long: a year's rows of the
rollups at most, whatever the number of orders.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidField
from domain import timefmt
from domain.catalog.models import Plan, PlanVersion, ServiceCategory
from domain.reports.models import DailyRevenue, DailyStats
from domain.reports.schemas import (
    ActivityReport,
    DayCount,
    Durations,
    GroupBy,
    Money,
    RevenueReport,
    RevenueRow,
)
from domain.service_requests.models import RequestStatus, ServiceRequest

MAX_DAYS = 366
METHOD_LABELS = {
    "card": "Card",
    "upi": "UPI",
    "wallet": "Wallet",
    "netbanking": "Net banking",
    "unknown": "Not recorded",
}


def check_period(since: date, until: date) -> None:
    """422 naming the field when the period is backwards or longer than MAX_DAYS."""
    if until < since:
        raise InvalidField(("until",), "must be on or after since")
    if (until - since).days + 1 > MAX_DAYS:
        raise InvalidField(("until",), f"a period is at most {MAX_DAYS} days")


def days_of(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def _row(
    key: str, label: str, currency: str, orders: int, amount: int, refund_count: int, refunded: int
) -> RevenueRow:
    return RevenueRow(
        key=key,
        label=label,
        currency=currency,
        orders=orders,
        amount=Money.of(amount, currency),
        refunds=Money.of(refunded, currency),
        refund_count=refund_count,
        net=Money.of(amount - refunded, currency),
    )


async def _labels(db: AsyncSession, group_by: GroupBy, keys: set[str]) -> dict[str, str]:
    ids = []
    for key in keys:
        try:
            ids.append(uuid.UUID(key))
        except ValueError:
            continue
    if group_by == GroupBy.plan and ids:
        rows = await db.execute(
            select(Plan.id, PlanVersion.name)
            .join(PlanVersion, PlanVersion.id == Plan.current_version_id)
            .where(Plan.id.in_(ids))
        )
        return {str(i): name for i, name in rows}
    if group_by == GroupBy.category and ids:
        rows = await db.execute(
            select(ServiceCategory.id, ServiceCategory.name).where(ServiceCategory.id.in_(ids))
        )
        return {str(i): name for i, name in rows}
    if group_by == GroupBy.method:
        return {k: METHOD_LABELS.get(k, k.replace("_", " ").title()) for k in keys}
    return {}


async def revenue(
    db: AsyncSession,
    *,
    since: date,
    until: date,
    group_by: GroupBy,
    time_zone: str,
    currency: str,
) -> RevenueReport:
    """Orders paid, amounts, refunds and net in the period, grouped; by day every day of the
    period has a row in `currency` (zero when nothing was sold), biggest first otherwise."""
    check_period(since, until)
    dimension = "total" if group_by == GroupBy.day else group_by.value
    key = DailyRevenue.day if group_by == GroupBy.day else DailyRevenue.key
    rows = await db.execute(
        select(
            key,
            DailyRevenue.currency,
            func.sum(DailyRevenue.orders),
            func.sum(DailyRevenue.amount_minor),
            func.sum(DailyRevenue.refunds),
            func.sum(DailyRevenue.refunded_minor),
        )
        .where(DailyRevenue.dimension == dimension, DailyRevenue.day.between(since, until))
        .group_by(key, DailyRevenue.currency)
    )
    found: dict[tuple[str, str], list[int]] = {}
    for k, code, orders, amount, refunds, refunded in rows:
        name = k.isoformat() if isinstance(k, date) else str(k)
        found[(name, code)] = [int(orders), int(amount), int(refunds), int(refunded)]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (_, code), f in found.items():
        totals[code] = [a + b for a, b in zip(totals[code], f, strict=True)]
    if group_by == GroupBy.day:
        for day in days_of(since, until):
            found.setdefault((day.isoformat(), currency), [0, 0, 0, 0])
        ordered = sorted(found.items())
        labels = {k: timefmt.day(date.fromisoformat(k)) for k, _ in found}
    else:
        ordered = sorted(found.items(), key=lambda item: (-item[1][1], item[0]))
        labels = await _labels(db, group_by, {k for k, _ in found})
    return RevenueReport(
        since=since,
        until=until,
        time_zone=time_zone,
        group_by=group_by,
        rows=[_row(k, labels.get(k, k), code, f[0], f[1], f[2], f[3]) for (k, code), f in ordered],
        totals=[
            _row("total", "Total", code, f[0], f[1], f[2], f[3])
            for code, f in sorted(totals.items())
        ],
    )


def _minutes(count: int, p50: float | None, avg: float | None) -> Durations:
    return Durations(
        count=count,
        p50_minutes=round(p50 / 60, 1) if p50 is not None else None,
        avg_minutes=round(avg / 60, 1) if avg is not None else None,
    )


async def activity(db: AsyncSession, *, since: date, until: date, time_zone: str) -> ActivityReport:
    """New users and requests by day, the moves of requests in the period, and the requests asked
    for in the period: by their status now, and how long they took to be assigned and done."""
    check_period(since, until)
    tz = ZoneInfo(time_zone)
    start = datetime.combine(since, time(0), tz)
    end = datetime.combine(until + timedelta(days=1), time(0), tz)
    stats = {
        row.day: row
        for row in (
            await db.execute(select(DailyStats).where(DailyStats.day.between(since, until)))
        ).scalars()
    }
    days = days_of(since, until)

    def total(column: str) -> int:
        return sum(getattr(row, column) for row in stats.values())

    in_period = (ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
    by_status = {s.value: 0 for s in RequestStatus}
    for status, count in await db.execute(
        select(ServiceRequest.status, func.count())
        .where(*in_period)
        .group_by(ServiceRequest.status)
    ):
        by_status[status] = int(count)
    to_assign = func.extract("epoch", ServiceRequest.assigned_at - ServiceRequest.created_at)
    to_complete = func.extract("epoch", ServiceRequest.completed_at - ServiceRequest.created_at)
    durations = (
        await db.execute(
            select(
                func.count(ServiceRequest.assigned_at),
                func.percentile_cont(0.5).within_group(to_assign),
                func.avg(to_assign),
                func.count(ServiceRequest.completed_at),
                func.percentile_cont(0.5).within_group(to_complete),
                func.avg(to_complete),
            ).where(*in_period)
        )
    ).one()
    return ActivityReport(
        since=since,
        until=until,
        time_zone=time_zone,
        new_users_by_day=[
            DayCount(day=d, count=stats[d].new_users if d in stats else 0) for d in days
        ],
        requests_created_by_day=[
            DayCount(day=d, count=stats[d].requests_created if d in stats else 0) for d in days
        ],
        requests_by_status=by_status,
        transitions={
            "created": total("requests_created"),
            "assigned": total("requests_assigned"),
            "in_progress": total("requests_started"),
            "completed": total("requests_completed"),
            "cancelled": total("requests_cancelled"),
        },
        time_to_assign=_minutes(int(durations[0]), _float(durations[1]), _float(durations[2])),
        time_to_complete=_minutes(int(durations[3]), _float(durations[4]), _float(durations[5])),
    )


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
