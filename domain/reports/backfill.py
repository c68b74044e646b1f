"""Counting the rollups again from the rows themselves: what the migration that made them did
(it has its own copy of these statements, frozen with it) and what `python manage.py
rebuild-rollups` does after DEFAULT_TIME_ZONE changed or a fix was made in psql.

The statements count exactly what the services count as they go (`rollups`): a sale on the day
its order was paid, with the method its capture recorded; a refund on the day it succeeded,
shared among the order's plans in proportion to each item's total (the remainder to the first
item) and split evenly among a version's categories (the remainder to the first, by id); a
new user on the day the account was made (technicians' accounts, added by staff, are not
sign-ups); request transitions from their timeline entries. State counters
from the rows' current state, by the same SQL functions the triggers use.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Writers are held back while it runs (sources first, then the rollups: the order every writer
# takes them in, so no deadlock), so nothing counted meanwhile is lost or counted twice.
LOCKS = (
    "LOCK TABLE orders, order_items, payment_ledger, refunds, users, service_requests, "
    "service_request_events, subscriptions IN SHARE MODE",
    "LOCK TABLE daily_stats, daily_revenue, state_counters IN EXCLUSIVE MODE",
)

CLEAR = (
    "DELETE FROM daily_stats",
    "DELETE FROM daily_revenue",
    "DELETE FROM state_counters",
)

DAILY_STATS = """
INSERT INTO daily_stats (day, new_users, requests_created, requests_assigned, requests_started,
                         requests_completed, requests_cancelled)
SELECT day, sum(new_users), sum(created), sum(assigned), sum(started), sum(completed),
       sum(cancelled)
