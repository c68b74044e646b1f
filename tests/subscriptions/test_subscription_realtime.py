"""A subscription's end on the normal dev server, in real time (no time skipping): a period that
ends in a few seconds, a reminder 2 s before the end and 2 s of grace. The timers are real ones,
so the path the time-skipping tests take on the skipping server is proven on the plain one too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from core.settings import Settings
from domain.subscriptions import service as subscriptions
from domain.subscriptions.contracts import Policy, SubscriptionStatus, subscription_workflow_id
from domain.subscriptions.models import Subscription, SubscriptionPeriod
from tests.support.subscription_helpers import buy_plan, handle, kinds, messages, running, timeline
from workflows.subscription import SubscriptionWorkflow

SECONDS = Policy(
    reminder_seconds=[2],
    grace_seconds=2,
    auto_renew_lead_seconds=3600,
    dunning_retry_seconds=[60],
    pre_debit_notice_seconds=60,
    refund_full_within_days=7,
    quote_ttl_seconds=900,
    provider="sandbox",
)


async def test_reminder_grace_and_expiry_in_real_seconds(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client, settings: Settings
) -> None:
    bought = await buy_plan(api, db)
    sid = bought.subscription_id
    year = await running(temporal, sid)
    await year.terminate(reason="replaced by a short period for this test")

    # The same subscription, its period now ending 4 s from now.
    ends = datetime.now(UTC) + timedelta(seconds=4)
    await db.execute(update(Subscription).where(Subscription.id == sid).values(ends_at=ends))
    await db.execute(
        update(SubscriptionPeriod)
        .where(SubscriptionPeriod.subscription_id == sid)
        .values(ends_at=ends)
    )
    await db.commit()
    inp = await subscriptions.workflow_input(db, subscription_id=sid, policy=SECONDS)
    await db.commit()
    await temporal.start_workflow(
        SubscriptionWorkflow.run,
        inp,
        id=subscription_workflow_id(sid),
        task_queue=settings.temporal_task_queue,
    )
    result = await handle(temporal, sid).result()
    assert result.status == SubscriptionStatus.expired

    events = await timeline(db, sid)
    assert kinds(events) == [
        "period:1:activated",
        "period:1:reminder:2s",
        "period:1:grace_started",
        "period:1:expired",
    ]
    at = {e.event_key.rsplit(":", 1)[-1]: e.at for e in events}
    # Real timers: each fell due at its time (not before), in order.
    assert at["2s"] >= ends - timedelta(seconds=2)
    assert at["grace_started"] >= ends
    assert at["expired"] >= ends + timedelta(seconds=2)
    sent = [m.idempotency_key.rsplit(":", 1)[-1] for m in await messages(db, sid)]
    assert sent == ["2s", "grace_started", "expired"]
    mine = (await api.get(f"/subscriptions/{sid}", headers=bought.buyer.headers)).json()
    assert mine["status"] == "expired"
