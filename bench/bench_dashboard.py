"""The dashboard and the 30-day revenue report at a million orders and a million service requests.

1. A stack of its own (PostgreSQL, Temporal, worker, API) with the demo catalog.
2. Rows filled by bulk SQL (`INSERT ... SELECT` over `generate_series`, in one session with
   `session_replication_role = replica`, so no trigger runs per row): 100,000 customers;
   1,000,000 orders over the last 365 days (95% paid, each with its item, its capture with a
   method, 1% partly refunded) and a subscription per paid order; 1,000,000 service requests
   (3% open, some escalated or overdue) with their timeline entries. Then the rollups and state
   counters are counted from those rows by the backfill path (`domain.reports.backfill`, what the
   migration runs), timed, and checked against the rows.
3. Measured through HTTP, one request at a time on a kept-alive connection (latency, not
   throughput): `GET /admin/dashboard` (n=300) and the 30-day revenue report by day and by plan
   (n=60 each), after a warm-up; p50 and p99 (nearest rank).
4. For comparison, what the current-state figures would cost as indexed COUNTs over the rows.

Targets: dashboard p99 <= 50 ms, report p99 <= 2 s.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench.harness import Stack, log, percentile, running_stack

API = "/api/v1"
ORDERS = int(os.environ.get("BENCH_DASHBOARD_ORDERS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", "1000000"))
CUSTOMERS = max(1, ORDERS // 10)
N_DASHBOARD, N_REPORT, WARMUP = 300, 60, 20
TARGET_DASHBOARD_MS, TARGET_REPORT_MS = 50.0, 2000.0
TZ = "Asia/Kolkata"


@dataclass
class DashboardFigures:
    rows: dict[str, int] = field(default_factory=dict)
    fill_s: dict[str, float] = field(default_factory=dict)
    backfill_s: dict[str, float] = field(default_factory=dict)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    counts_ms: dict[str, float] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0
    checked: str = ""

    def p(self, name: str, pct: float) -> float:
        return percentile(sorted(self.latencies_ms[name]), pct)

    @property
    def valid(self) -> bool:
        return all(self.latencies_ms.values()) and self.checked.startswith("ok")


FILL = {
    "users": f"""
        INSERT INTO users (id, name, email, password_hash, role, created_at, updated_at)
        SELECT md5('user' || g)::uuid, 'Bench ' || g, 'bench' || g || '@example.com', NULL,
               'customer', now() - (g % 365) * interval '1 day', now()
        FROM generate_series(1, {CUSTOMERS}) g
    """,  # noqa: S608  (only this module's whole numbers are formatted in)
    "orders": f"""
        INSERT INTO orders (id, user_id, status, provider, provider_ref, provider_payment_id,
                            currency, subtotal_minor, tax_minor, total_minor, idempotency_key,
                            request_hash, paid_at, completed_at, receipt_number, created_at,
                            updated_at)
        SELECT md5('order' || g)::uuid, md5('user' || (g % {CUSTOMERS} + 1))::uuid,
               CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'completed' END, 'sandbox',
               'bench_' || g, CASE WHEN g % 20 = 0 THEN NULL ELSE 'pay_' || g END,
               p.currency, p.total - p.tax, p.tax, p.total, 'k' || g, 'h',
               CASE WHEN g % 20 = 0 THEN NULL ELSE at END,
               CASE WHEN g % 20 = 0 THEN NULL ELSE at END,
               CASE WHEN g % 20 = 0 THEN NULL ELSE g END, at, at
        FROM generate_series(1, {ORDERS}) g
        CROSS JOIN LATERAL (
            SELECT now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute' AS at
        ) t
        JOIN bench_plans p ON p.n = g % (SELECT count(*) FROM bench_plans) + 1
    """,  # noqa: S608  (only this module's whole numbers are formatted in)
    "order_items": f"""
        INSERT INTO order_items (id, order_id, position, plan_id, plan_version_id, address,
                                 plan_name, amount_minor, tax_minor, total_minor, tax_rate_bps,
                                 includes_tax, validity_days, visit_cap)
        SELECT md5('item' || g)::uuid, md5('order' || g)::uuid, 0, p.plan_id, p.version_id,
               '{{}}'::jsonb, p.name, p.total, p.tax, p.total, 1800, true, 365, 4
        FROM generate_series(1, {ORDERS}) g
        JOIN bench_plans p ON p.n = g % (SELECT count(*) FROM bench_plans) + 1
    """,  # noqa: S608  (only this module's whole numbers are formatted in)
    "payment_ledger": """
        INSERT INTO payment_ledger (id, order_id, kind, provider, provider_payment_id,
                                    amount_minor, currency, entry_key, data, occurred_at)
        SELECT md5('led' || o.receipt_number)::uuid, o.id, 'captured', 'sandbox',
               o.provider_payment_id, o.total_minor, o.currency,
               'order:' || o.id || ':captured',
               jsonb_build_object('method',
                   (ARRAY['card', 'upi', 'wallet', 'netbanking'])[o.receipt_number % 4 + 1]),
               o.paid_at
        FROM orders o WHERE o.status = 'completed'
    """,
    "refunds": """
        INSERT INTO refunds (id, order_id, amount_minor, currency, reason, status,
                             provider_refund_id, created_at, completed_at)
        SELECT md5('refund' || o.receipt_number)::uuid, o.id, 1000, o.currency, 'bench',
               'succeeded', 're_' || o.receipt_number, o.paid_at + interval '1 hour',
               o.paid_at + interval '1 hour'
        FROM orders o WHERE o.status = 'completed' AND o.receipt_number % 100 = 1
    """,
    "refund_ledger": """
        INSERT INTO payment_ledger (id, order_id, kind, provider, amount_minor, currency,
                                    entry_key, data, occurred_at)
        SELECT md5('refled' || r.id)::uuid, r.order_id, 'refunded', 'sandbox', r.amount_minor,
               r.currency, 'refund:' || r.id, jsonb_build_object('refund_id', r.id::text),
               r.completed_at
        FROM refunds r
    """,
    "subscriptions": """
        INSERT INTO subscriptions (id, user_id, order_id, order_item_id, plan_id,
                                   plan_version_id, status, period, starts_at, ends_at,
                                   visits_allowed, visits_used, created_at, updated_at)
        SELECT md5('sub' || o.receipt_number)::uuid, o.user_id, o.id,
               md5('item' || o.receipt_number)::uuid, i.plan_id, i.plan_version_id,
               CASE o.receipt_number % 10 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'past_due'
                    ELSE 'active' END,
               1, o.paid_at, o.paid_at + interval '365 days', 4, 0, o.paid_at, o.paid_at
        FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.status = 'completed'
    """,
    "service_requests": f"""
        INSERT INTO service_requests (id, user_id, subscription_id, category_id, address,
                                      postal_code, description, window_start, window_end,
                                      status, escalated, overdue, assigned_at, started_at,
                                      completed_at, cancelled_at, parts_used, created_at,
                                      updated_at)
        SELECT md5('req' || g)::uuid, md5('user' || (k % {CUSTOMERS} + 1))::uuid,
               md5('sub' || k)::uuid, c.id, '{{}}'::jsonb, '560001', 'bench',
               at + interval '2 days', at + interval '2 days 3 hours', s.status,
               g % 1000 = 0, g % 1000 = 1,
               CASE WHEN s.status NOT IN ('pending', 'cancelled')
                    THEN at + interval '40 minutes' END,
               CASE WHEN s.status IN ('in_progress', 'completed') THEN at + interval '2 days' END,
               CASE WHEN s.status = 'completed' THEN at + interval '2 days 2 hours' END,
               CASE WHEN s.status = 'cancelled' THEN at + interval '3 hours' END,
               '[]'::jsonb, at, at
        FROM generate_series(1, {REQUESTS}) g
        CROSS JOIN LATERAL (
            SELECT CASE WHEN g % {ORDERS} % 20 = 0 THEN g % {ORDERS} + 1
                        ELSE g % {ORDERS} END AS k,
                   now() - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute' AS at,
                   CASE g % 100 WHEN 0 THEN 'pending' WHEN 1 THEN 'assigned'
                        WHEN 2 THEN 'in_progress' WHEN 3 THEN 'cancelled' WHEN 4 THEN 'cancelled'
                        ELSE 'completed' END AS status
        ) s
        JOIN bench_categories c ON c.n = g % (SELECT count(*) FROM bench_categories) + 1
    """,  # noqa: S608  (only this module's whole numbers are formatted in)
    "service_request_events": """
        INSERT INTO service_request_events (request_id, event_key, at, actor, kind, from_status,
                                            to_status, data)
        SELECT id, 'request:' || id || ':0:created', created_at, 'customer', 'created', NULL,
               'pending', '{}'::jsonb
        FROM service_requests
        UNION ALL
        SELECT id, 'request:' || id || ':1:' || status,
               coalesce(completed_at, cancelled_at, started_at, assigned_at), 'workflow', status,
               CASE status WHEN 'assigned' THEN 'pending' WHEN 'cancelled' THEN 'pending'
                    ELSE 'assigned' END,
               status, '{}'::jsonb
        FROM service_requests WHERE status <> 'pending'
    """,
}


def _conninfo(stack: Stack) -> str:
    url = make_url(stack.env["DATABASE_URL"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _admin(client: httpx.Client, conninfo: str) -> dict[str, str]:
    email = "bench-admin@example.com"
    body = {"email": email, "password": "correct horse battery", "name": "Bench Admin"}
    registered = client.post(f"{API}/auth/register", json=body)
    if registered.status_code != 201:
        raise RuntimeError(f"register: {registered.status_code} {registered.text[:300]}")
    with psycopg.connect(conninfo) as conn:
        conn.execute("UPDATE users SET role = 'admin' WHERE email = %s", (email,))
    return {"Authorization": f"Bearer {registered.json()['tokens']['access_token']}"}


def _fill(conninfo: str, figures: DashboardFigures) -> None:
    from domain.reports import backfill

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no per-row triggers
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute(
            "CREATE TEMP TABLE bench_plans AS SELECT row_number() OVER (ORDER BY p.slug) AS n, "
            "p.id AS plan_id, v.id AS version_id, v.total_minor AS total, v.tax_minor AS tax, "
            "v.name, v.currency FROM plans p JOIN plan_versions v ON v.id = p.current_version_id"
        )
        conn.execute(
            "CREATE TEMP TABLE bench_categories AS SELECT row_number() OVER (ORDER BY slug) AS n, "
            "id FROM service_categories"
        )
        for name, sql in FILL.items():
            started = time.perf_counter()
            rows = conn.execute(sql).rowcount
            figures.fill_s[name] = time.perf_counter() - started
            figures.rows[name] = rows
            log(f"filled {name}: {rows:,} rows in {figures.fill_s[name]:.1f} s")
        conn.execute("SET session_replication_role = origin")
        started = time.perf_counter()
        conn.execute("ANALYZE")
        figures.fill_s["analyze"] = time.perf_counter() - started

        # The backfill path: what the migration runs, and `manage.py rebuild-rollups`.
        with conn.transaction():
            for statement in backfill.STATEMENTS:
                started = time.perf_counter()
                if ":tz" in statement:
                    conn.execute(statement.replace("%", "%%").replace(":tz", "%(tz)s"), {"tz": TZ})
                else:
                    conn.execute(statement)
                figures.backfill_s[_label(statement)] = time.perf_counter() - started
        conn.execute("ANALYZE daily_stats, daily_revenue, state_counters")
        log(f"rollups counted from the rows in {sum(figures.backfill_s.values()):.1f} s")

        rolled = conn.execute(
            "SELECT sum(orders), sum(refunds) FROM daily_revenue WHERE dimension = 'total'"
        ).fetchone()
        paid = conn.execute("SELECT count(*) FROM orders WHERE status = 'completed'").fetchone()
        refunded = conn.execute("SELECT count(*) FROM refunds").fetchone()
        active = conn.execute(
            "SELECT sum(value) FROM state_counters WHERE name = 'subscriptions:active'"
        ).fetchone()
        assert rolled is not None
        assert paid is not None
        assert refunded is not None
        assert active is not None
        figures.checked = (
            "ok" if (int(rolled[0]), int(rolled[1])) == (paid[0], refunded[0]) else "MISMATCH"
        ) + (
            f": rollups count {int(rolled[0]):,} paid orders and {int(rolled[1]):,} refunds "
            f"(rows: {paid[0]:,}, {refunded[0]:,}); {int(active[0]):,} active subscriptions"
        )

        # What the current-state figures would cost as indexed COUNTs (best of 5, warm).
        for name, sql in {
            "active subscriptions": (
                "SELECT count(*) FROM subscriptions WHERE status IN ('active', 'past_due')"
            ),
            "open requests": (
                "SELECT count(*) FROM service_requests "
                "WHERE status IN ('pending', 'assigned', 'in_progress')"
            ),
            "the counters (all of them)": (
                "SELECT name, sum(value) FROM state_counters GROUP BY name"
            ),
        }.items():
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                conn.execute(sql).fetchall()
                best = min(best, (time.perf_counter() - started) * 1000.0)
            figures.counts_ms[name] = best


def _label(statement: str) -> str:
    words = statement.split()
    if words[0] == "DELETE":
        return f"clear {words[2]}"
    return words[words.index("INTO") + 1]


def _timed(client: httpx.Client, path: str, headers: dict[str, str], n: int) -> list[float]:
    for _ in range(min(WARMUP, n)):
        client.get(path, headers=headers).raise_for_status()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000.0
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
        out.append(elapsed)
    return out


def run(work: Path) -> DashboardFigures:
    from bench import bench_catalog
    from core.db import utcnow
    from domain.reports.calendar import business_day, zone_for

    work.mkdir(parents=True, exist_ok=True)
    figures = DashboardFigures(load_before=os.getloadavg()[0])
    with running_stack(work) as stack:
        bench_catalog.ensure_demo_catalog(stack)
        conninfo = _conninfo(stack)
        with httpx.Client(base_url=stack.api_url, timeout=60.0) as client:
            admin = _admin(client, conninfo)
            log(f"filling {ORDERS:,} orders and {REQUESTS:,} service requests (bulk SQL)")
            _fill(conninfo, figures)
            today = business_day(utcnow(), zone_for(TZ))
            period = f"since={today - timedelta(days=29)}&until={today}"
            log(f"measuring GET /admin/dashboard (n={N_DASHBOARD}) and the 30-day report")
            figures.latencies_ms["dashboard"] = _timed(
                client, f"{API}/admin/dashboard", admin, N_DASHBOARD
            )
            figures.latencies_ms["report by day"] = _timed(
                client, f"{API}/admin/reports/revenue?{period}&group_by=day", admin, N_REPORT
            )
            figures.latencies_ms["report by plan"] = _timed(
                client, f"{API}/admin/reports/revenue?{period}&group_by=plan", admin, N_REPORT
            )
            figures.latencies_ms["activity report"] = _timed(
                client, f"{API}/admin/reports/activity?{period}", admin, N_REPORT
            )
            figures.latencies_ms["GET /me (baseline)"] = _timed(
                client, f"{API}/me", admin, N_DASHBOARD
            )
    figures.load_after = os.getloadavg()[0]
    return figures


def lines(f: DashboardFigures) -> list[str]:
    def verdict(name: str, target: float) -> str:
        return "MET" if f.p(name, 99) <= target else "MISSED"

    out = [
        "dashboard data: "
        + ", ".join(f"{name} {rows:,}" for name, rows in f.rows.items())
        + f" | filled in {sum(f.fill_s.values()):.0f} s (bulk SQL, not timed below); "
        + "backfill (the migration's path) "
        + ", ".join(f"{k} {v:.1f} s" for k, v in f.backfill_s.items())
        + f" | {f.checked}",
    ]
    for name, n, target in (
        ("dashboard", N_DASHBOARD, TARGET_DASHBOARD_MS),
        ("report by day", N_REPORT, TARGET_REPORT_MS),
        ("report by plan", N_REPORT, TARGET_REPORT_MS),
        ("activity report", N_REPORT, None),
        ("GET /me (baseline)", N_DASHBOARD, None),
    ):
        label = {
            "dashboard": "GET /admin/dashboard",
            "report by day": "GET /admin/reports/revenue 30 days by day",
            "report by plan": "GET /admin/reports/revenue 30 days by plan",
            "activity report": "GET /admin/reports/activity 30 days",
            "GET /me (baseline)": "GET /me (same auth, one row: the floor of an admin GET)",
        }[name]
        line = (
            f"{label}: p50 {f.p(name, 50):.2f} ms, p99 {f.p(name, 99):.2f} ms, max "
            f"{f.p(name, 100):.2f} ms (n={n}, one at a time)"
        )
        if target is not None:
            line += f" | target p99 <= {target:g} ms: {verdict(name, target)}"
        out.append(line)
    out.append(
        "current state as indexed COUNTs instead (best of 5, in SQL): "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in f.counts_ms.items())
        + f" | load average {f.load_before:.2f} at start, {f.load_after:.2f} at end "
        "(the machine is shared)"
    )
    return out
