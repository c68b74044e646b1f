"""reports: daily rollups, state counters, stored reports; counted from the rows already there

`daily_stats` and `daily_revenue` are counted per business day (DEFAULT_TIME_ZONE when this runs)
by the services from now on; this fills them from the rows already there. `state_counters` is
kept by triggers on `subscriptions` and `service_requests` (current state: subscriptions by
status, open/escalated/overdue requests), filled here likewise. Every write to the three notifies
`dashboard_changed`. `reports` keeps each day's report. An index on `service_requests.created_at`
serves the activity report.

The backfill statements are a copy of `domain/reports/backfill.py` as it was when this was
written (a migration must not change with the code).

Revision ID: 4c2a9e7d1f30
Revises: d0cec9233e04
Create Date: 2026-12-03 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "4c2a9e7d1f30"
down_revision: str | None = "d0cec9233e04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = """
CREATE FUNCTION state_counter_add(counter text, row_id uuid, delta integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO state_counters (name, slot, value)
    VALUES (counter, abs(hashtext(row_id::text)) % 16, delta)
    ON CONFLICT (name, slot) DO UPDATE SET value = state_counters.value + EXCLUDED.value
$$;

CREATE FUNCTION request_counter_names(status text, escalated boolean, overdue boolean)
RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status IN ('pending', 'assigned', 'in_progress') THEN
        ARRAY['requests:' || status, 'requests:open']
        || CASE WHEN escalated THEN ARRAY['requests:escalated'] ELSE '{}'::text[] END
        || CASE WHEN overdue THEN ARRAY['requests:overdue'] ELSE '{}'::text[] END
    ELSE ARRAY['requests:' || status] END
$$;

CREATE FUNCTION service_requests_count_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was text[] := '{}';
    now_in text[] := '{}';
    counter text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        was := request_counter_names(OLD.status, OLD.escalated, OLD.overdue);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        now_in := request_counter_names(NEW.status, NEW.escalated, NEW.overdue);
    END IF;
    FOREACH counter IN ARRAY was LOOP
        IF NOT counter = ANY(now_in) THEN PERFORM state_counter_add(counter, OLD.id, -1); END IF;
    END LOOP;
    FOREACH counter IN ARRAY now_in LOOP
        IF NOT counter = ANY(was) THEN PERFORM state_counter_add(counter, NEW.id, 1); END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION subscriptions_count_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM state_counter_add('subscriptions:' || OLD.status, OLD.id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM state_counter_add('subscriptions:' || NEW.status, NEW.id, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION dashboard_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dashboard_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER service_requests_count_state
AFTER INSERT OR DELETE OR UPDATE OF status, escalated, overdue ON service_requests
FOR EACH ROW EXECUTE FUNCTION service_requests_count_state();

CREATE TRIGGER subscriptions_count_state
AFTER INSERT OR DELETE OR UPDATE OF status ON subscriptions
FOR EACH ROW EXECUTE FUNCTION subscriptions_count_state();

CREATE TRIGGER daily_stats_notify AFTER INSERT OR UPDATE OR DELETE ON daily_stats
FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify();
CREATE TRIGGER daily_revenue_notify AFTER INSERT OR UPDATE OR DELETE ON daily_revenue
FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify();
CREATE TRIGGER state_counters_notify AFTER INSERT OR UPDATE OR DELETE ON state_counters
FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify();
"""

DROP_FUNCTIONS = """
DROP TRIGGER state_counters_notify ON state_counters;
DROP TRIGGER daily_revenue_notify ON daily_revenue;
DROP TRIGGER daily_stats_notify ON daily_stats;
DROP TRIGGER subscriptions_count_state ON subscriptions;
DROP TRIGGER service_requests_count_state ON service_requests;
DROP FUNCTION dashboard_notify();
DROP FUNCTION subscriptions_count_state();
DROP FUNCTION service_requests_count_state();
DROP FUNCTION request_counter_names(text, boolean, boolean);
DROP FUNCTION state_counter_add(text, uuid, integer);
"""

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


def _time_zone() -> str:
    """The business time zone of the settings (DEFAULT_TIME_ZONE), as the services will count."""
    from core.settings import get_settings

    return get_settings().default_time_zone


def upgrade() -> None:
    op.create_table(
        "daily_stats",
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), server_default="0", nullable=False)
            for name in (
                "new_users",
                "requests_created",
                "requests_assigned",
                "requests_started",
                "requests_completed",
                "requests_cancelled",
            )
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_stats")),
    )
    op.create_table(
        "daily_revenue",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("orders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "dimension IN ('total', 'plan', 'category', 'method')",
            name=op.f("ck_daily_revenue_dimension_known"),
        ),
        sa.PrimaryKeyConstraint(
            "day", "dimension", "key", "currency", name=op.f("pk_daily_revenue")
        ),
    )
    op.create_table(
        "state_counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", "slot", name=op.f("pk_state_counters")),
    )
    op.create_table(
        "reports",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("kind", "day", name=op.f("uq_reports_kind_day")),
    )
    op.create_index(
        "ix_service_requests_created_at", "service_requests", ["created_at"], unique=False
    )
    op.execute(FUNCTIONS)
    # Counted from what is there; the triggers and services count everything after.
    tz = _time_zone()
    bind = op.get_bind()
    for statement in (DAILY_STATS, DAILY_REVENUE, STATE_COUNTERS):
        bind.execute(sa.text(statement), {"tz": tz} if ":tz" in statement else {})


def downgrade() -> None:
    op.execute(DROP_FUNCTIONS)
    op.drop_index("ix_service_requests_created_at", table_name="service_requests")
    op.drop_table("reports")
    op.drop_table("state_counters")
    op.drop_table("daily_revenue")
    op.drop_table("daily_stats")
