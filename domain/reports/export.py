"""Reports as CSV (RFC 4180: every field quoted as needed by the `csv` module, CRLF line ends).

Amounts are decimal numbers in their currency's unit (`1499.00`), with the currency in its own
column, so a spreadsheet sums them. A text field that a spreadsheet would run as a formula (one
starting with `=`, `+`, `-`, `@`, a tab or a carriage return: a plan name is typed by an admin) is
prefixed with `'` (OWASP's advice against CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from domain.money import minor_units
from domain.reports.schemas import ActivityReport, DailyReport, Money, RevenueReport

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REVENUE_HEADER = (
    "key",
    "label",
    "currency",
    "orders",
    "amount",
    "refund_count",
    "refunds",
    "net",
)


def decimal(money: Money) -> str:
    digits = minor_units(money.currency)
    sign = "-" if money.amount_minor < 0 else ""
    whole, part = divmod(abs(money.amount_minor), 10**digits)
    return f"{sign}{whole}.{part:0{digits}d}" if digits else f"{sign}{whole}"


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


def _revenue_rows(report: RevenueReport, section: str | None = None) -> list[list[object]]:
    rows: list[list[object]] = []
    for row in [*report.rows, *report.totals]:
        line: list[object] = [
            row.key,
            row.label,
            row.currency,
            row.orders,
            decimal(row.amount),
            row.refund_count,
            decimal(row.refunds),
            decimal(row.net),
        ]
        rows.append([section, *line] if section else line)
    return rows


def revenue_csv(report: RevenueReport) -> str:
    return _csv([REVENUE_HEADER, *_revenue_rows(report)])


def _activity_rows(report: ActivityReport) -> list[list[object]]:
    rows: list[list[object]] = []
    rows += [["new_users", d.day.isoformat(), d.count] for d in report.new_users_by_day]
    rows += [
        ["requests_created", d.day.isoformat(), d.count] for d in report.requests_created_by_day
    ]
    rows += [["requests_by_status", s, n] for s, n in report.requests_by_status.items()]
    rows += [["transitions", s, n] for s, n in report.transitions.items()]
    for name, durations in (
        ("time_to_assign", report.time_to_assign),
        ("time_to_complete", report.time_to_complete),
    ):
        rows += [
            [name, "count", durations.count],
            [name, "p50_minutes", durations.p50_minutes],
            [name, "avg_minutes", durations.avg_minutes],
        ]
    return rows


def activity_csv(report: ActivityReport) -> str:
    return _csv([("metric", "key", "value"), *_activity_rows(report)])


def daily_csv(report: DailyReport) -> str:
    """One file: the day's revenue in total, by plan and by method, then its activity."""
    rows: list[Sequence[object]] = [("section", *REVENUE_HEADER)]
    rows += _revenue_rows(report.revenue, "revenue")
    rows += _revenue_rows(report.by_plan, "revenue_by_plan")
    rows += _revenue_rows(report.by_method, "revenue_by_method")
    rows += [["activity", *row] for row in _activity_rows(report.activity)]
    return _csv(rows)
