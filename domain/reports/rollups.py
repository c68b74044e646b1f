"""Counting into the rollups (`models`), in the caller's transaction, at transitions that happen
once: an order settled (`settlement.settle_paid_order`, under the order's lock, only when it was
not yet completed), a refund succeeded (`refunds.record_refund_result`, under the refund's lock,
only when it was not yet succeeded), a customer created (`accounts.create_user`), a service
request opened or moved (`service_requests.service`, only when its keyed timeline entry was
written now). A retried activity finds the transition made and counts nothing.

Increments are upserts keyed by day (and dimension, key, currency), so concurrent changes add up.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog.models import plan_version_categories
from domain.orders.models import LedgerEntry, LedgerKind, OrderItem
from domain.reports.calendar import business_day, pro_rata, split
from domain.reports.models import DailyRevenue, DailyStats

UNKNOWN_METHOD = "unknown"
# The request status a timeline transition moves into -> the daily_stats column it counts in.
REQUEST_TRANSITIONS = {
    "assigned": "requests_assigned",
    "in_progress": "requests_started",
    "completed": "requests_completed",
    "cancelled": "requests_cancelled",
}


@dataclass(frozen=True)
class Line:
    """One rollup row's increment."""

    dimension: str
    key: str
    orders: int = 0
    amount_minor: int = 0
    refunds: int = 0
    refunded_minor: int = 0


async def _stats(db: AsyncSession, day: date, column: str, by: int = 1) -> None:
    await db.execute(
        pg_insert(DailyStats)
        .values(day=day, **{column: by})
        .on_conflict_do_update(
            index_elements=[DailyStats.day],
            set_={column: getattr(DailyStats, column) + by},
        )
    )


async def _revenue(db: AsyncSession, day: date, currency: str, lines: Iterable[Line]) -> None:
    merged: dict[tuple[str, str], Line] = {}
    for line in lines:
        was = merged.get((line.dimension, line.key))
        if was is not None:
            line = Line(
                line.dimension,
                line.key,
                was.orders + line.orders,
                was.amount_minor + line.amount_minor,
                was.refunds + line.refunds,
                was.refunded_minor + line.refunded_minor,
            )
        merged[(line.dimension, line.key)] = line
    if not merged:
        return
    # In key order: two transactions adding to the same rows lock them in the same order.
    rows = [
        {
            "day": day,
            "dimension": line.dimension,
            "key": line.key,
            "currency": currency,
            "orders": line.orders,
            "amount_minor": line.amount_minor,
            "refunds": line.refunds,
            "refunded_minor": line.refunded_minor,
        }
        for _, line in sorted(merged.items())
    ]
    stmt = pg_insert(DailyRevenue).values(rows)
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                DailyRevenue.day,
                DailyRevenue.dimension,
                DailyRevenue.key,
                DailyRevenue.currency,
            ],
            set_={
                name: getattr(DailyRevenue, name) + getattr(stmt.excluded, name)
                for name in ("orders", "amount_minor", "refunds", "refunded_minor")
            },
        )
    )


async def _categories(
    db: AsyncSession, version_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each version's categories, by id (the order the backfill splits in too)."""
    rows = await db.execute(
        select(plan_version_categories.c.version_id, plan_version_categories.c.category_id).where(
            plan_version_categories.c.version_id.in_(version_ids)
        )
    )
    found: dict[uuid.UUID, list[str]] = {v: [] for v in version_ids}
    for version_id, category_id in rows:
        found[version_id].append(str(category_id))
    return {v: sorted(c) for v, c in found.items()}


async def _item_lines(
    db: AsyncSession,
    items: Sequence[OrderItem],
    amounts: Sequence[int],
    *,
    refund: bool,
) -> list[Line]:
    """Plan and category lines for the order's items, each item worth `amounts[i]`; the order
    counts once in each plan and category it touches."""
    categories = await _categories(db, [item.plan_version_id for item in items])
    lines: list[Line] = []
    seen: set[tuple[str, str]] = set()

    def line(dimension: str, key: str, amount: int) -> Line:
        first = (dimension, key) not in seen
        seen.add((dimension, key))
        if refund:
            return Line(dimension, key, refunds=int(first), refunded_minor=amount)
        return Line(dimension, key, orders=int(first), amount_minor=amount)

    for item, amount in zip(items, amounts, strict=True):
        lines.append(line("plan", str(item.plan_id), amount))
        covered = categories.get(item.plan_version_id) or []
        for category_id, share in zip(covered, split(amount, len(covered)), strict=True):
            lines.append(line("category", category_id, share))
    return lines


def _method(method: str | None) -> str:
    return (method or UNKNOWN_METHOD)[:64]


async def count_sale(
    db: AsyncSession,
    *,
    items: Sequence[OrderItem],
    currency: str,
    total_minor: int,
    method: str | None,
    at: datetime,
) -> None:
    """An order paid (its items in position order), on the day it was paid."""
    ordered = sorted(items, key=lambda i: i.position)
    lines = [
        Line("total", "", orders=1, amount_minor=total_minor),
        Line("method", _method(method), orders=1, amount_minor=total_minor),
        *await _item_lines(db, ordered, [i.total_minor for i in ordered], refund=False),
    ]
    await _revenue(db, business_day(at), currency, lines)


async def count_refund(
    db: AsyncSession,
    *,
    items: Sequence[OrderItem],
    currency: str,
    amount_minor: int,
    method: str | None,
    at: datetime,
) -> None:
    """A refund that succeeded, on the day it did; shared among the order's plans in proportion
    to what each item cost."""
    ordered = sorted(items, key=lambda i: i.position)
    shares = pro_rata(amount_minor, [i.total_minor for i in ordered])
    lines = [
        Line("total", "", refunds=1, refunded_minor=amount_minor),
        Line("method", _method(method), refunds=1, refunded_minor=amount_minor),
        *await _item_lines(db, ordered, shares, refund=True),
    ]
    await _revenue(db, business_day(at), currency, lines)


async def count_new_user(db: AsyncSession, *, at: datetime) -> None:
    """An account made (a technician's, added by staff, is not a sign-up)."""
    await _stats(db, business_day(at), "new_users")


async def count_request_opened(db: AsyncSession, *, at: datetime) -> None:
    await _stats(db, business_day(at), "requests_created")


async def count_request_moved(
    db: AsyncSession, *, from_status: str | None, to_status: str | None, at: datetime
) -> None:
    """A request moved into another status (a timeline entry written now); other entries (a
    reassignment, a reschedule, a flag, a rating) count nothing here."""
    column = REQUEST_TRANSITIONS.get(to_status or "")
    if column is not None and from_status != to_status:
        await _stats(db, business_day(at), column)


async def captured_method(db: AsyncSession, *, order_id: uuid.UUID) -> str | None:
    """The payment method the order was paid with, as its capture recorded it."""
    data = (
        await db.execute(
            select(LedgerEntry.data).where(
                LedgerEntry.order_id == order_id, LedgerEntry.kind == LedgerKind.captured.value
            )
        )
    ).scalar()
    method = (data or {}).get("method")
    return method if isinstance(method, str) else None


async def order_items(db: AsyncSession, *, order_id: uuid.UUID) -> list[OrderItem]:
    return list(
        (
            await db.execute(
                select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.position)
            )
        ).scalars()
    )
