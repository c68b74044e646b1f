"""Activities of campaigns: freeze the audience, send one batch, record a change of status.

Each is idempotent by the campaign's id: the audience is frozen once (a second call finds it);
a batch's messages are keyed `campaign:<id>:<user id>` (a retried or repeated batch finds them
and hands over only what is still to go); its progress is written from the figures the workflow
passes in, never added to; a campaign that ended keeps its final status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import utcnow
from domain.campaigns import audience as audiences
from domain.campaigns import service as campaigns
from domain.campaigns.contracts import (
    KIND,
    BatchInput,
    BatchResult,
    FreezeInput,
    Frozen,
    StatusChange,
    campaign_key,
)
from domain.notifications.delivery import DeliveryDeferred
from domain.notifications.kinds import kind
from domain.notifications.service import Notifier, Recipient

log = logging.getLogger(__name__)

# A batch heartbeats this often while it runs (the workflow's heartbeat timeout is longer), so a
# worker that dies mid-batch is noticed in seconds, not at the batch's start-to-close timeout.
HEARTBEAT_EVERY_S = 2.0


@contextlib.asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY_S)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class CampaignActivities:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], notifier: Notifier) -> None:
        self._sessions = sessions
        self._notifier = notifier

    @activity.defn(name="campaigns.freeze")
    async def freeze(self, inp: FreezeInput) -> Frozen:
        """Freeze the audience (once) and mark the campaign running: its size and when."""
        async with self._sessions() as db:
            campaign = await campaigns.freeze(db, campaign_id=inp.campaign_id, now=utcnow())
            await db.commit()
        assert campaign.total is not None
        assert campaign.started_at is not None
        return Frozen(total=campaign.total, started_at=campaign.started_at)

    @activity.defn(name="campaigns.send_batch")
    async def send_batch(self, inp: BatchInput) -> BatchResult:
        """The next people of the frozen audience after `inp.after`: each one's message written
        (once) and handed to the providers their choices allow; the progress recorded."""
        async with _heartbeating():
            async with self._sessions() as db:
                campaign = await campaigns.get(db, campaign_id=inp.campaign_id)
                # One more than the batch: whether any are left, without an empty last batch.
                found = await audiences.batch(
                    db, inp.campaign_id, after=inp.after, limit=inp.limit + 1
                )
            members = found[: inp.limit]
            people = [Recipient(m.user_id, m.name, m.email) for m in members if m.active]
            facts = {
                "campaign_id": str(campaign.id),
                "title": campaign.title,
                "body": campaign.body,
            }
            ids, written = await self._notifier.write(
                kind(KIND),
                people,
                key=campaign_key(campaign.id),
                facts=facts,
                campaign_id=campaign.id,
            )
            try:
                await self._notifier.deliver(ids, attempt=activity.info().attempt, written=written)
            except DeliveryDeferred as e:
                # A provider's passing failure (429, 5xx): this batch is tried again with the
                # workflow's backoff, which slows the campaign to what the provider takes.
                raise ApplicationError(str(e), type="DeliveryDeferred") from e
            skipped = len(members) - len(people)
            async with self._sessions() as db:
                await campaigns.record_progress(
                    db,
                    campaign_id=campaign.id,
                    sent=inp.sent_before + len(people),
                    skipped=inp.skipped_before + skipped,
                    batches=inp.number,
                )
                await db.commit()
        return BatchResult(
            last=members[-1].user_id if members else None,
            reached=len(people),
            skipped=skipped,
            written=written,
            done=len(found) <= inp.limit,
        )

    @activity.defn(name="campaigns.record_status")
    async def record_status(self, change: StatusChange) -> None:
        async with self._sessions() as db:
            await campaigns.record_status(
                db,
                campaign_id=change.campaign_id,
                status=change.status,
                now=utcnow(),
            )
            await db.commit()

    def activities(self) -> list[Callable[..., Any]]:
        return [self.freeze, self.send_batch, self.record_status]
