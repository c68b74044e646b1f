"""What must hold once the faults stop and the stack settles, read from the database, the sandbox
provider's own records (sandbox_payments) and Temporal (list/count with the search attributes,
describe). Each check counts what it looked at and what was lost, duplicated or stuck."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import psycopg
from temporalio.client import Client, WorkflowExecutionStatus

from chaos import checks_workflows
from chaos.mix_campaigns import plain_url
from chaos.results import Result, rows
from chaos.world import World

PAYMENT_SAYS = {"succeeded": "completed", "failed": "failed", "cancelled": "expired"}
LIVE = {"active", "past_due", "grace"}
RE_READS = 10


async def orders(db: psycopg.AsyncConnection[Any], world: World) -> Result:
    """Every order ended as its payment says (the payer's action too), none left pending."""
    r = Result("orders end as their payment says")
    found = await rows(
        db,
        "SELECT o.id::text, o.status, sp.status, o.created_at FROM orders o "
        "LEFT JOIN sandbox_payments sp ON sp.id = o.provider_ref",
    )
    for order_id, status, payment, _created in found:
        r.checked += 1
        if status == "pending_payment" or payment in (None, "pending"):
            r.stuck += 1
            r.note(f"order {order_id} is {status}, its payment {payment}")
        elif PAYMENT_SAYS.get(payment) != status:
            r.lost += 1
            r.note(f"order {order_id} is {status} but its payment {payment}")
        action = world.paid.get(order_id)
        wanted = {"approve": "completed", "decline": "failed"}.get(action or "")
        if wanted and status not in (wanted, "pending_payment"):
            r.lost += 1
            r.note(f"order {order_id} was {action}d on the page but is {status}")
    mine = {row[0] for row in found}
    for order_id in world.paid:
        if order_id not in mine:
            r.lost += 1
            r.note(f"order {order_id} that the client paid is not in the database")
    return r


async def payments(db: psycopg.AsyncConnection[Any]) -> Result:
    """Exactly one provider payment and one captured ledger entry per paid order, one renewal
    charge per subscription period."""
    r = Result("one payment and one ledger capture per paid order")
    found = await rows(
        db,
        "SELECT o.id::text, "
        " (SELECT count(*) FROM sandbox_payments sp WHERE sp.reference = o.id::text "
        "   AND sp.status = 'succeeded'), "
        " (SELECT count(*) FROM payment_ledger l WHERE l.order_id = o.id AND l.kind = 'captured') "
        "FROM orders o WHERE o.status = 'completed'",
    )
    for order_id, paid, captured in found:
        r.checked += 1
        for what, n in (("provider payments", paid), ("ledger captures", captured)):
            if n == 0:
                r.lost += 1
                r.note(f"order {order_id}: no {what}")
            elif n > 1:
                r.duplicated += n - 1
                r.note(f"order {order_id}: {n} {what}")
    charges = await rows(
        db,
        "SELECT idempotency_key, count(*) FROM sandbox_payments WHERE status = 'succeeded' "
        "AND charged_method_id IS NOT NULL GROUP BY split_part(idempotency_key, ':retry', 1), "
        "idempotency_key",
    )
    per_period = Counter(key.split(":retry")[0] for key, _n in charges)
    for period, n in per_period.items():
        r.checked += 1
        if n > 1:
            r.duplicated += n - 1
            r.note(f"{period}: {n} renewal charges succeeded")
    renewals = await rows(
        db,
        "SELECT i.renews_subscription_id::text, count(DISTINCT o.id), "
        " (SELECT count(*) FROM subscription_periods p "
        "   WHERE p.subscription_id = i.renews_subscription_id AND p.number > 1) "
        "FROM order_items i JOIN orders o ON o.id = i.order_id "
        "WHERE i.renews_subscription_id IS NOT NULL AND o.status = 'completed' "
        "GROUP BY i.renews_subscription_id",
    )
    for sid, paid, periods in renewals:
        r.checked += 1
        if paid > periods:
            r.lost += paid - periods
            r.note(f"subscription {sid}: {paid} renewals paid, {periods} periods added")
        elif periods > paid:
            r.duplicated += periods - paid
            r.note(f"subscription {sid}: {periods} periods added for {paid} renewals paid")
    return r


async def receipts(db: psycopg.AsyncConnection[Any]) -> Result:
    r = Result("receipt numbers without gaps or repeats")
    numbers = [n for (n,) in await rows(db, "SELECT number FROM receipts ORDER BY number")]
    r.checked = len(numbers)
    counts = Counter(numbers)
    r.duplicated = sum(n - 1 for n in counts.values())
    if numbers:
        missing = set(range(numbers[0], numbers[-1] + 1)) - set(numbers)
        r.lost = len(missing)
        if missing:
            r.note(f"missing receipt numbers: {sorted(missing)[:10]}")
    (completed,) = (await rows(db, "SELECT count(*) FROM orders WHERE status = 'completed'"))[0]
    if completed != len(counts):
        r.lost += abs(completed - len(counts))
        r.note(f"{completed} completed orders, {len(counts)} receipts")
    return r


async def subscriptions(db: psycopg.AsyncConnection[Any], temporal: Client) -> Result:
    """One subscription per item bought; exactly one `subscription:{id}` lifecycle, running or
    ended as the subscription says."""
    r = Result("one subscription and one lifecycle per item")
    items = await rows(
        db,
        "SELECT i.id::text, count(s.id) FROM order_items i JOIN orders o ON o.id = i.order_id "
        "LEFT JOIN subscriptions s ON s.order_item_id = i.id "
        "WHERE o.status = 'completed' AND i.renews_subscription_id IS NULL GROUP BY i.id",
    )
    for item_id, n in items:
        if n != 1:
            r.lost += n == 0
            r.duplicated += max(n - 1, 0)
            r.note(f"order item {item_id}: {n} subscriptions")
    subs = await rows(db, "SELECT id::text, status FROM subscriptions")
    live = sum(1 for _sid, status in subs if status in LIVE)
    counted = await temporal.count_workflows(
        'WorkflowType = "SubscriptionWorkflow" AND ExecutionStatus = "Running"'
    )
    if counted.count != live:
        r.note(f"{counted.count} lifecycles running for {live} live subscriptions")
    for sid, status in subs:
        r.checked += 1
        # By its search attribute, as an operator finds it (every run: one per period). Plans in
        # grace still expire while the checks run: a status and a run that disagree are read
        # again (bounded) before they count.
        for _ in range(RE_READS):
            runs = await lifecycles(temporal, sid)
            running = [w for w in runs if w.status == WorkflowExecutionStatus.RUNNING]
            if (status in LIVE) == bool(running):
                break
            await asyncio.sleep(1)
            (status,) = (
                await rows(
                    db, "SELECT status FROM subscriptions WHERE id = %(s)s", s=uuid.UUID(sid)
                )
            )[0]
        if any(w.id != f"subscription:{sid}" for w in runs):
            r.duplicated += 1
            r.note(f"subscription {sid}: a lifecycle under another id")
        if len(running) > 1:
            r.duplicated += len(running) - 1
            r.note(f"subscription {sid}: {len(running)} lifecycles running")
        if status in LIVE and not running:
            r.lost += 1
            r.note(f"subscription {sid} is {status} but no lifecycle runs")
        if status not in LIVE and running:
            r.stuck += 1
            r.note(f"subscription {sid} is {status} but its lifecycle still runs")
    return r


async def lifecycles(temporal: Client, sid: str) -> list[Any]:
    query = f'SubscriptionId = "{sid}" AND WorkflowType = "SubscriptionWorkflow"'
    return [w async for w in temporal.list_workflows(query)]


async def visits(db: psycopg.AsyncConnection[Any], world: World) -> Result:
    """Every visit reserved once, then consumed or released once; `visits_used` as the ledger."""
    r = Result("visits reserved once, consumed or released once")
    found = await rows(
        db,
        "SELECT q.id::text, q.status, count(v.request_id), "
        " string_agg(v.status, ',') FROM service_requests q "
        "LEFT JOIN visit_reservations v ON v.request_id = q.id GROUP BY q.id, q.status",
    )
    wanted = {"completed": "consumed", "cancelled": "released"}
    for rid, status, n, states in found:
        r.checked += 1
        if n != 1:
            r.lost += n == 0
            r.duplicated += max(n - 1, 0)
            r.note(f"request {rid}: {n} reservations")
        elif status in wanted and states != wanted[status]:
            r.lost += 1
            r.note(f"request {rid} is {status}, its visit {states}")
        seen = world.requests.get(rid)
        if seen is not None and seen.final is not None and seen.final != status:
            r.lost += 1
            r.note(f"request {rid} was {seen.final} by the client but is {status}")
    ledger = await rows(
        db,
        "SELECT s.id::text, s.visits_used, (SELECT count(*) FROM visit_reservations v "
        " WHERE v.subscription_id = s.id AND v.period = s.period AND v.status <> 'released') "
        "FROM subscriptions s",
    )
    for sid, used, counted in ledger:
        if used != counted:
            r.lost += 1
            r.note(f"subscription {sid}: visits_used {used}, the ledger says {counted}")
    for winners in world.races:
        r.checked += 1
        # A short period may roll over between the asks: at most 2 winners in each period.
        periods = await rows(
            db,
            "SELECT period, count(*) FROM visit_reservations WHERE request_id = ANY(%(ids)s) "
            "GROUP BY period",
            ids=[uuid.UUID(w) for w in winners],
        )
        for period, n in periods:
            if n > 2:
                r.duplicated += n - 2
                r.note(f"a race for 2 visits had {n} winners in period {period}")
    return r


async def messages(db: psycopg.AsyncConnection[Any], world: World) -> Result:
    """One message per (kind, key, channel); no campaign recipient skipped or repeated."""
    r = Result("one message per kind, key and channel; campaigns whole")
    (r.checked,) = (await rows(db, "SELECT count(*) FROM notification_deliveries"))[0]
    dup = await rows(
        db,
        "SELECT m.kind, m.key, d.channel, count(*) FROM notification_messages m "
        "JOIN notification_deliveries d ON d.message_id = m.id "
        "GROUP BY m.kind, m.key, d.channel, d.destination HAVING count(*) > 1",
    )
    for kind, key, channel, n in dup:
        r.duplicated += n - 1
        r.note(f"{kind} {key} by {channel}: {n}")
    for campaign_id in world.campaigns:
        found = await rows(
            db,
            "SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1), count(*) "
            "FROM (SELECT rc.user_id, count(m.id) AS n FROM campaign_recipients rc "
            " LEFT JOIN notification_messages m ON m.user_id = rc.user_id "
            "  AND m.campaign_id = rc.campaign_id "
            " WHERE rc.campaign_id = %(c)s GROUP BY rc.user_id) AS per_person",
            c=uuid.UUID(campaign_id),
        )
        skipped, repeated, people = found[0]
        r.checked += people
        r.lost += skipped
        r.duplicated += repeated
        if skipped or repeated:
            r.note(f"campaign {campaign_id}: {skipped} skipped, {repeated} repeated of {people}")
    return r


COVERAGE = (
    ("orders", "SELECT status, count(*) FROM orders GROUP BY 1"),
    (
        "renewal charges",
        "SELECT status, count(*) FROM sandbox_payments WHERE charged_method_id IS NOT NULL "
        "GROUP BY 1",
    ),
    ("periods", "SELECT kind, count(*) FROM subscription_periods GROUP BY 1"),
    ("subscriptions", "SELECT status, count(*) FROM subscriptions GROUP BY 1"),
    (
        "subscription steps",
        "SELECT split_part(kind, ':', 1), count(*) FROM subscription_events GROUP BY 1",
    ),
    ("requests", "SELECT status, count(*) FROM service_requests GROUP BY 1"),
    (
        "campaign messages",
        "SELECT 'sent', count(*) FROM notification_messages WHERE campaign_id IS NOT NULL",
    ),
)


async def coverage(database_url: str) -> list[str]:
    """What the mix made happen, by kind: so a run that never reached a lifecycle shows it."""
    lines = []
    async with await psycopg.AsyncConnection.connect(plain_url(database_url)) as db:
        for name, sql in COVERAGE:
            found = sorted(await rows(db, sql))
            lines.append(f"{name}: " + ", ".join(f"{k} {n}" for k, n in found))
    return lines


async def run_all(database_url: str, temporal: Client, world: World) -> list[Result]:
    async with await psycopg.AsyncConnection.connect(plain_url(database_url)) as db:
        results = [
            await orders(db, world),
            await payments(db),
            await subscriptions(db, temporal),
            await receipts(db),
            await visits(db, world),
            await checks_workflows.timelines(db, temporal, world),
            await messages(db, world),
        ]
    results.append(await checks_workflows.workflows(temporal))
    return results
