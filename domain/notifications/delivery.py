"""Delivering: hand a message's pending deliveries to their channel's provider and record each
answer (step 2 of sending; `service.py` writes the messages first).

Deliveries are locked while handed over (a second attempt running beside this one skips them),
by channel, in the provider's batch size. A passing failure stays `retrying` and raises
`DeliveryDeferred`, so the activity is retried with backoff; at the last attempt
(NOTIFY_MAX_ATTEMPTS) it is recorded `failed`. What went is never handed over again. A device
token the push service no longer knows is forgotten.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.metrics import NOTIFICATIONS, count
from core.settings import Settings
from domain.notifications import devices, unsubscribe
from domain.notifications.contracts import Sent
from domain.notifications.kinds import Channel, Topic
from domain.notifications.models import Delivery, Message
from domain.notifications.ports import Email, Outcome, Providers, Push, Result, Sms

OPEN = ("pending", "retrying")


class DeliveryDeferred(Exception):
    """Some deliveries met a passing failure and are to be tried again (the activity retries)."""


class Courier:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings,
    ) -> None:
        self._sessions = sessions
        self._providers = providers
        self._settings = settings

    async def deliver(
        self, message_ids: Sequence[uuid.UUID], *, attempt: int = 1, written: int = 0
    ) -> Sent:
        """Hand over what is still to go of these messages; DeliveryDeferred if some is to be
        tried again."""
        counts: Counter[str] = Counter()
        tally: Counter[tuple[str, str, str]] = Counter()  # (channel, topic, outcome)
        retrying: list[str] = []
        last = attempt >= self._settings.notify_max_attempts
        async with self._sessions() as db:
            # Locked while handed over: a second attempt running beside this one skips them.
            rows = (
                await db.execute(
                    select(Delivery, Message)
                    .join(Message, Message.id == Delivery.message_id)
                    .where(Delivery.message_id.in_(list(message_ids)), Delivery.status.in_(OPEN))
                    .order_by(Delivery.channel, Delivery.id)
                    .with_for_update(of=Delivery, skip_locked=True)
                )
            ).all()
            changes: list[dict[str, Any]] = []
            gone_tokens: list[str] = []
            for channel in (Channel.email, Channel.push, Channel.sms):
                batch = [(d, m) for d, m in rows if d.channel == channel.value]
                provider = self.provider(channel)
                for start in range(0, len(batch), provider.max_batch):
                    part = batch[start : start + provider.max_batch]
                    outcomes = await self._hand_over(channel, part)
                    for (delivery, message), outcome in zip(part, outcomes, strict=True):
                        change = self._record(delivery, outcome, provider.name, attempt, last)
                        changes.append(change)
                        counts[change["status"]] += 1
                        tally[channel.value, message.topic, change["status"]] += 1
                        if outcome.result == Result.unregistered:
                            gone_tokens.append(delivery.destination)
                        if change["status"] == "retrying":
                            retrying.append(f"{delivery.channel}: {outcome.reason}")
            if changes:
                await db.execute(update(Delivery), changes)
            await devices.forget(db, gone_tokens)
            await db.commit()
        for (channel_name, topic, outcome_name), n in tally.items():
            count(NOTIFICATIONS, n, channel=channel_name, topic=topic, outcome=outcome_name)
        if retrying:
            raise DeliveryDeferred(
                f"{len(retrying)} deliveries to try again (attempt {attempt}): {retrying[0]}"
            )
        return Sent(messages=written, deliveries=dict(counts))

    async def _hand_over(
        self, channel: Channel, part: Sequence[tuple[Delivery, Message]]
    ) -> list[Outcome]:
        if channel == Channel.email:
            return await self._providers.email.send(
                [
                    Email(
                        delivery_id=str(d.id),
                        to=d.destination,
                        subject=m.subject,
                        text=m.text,
                        html=m.html or m.text,
                        topic=m.topic,
                        unsubscribe_url=self._unsubscribe_url(m),
                    )
                    for d, m in part
                ]
            )
        if channel == Channel.push:
            return await self._providers.push.send(
                [
                    Push(
                        delivery_id=str(d.id),
                        token=d.destination,
                        title=m.push_title or m.subject,
                        body=m.push_body or m.text[:240],
                        data={**m.data, "kind": m.kind, "message_id": str(m.id)},
                    )
                    for d, m in part
                ]
            )
        return await self._providers.sms.send(
            [Sms(delivery_id=str(d.id), to=d.destination, text=m.text) for d, m in part]
        )

    @staticmethod
    def _record(
        delivery: Delivery, outcome: Outcome, provider: str, attempt: int, last: bool
    ) -> dict[str, Any]:
        attempts = delivery.attempts + 1
        change: dict[str, Any] = {"id": delivery.id, "attempts": attempts, "provider": provider}
        if outcome.result in (Result.sent, Result.delivered):
            change |= {
                "status": outcome.result.value,
                "provider_message_id": outcome.provider_message_id,
                "reason": None,
            }
        elif outcome.result == Result.retry and not last:
            change |= {"status": "retrying", "reason": outcome.reason}
        elif outcome.result == Result.retry:
            change |= {
                "status": "failed",
                "reason": f"gave up after {attempt} attempts: {outcome.reason}"[:300],
            }
        elif outcome.result == Result.unregistered:
            change |= {"status": "failed", "reason": "unregistered: the device token is gone"}
        else:
            change |= {"status": "failed", "reason": outcome.reason}
        return change

    def _unsubscribe_url(self, message: Message) -> str | None:
        """The link of a promotion's footer again, for the List-Unsubscribe header (the same
        message, so using either uses both)."""
        if message.topic != Topic.promotions.value or message.user_id is None:
            return None
        return unsubscribe.link(
            self._settings,
            message_id=message.id,
            user_id=message.user_id,
            topic=Topic.promotions,
            channel=Channel.email,
            now=message.created_at,
        )

    def provider(self, channel: Channel) -> Any:
        return {
            Channel.email: self._providers.email,
            Channel.push: self._providers.push,
            Channel.sms: self._providers.sms,
        }[channel]
