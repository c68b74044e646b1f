"""The dashboard's figures, read from the rollups and counters only: a few dozen rows whatever
the number of orders, users and requests (see `models`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.reports.calendar import business_day
from domain.reports.models import DailyRevenue, DailyStats, StateCounter
from domain.reports.schemas import (
    CurrencySales,
    Dashboard,
    Money,
    NewUsers,
    Requests,
    Sales,
    SalesPeriods,
    SeriesDay,
    Subscriptions,
)

SERIES_DAYS = 30


def _sales(per_day: dict[date, dict[str, list[int]]], days: list[date], currency: str) -> Sales:
    """Sales over `days` from {day: {currency: [orders, amount, refunds, refunded]}}."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for day in days:
        for code, figures in per_day.get(day, {}).items():
            sums[code] = [a + b for a, b in zip(sums[code], figures, strict=True)]
    own = sums.get(currency, [0, 0, 0, 0])
    return Sales(
        count=own[0],
        amount=Money.of(own[1], currency),
        refunds=Money.of(own[3], currency),
        net=Money.of(own[1] - own[3], currency),
        by_currency=[
            CurrencySales(count=f[0], amount=Money.of(f[1], code), refunds=Money.of(f[3], code))
            for code, f in sorted(sums.items())
        ],
    )


async def counters(db: AsyncSession) -> dict[str, int]:
    """Every state counter (the sum of its slots)."""
    rows = await db.execute(
        select(StateCounter.name, func.sum(StateCounter.value)).group_by(StateCounter.name)
    )
    return {name: int(value) for name, value in rows}


async def compute(db: AsyncSession, *, now: datetime, time_zone: str, currency: str) -> Dashboard:
    tz = ZoneInfo(time_zone)
    today = business_day(now, tz)
    month_start = today.replace(day=1)
    series_start = today - timedelta(days=SERIES_DAYS - 1)
    first = min(month_start, series_start)

    revenue: dict[date, dict[str, list[int]]] = defaultdict(dict)
    for day, code, orders, amount, refunds, refunded in await db.execute(
        select(
            DailyRevenue.day,
            DailyRevenue.currency,
            DailyRevenue.orders,
            DailyRevenue.amount_minor,
            DailyRevenue.refunds,
            DailyRevenue.refunded_minor,
        ).where(
            DailyRevenue.dimension == "total",
            DailyRevenue.key == "",
            DailyRevenue.day.between(first, today),
        )
    ):
        revenue[day][code] = [orders, amount, refunds, refunded]
    stats = {
        row.day: row
        for row in (
            await db.execute(select(DailyStats).where(DailyStats.day.between(first, today)))
        ).scalars()
    }
    state = await counters(db)

    month_days = [month_start + timedelta(days=n) for n in range((today - month_start).days + 1)]
    series: list[SeriesDay] = []
    for n in range(SERIES_DAYS):
        day = series_start + timedelta(days=n)
        own = revenue.get(day, {}).get(currency, [0, 0, 0, 0])
        row = stats.get(day)
        series.append(
            SeriesDay(
                day=day,
                sales_count=own[0],
                sales_amount=Money.of(own[1], currency),
                refunds_amount=Money.of(own[3], currency),
                net_amount=Money.of(own[1] - own[3], currency),
                new_users=row.new_users if row else 0,
                requests_created=row.requests_created if row else 0,
                requests_completed=row.requests_completed if row else 0,
            )
        )
    return Dashboard(
        as_of=now,
        time_zone=time_zone,
        currency=currency,
        sales=SalesPeriods(
            today=_sales(revenue, [today], currency),
            month=_sales(revenue, month_days, currency),
            last_30_days=_sales(revenue, [s.day for s in series], currency),
        ),
        active_subscriptions=state.get("subscriptions:active", 0)
        + state.get("subscriptions:past_due", 0),
        subscriptions=Subscriptions(
            active=state.get("subscriptions:active", 0),
            past_due=state.get("subscriptions:past_due", 0),
            grace=state.get("subscriptions:grace", 0),
        ),
        new_users=NewUsers(
            today=stats[today].new_users if today in stats else 0,
            month=sum(stats[d].new_users for d in month_days if d in stats),
        ),
        requests=Requests(
            open=state.get("requests:open", 0),
            escalated=state.get("requests:escalated", 0),
            overdue=state.get("requests:overdue", 0),
            pending=state.get("requests:pending", 0),
            assigned=state.get("requests:assigned", 0),
            in_progress=state.get("requests:in_progress", 0),
        ),
        series=series,
    )