FROM (
    SELECT (created_at AT TIME ZONE :tz)::date AS day, count(*) AS new_users, 0 AS created,
           0 AS assigned, 0 AS started, 0 AS completed, 0 AS cancelled
    FROM users WHERE role <> 'technician' GROUP BY 1
    UNION ALL
    SELECT (at AT TIME ZONE :tz)::date, 0,
           count(*) FILTER (WHERE kind = 'created'),
           count(*) FILTER (WHERE kind <> 'created' AND to_status = 'assigned'),
           count(*) FILTER (WHERE kind <> 'created' AND to_status = 'in_progress'),
           count(*) FILTER (WHERE kind <> 'created' AND to_status = 'completed'),
           count(*) FILTER (WHERE kind <> 'created' AND to_status = 'cancelled')
    FROM service_request_events
    WHERE kind = 'created'
       OR (to_status IN ('assigned', 'in_progress', 'completed', 'cancelled')
           AND from_status IS DISTINCT FROM to_status)
    GROUP BY 1
) AS counted
GROUP BY day
"""

DAILY_REVENUE = """
WITH sale AS (
    SELECT o.id, o.currency, o.total_minor, (o.paid_at AT TIME ZONE :tz)::date AS day,
           coalesce(left(l.data ->> 'method', 64), 'unknown') AS method
    FROM orders o
    LEFT JOIN payment_ledger l ON l.order_id = o.id AND l.kind = 'captured'
    WHERE o.status = 'completed' AND o.paid_at IS NOT NULL
),
sale_item AS (
    SELECT s.id AS order_id, s.day, s.currency, i.plan_id, i.plan_version_id,
           i.total_minor AS amount
    FROM sale s JOIN order_items i ON i.order_id = s.id
),
refund AS (
    SELECT r.id, r.order_id, r.currency, l.amount_minor AS amount,
           (r.completed_at AT TIME ZONE :tz)::date AS day,
           coalesce(left(c.data ->> 'method', 64), 'unknown') AS method
    FROM refunds r
    JOIN payment_ledger l ON l.entry_key = 'refund:' || r.id::text
    LEFT JOIN payment_ledger c ON c.order_id = r.order_id AND c.kind = 'captured'
    WHERE r.status = 'succeeded' AND r.completed_at IS NOT NULL
),
refund_weighed AS (
    SELECT f.id AS refund_id, f.day, f.currency, i.plan_id, i.plan_version_id, f.amount,
           row_number() OVER (PARTITION BY f.id ORDER BY i.position) AS rn,
           CASE WHEN sum(i.total_minor) OVER (PARTITION BY f.id) > 0
                THEN (f.amount * i.total_minor)
                     / (sum(i.total_minor) OVER (PARTITION BY f.id))::bigint
                ELSE 0 END AS base
    FROM refund f JOIN order_items i ON i.order_id = f.order_id
),
refund_item AS (
    SELECT refund_id, day, currency, plan_id, plan_version_id,
           base + CASE WHEN rn = 1
                       THEN amount - (sum(base) OVER (PARTITION BY refund_id))::bigint
                       ELSE 0 END AS amount
    FROM refund_weighed
),
covered AS (
    SELECT version_id, category_id,
           row_number() OVER (PARTITION BY version_id ORDER BY category_id::text) AS rn,
           count(*) OVER (PARTITION BY version_id) AS n
    FROM plan_version_categories
),
lines AS (
    SELECT day, 'total' AS dimension, '' AS key, currency, count(*) AS orders,
           sum(total_minor) AS amount_minor, 0 AS refunds, 0 AS refunded_minor
    FROM sale GROUP BY day, currency
    UNION ALL
    SELECT day, 'method', method, currency, count(*), sum(total_minor), 0, 0
    FROM sale GROUP BY day, method, currency
    UNION ALL
    SELECT day, 'plan', plan_id::text, currency, count(DISTINCT order_id), sum(amount), 0, 0
    FROM sale_item GROUP BY day, plan_id, currency
    UNION ALL
    SELECT s.day, 'category', c.category_id::text, s.currency, count(DISTINCT s.order_id),
           sum(s.amount / c.n + CASE WHEN c.rn = 1 THEN s.amount % c.n ELSE 0 END), 0, 0
    FROM sale_item s JOIN covered c ON c.version_id = s.plan_version_id
    GROUP BY s.day, c.category_id, s.currency
    UNION ALL
    SELECT day, 'total', '', currency, 0, 0, count(*), sum(amount)
    FROM refund GROUP BY day, currency
    UNION ALL
    SELECT day, 'method', method, currency, 0, 0, count(*), sum(amount)
    FROM refund GROUP BY day, method, currency
    UNION ALL
    SELECT day, 'plan', plan_id::text, currency, 0, 0, count(DISTINCT refund_id), sum(amount)
    FROM refund_item GROUP BY day, plan_id, currency
    UNION ALL
    SELECT r.day, 'category', c.category_id::text, r.currency, 0, 0,
           count(DISTINCT r.refund_id),
           sum(r.amount / c.n + CASE WHEN c.rn = 1 THEN r.amount % c.n ELSE 0 END)
    FROM refund_item r JOIN covered c ON c.version_id = r.plan_version_id
    GROUP BY r.day, c.category_id, r.currency
)
INSERT INTO daily_revenue (day, dimension, key, currency, orders, amount_minor, refunds,
                           refunded_minor)
SELECT day, dimension, key, currency, sum(orders), sum(amount_minor), sum(refunds),
       sum(refunded_minor)
FROM lines
GROUP BY day, dimension, key, currency
"""

STATE_COUNTERS = """
INSERT INTO state_counters (name, slot, value)
SELECT name, slot, sum(n) FROM (
    SELECT 'subscriptions:' || status AS name, abs(hashtext(id::text)) % 16 AS slot,
           count(*) AS n
    FROM subscriptions GROUP BY 1, 2
    UNION ALL
    SELECT counter, abs(hashtext(r.id::text)) % 16, count(*)
    FROM service_requests r, unnest(request_counter_names(r.status, r.escalated, r.overdue))
         AS counter
    GROUP BY 1, 2
) AS counted
GROUP BY name, slot
"""

STATEMENTS = (*CLEAR, DAILY_STATS, DAILY_REVENUE, STATE_COUNTERS)


async def rebuild(db: AsyncSession, *, time_zone: str) -> None:
    """Every rollup and counter counted again from the rows, in the caller's transaction (which
    holds writers back until it commits)."""
    for statement in LOCKS:
        await db.execute(text(statement))
    for statement in STATEMENTS:
        await db.execute(text(statement), {"tz": time_zone} if ":tz" in statement else {})
