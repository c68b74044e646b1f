"""A promotion campaign fanned out to many customers through the outbox: messages per second,
the worker's and Temporal's memory during it, and the campaign's history length.

What runs, on a stack of its own (`bench.harness.running_stack` with no API): a throwaway
PostgreSQL, a Temporal dev server on a SQLite file (WAL, synchronous=off, as `make run` has it)
and the real worker (`python -m worker`, settings by environment: the campaign settings are the
defaults, CAMPAIGN_BATCH_SIZE 1000 at CAMPAIGN_RATE_PER_SECOND 2000, continuing as new every
CAMPAIGN_BATCHES_PER_RUN 50 batches, unless BENCH_CAMPAIGN_BATCH / BENCH_CAMPAIGN_RATE say).

1. Rows, not timed: BENCH_CAMPAIGN_CUSTOMERS (default 100,000) active customers with a verified
   email, every one opted in to offers by email (so each message also has an email delivery,
   handed to the outbox provider, which records and logs it: the heavier path), and one draft
   campaign to all customers, written with one INSERT ... SELECT each.
2. Timed: the campaign is started as the API starts it (`api.campaigns.start`: update-with-start,
   answered once the audience is frozen) and the driver waits until its workflow has completed.
   Figures: messages per second over the whole campaign (the start call to the workflow's
   result, the audience's freezing included) and over the fan-out alone (from the frozen answer
   on); RSS of the worker and of the Temporal server (psutil, each process with its children)
   sampled every second, peak and last; the CPU each process used.
3. Checked: one message per customer, one email delivery each, every one `delivered`, the
   campaign `completed` with sent = total; otherwise the figure is INVALID.
4. History: every run of the continue-as-new chain (`WorkflowId = 'campaign:<id>'`), the events
   of each summed, the longest run.

Target (from the issue): at least 1,000 messages per second. Printed as MET or MISSED, never a
test. The driver is a separate process (`python -m bench.bench_campaigns drive SPEC`) with the
stack's environment; it prints its figures as JSON and ends with `os._exit` (sdk-python#300).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    PYTHON,
    cpu_seconds,
    cpu_used,
    drive_main,
    exit_now,
    log,
    run_to_end,
    running_stack,
)

DEFAULT_CUSTOMERS = 100_000
TARGET_RATE = 1000.0
MB = 1024 * 1024


@dataclass(frozen=True)
class CampaignFigures:
    customers: int
    batch_size: int
    rate_per_second: float
    batches_per_run: int
    prep_seconds: float
    freeze_seconds: float  # the start call until the audience was frozen (its answer)
    total_seconds: float  # the start call until the workflow's result
    messages: int  # rows of the campaign in notification_messages
    users: int  # distinct users among them
    emails_delivered: int
    deliveries: int
    status: str
    sent: int
    batches: int
    runs: int
    history_events: int  # summed over the continue-as-new chain
    longest_run_events: int
    rss_peak: dict[str, int]
    rss_idle: dict[str, int]
    rss_last: dict[str, int]
    cpu: dict[str, float]

    @property
    def valid(self) -> bool:
        return (
            self.status == "completed"
            and self.messages == self.users == self.customers == self.sent
            and self.emails_delivered == self.deliveries == self.customers
        )

    def invalid_reason(self) -> str:
        return (
            f"status {self.status}, {self.messages:,} messages to {self.users:,} users, "
            f"{self.emails_delivered:,} of {self.deliveries:,} emails delivered, sent "
            f"{self.sent:,}, for {self.customers:,} customers"
        )

    @property
    def rate(self) -> float:
        return self.messages / self.total_seconds if self.total_seconds > 0 else 0.0

    @property
    def fanout_rate(self) -> float:
        span = self.total_seconds - self.freeze_seconds
        return self.messages / span if span > 0 else 0.0

    def met(self) -> bool | None:
        return None if not self.valid else self.rate >= TARGET_RATE


def _mb(value: int) -> str:
    return f"{value / MB:,.0f} MB"


def lines(f: CampaignFigures) -> list[str]:
    verdict = {None: "n/a (invalid figure)", True: "MET", False: "MISSED"}[f.met()]
    label = f"campaign to {f.customers:,} customers"
    if not f.valid:
        label += f": INVALID ({f.invalid_reason()})"
    span = f.total_seconds
    busy = ", ".join(
        f"{name} {used / span:.2f}"
        for name, used in sorted(f.cpu.items(), key=lambda item: -item[1])
        if name != "machine"
    )
    machine = f.cpu.get("machine")
    return [
        f"{label}: {f.rate:,.0f} messages/s ({f.messages:,} messages, one email each through "
        f"the outbox, in {f.total_seconds:.1f} s from the start call to the workflow's result; "
        f"the fan-out alone {f.fanout_rate:,.0f}/s after the audience froze in "
        f"{f.freeze_seconds:.1f} s) | batches of {f.batch_size:,} at most {f.rate_per_second:,.0f}"
        f"/s | target >= {TARGET_RATE:,.0f} messages/s: {verdict}",
        f"campaign memory: worker RSS peak {_mb(f.rss_peak['worker'])} (idle "
        f"{_mb(f.rss_idle['worker'])} before, {_mb(f.rss_last['worker'])} at the end), Temporal "
        f"RSS peak {_mb(f.rss_peak['Temporal'])} (idle {_mb(f.rss_idle['Temporal'])}, "
        f"{_mb(f.rss_last['Temporal'])} at the end), sampled every second",
        f"campaign history: {f.history_events:,} events over {f.runs} runs (continue-as-new "
        f"every {f.batches_per_run} batches; the longest run {f.longest_run_events:,} events), "
        f"{f.batches:,} batches",
        f"campaign CPU (cores busy over the run): {busy}"
        + (
            f"; machine {machine / span:.2f} of {os.cpu_count()} cores"
            if machine is not None
            else ""
        )
        + f" | rows prepared in {f.prep_seconds:.1f} s (not timed)",
    ]


# --- the parent side: run from `python -m bench` ----------------------------------------------


def run(work: Path, *, customers: int) -> CampaignFigures:
    work.mkdir()
    settings = {}
    for env, name in (
        ("BENCH_CAMPAIGN_BATCH", "CAMPAIGN_BATCH_SIZE"),
        ("BENCH_CAMPAIGN_RATE", "CAMPAIGN_RATE_PER_SECOND"),
    ):
        if os.environ.get(env):
            settings[name] = os.environ[env]
    with running_stack(
        work, temporal_db=work / "temporal.db", api=False, settings=settings
    ) as stack:
        log(f"campaigns driver: {customers:,} customers, one campaign to all (progress below)")
        output = run_to_end(
            [
                PYTHON,
                "-m",
                "bench.bench_campaigns",
                "drive",
                json.dumps({"pids": stack.pids, "customers": customers}),
            ],
            timeout_s=1800 + customers / 50,
            cwd=work / "cwd",
            env=stack.env,
            pass_stderr=True,
        )
    return CampaignFigures(**json.loads(output.strip().splitlines()[-1]))


# --- the driver process -----------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def _prepare(conninfo: str, customers: int) -> uuid.UUID:
    """The customers (verified, opted in to offers by email), an admin and a draft campaign."""
    import psycopg

    campaign_id = uuid.uuid4()
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        await conn.execute(
            "INSERT INTO users (id, name, email, email_verified_at, role) "
            "SELECT gen_random_uuid(), 'Customer ' || g, 'customer' || g || '@example.com', "
            "now(), 'customer' FROM generate_series(1, %s) AS g",
            (customers,),
        )
        await conn.execute(
            "INSERT INTO notification_preferences (user_id, topic, channel, enabled) "
            "SELECT id, 'promotions', 'email', true FROM users WHERE role = 'customer'"
        )
        admin = uuid.uuid4()
        await conn.execute(
            "INSERT INTO users (id, name, email, email_verified_at, role) "
            "VALUES (%s, 'Bench Admin', 'bench-admin@example.com', now(), 'admin')",
            (admin,),
        )
        await conn.execute(
            "INSERT INTO campaigns (id, title, body, audience, status, created_by) "
            "VALUES (%s, %s, %s, %s, 'draft', %s)",
            (
                campaign_id,
                "20% off every plan this week",
                "Buy or renew before Sunday and pay 20% less. Tap to see the plans.",
                json.dumps({"kind": "all"}),
                admin,
            ),
        )
        await conn.execute("ANALYZE users, notification_preferences")
        await conn.commit()
    return campaign_id


async def _count(conninfo: str, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        cur = await conn.execute(sql, params)
        row = await cur.fetchone()
        assert row is not None
        return tuple(row)


async def _drive(spec: dict[str, Any]) -> dict[str, Any]:
    from api import campaigns as lifecycle
    from bench.bench_subscriptions import Memory
    from core.settings import get_settings
    from core.temporal import connect
    from domain.campaigns.contracts import CampaignProgress, campaign_workflow_id
    from domain.workflow_labels import CampaignFacts

    settings = get_settings()
    customers: int = spec["customers"]
    conninfo = settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    client = await connect(settings)
    memory = Memory(spec["pids"])
    roots = {**spec["pids"], "load driver": os.getpid()}

    t0 = time.perf_counter()
    _say(f"creating {customers:,} customers and a draft campaign (not timed)")
    campaign_id = await _prepare(conninfo, customers)
    prep_seconds = time.perf_counter() - t0
    await asyncio.sleep(2.0)
    rss_idle = memory.now()

    stop = asyncio.Event()
    sampler = asyncio.create_task(memory.sample(stop))
    cpu0 = cpu_seconds(roots)
    _say("starting the campaign (update-with-start, answered once its audience is frozen)")
    began = time.perf_counter()
    frozen = await lifecycle.start(
        client, settings, campaign_id, CampaignFacts(name="bench campaign", audience="bench")
    )
    freeze_seconds = time.perf_counter() - began
    _say(f"audience of {frozen.total:,} frozen in {freeze_seconds:.1f} s; sending")
    handle = client.get_workflow_handle(
        campaign_workflow_id(campaign_id), result_type=CampaignProgress
    )

    async def report() -> None:
        while True:
            await asyncio.sleep(10.0)
            (sent,) = await _count(
                conninfo, "SELECT sent FROM campaigns WHERE id = %s", (campaign_id,)
            )
            elapsed = time.perf_counter() - began
            _say(f"sent {sent:,} of {customers:,} ({sent / elapsed:,.0f}/s so far)")

    reporter = asyncio.create_task(report())
    try:
        outcome = await handle.result()
    finally:
        reporter.cancel()
    total_seconds = time.perf_counter() - began
    cpu = cpu_used(cpu0, cpu_seconds(roots))
    rss_last = memory.now()
    stop.set()
    await sampler
    _say(f"completed in {total_seconds:.1f} s; checking the rows and reading the histories")

    messages, users = await _count(
        conninfo,
        "SELECT count(*), count(DISTINCT user_id) FROM notification_messages "
        "WHERE campaign_id = %s",
        (campaign_id,),
    )
    deliveries, delivered = await _count(
        conninfo,
        "SELECT count(*), count(*) FILTER (WHERE d.status = 'delivered' AND d.channel = 'email') "
        "FROM notification_deliveries d JOIN notification_messages m ON m.id = d.message_id "
        "WHERE m.campaign_id = %s",
        (campaign_id,),
    )
    workflow_id = campaign_workflow_id(campaign_id)
    lengths = []
    async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        history = await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        lengths.append(len(history.events))
    return asdict(
        CampaignFigures(
            customers=customers,
            batch_size=settings.campaign_batch_size,
            rate_per_second=settings.campaign_rate_per_second,
            batches_per_run=settings.campaign_batches_per_run,
            prep_seconds=prep_seconds,
            freeze_seconds=freeze_seconds,
            total_seconds=total_seconds,
            messages=int(messages),
            users=int(users),
            emails_delivered=int(delivered),
            deliveries=int(deliveries),
            status=outcome.status.value,
            sent=outcome.sent,
            batches=outcome.batches,
            runs=len(lengths),
            history_events=sum(lengths),
            longest_run_events=max(lengths, default=0),
            rss_peak=dict(memory.peak),
            rss_idle=rss_idle,
            rss_last=rss_last,
            cpu=cpu,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "drive":
        exit_now(drive_main(_drive, sys.argv[2]))
    sys.exit("usage: python -m bench.bench_campaigns drive SPEC_JSON")
