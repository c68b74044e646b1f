"""Sending: write each recipient's message once, then hand its deliveries to the providers.

Two steps, each safe to run again (an activity retry, a worker killed half-way):
1. `write` records one message per recipient under `<key>:<user id>` with one delivery per channel
   the recipient's choices allow (email to their address, push to each device, the inbox by a
   flag), all in one transaction; a key already written is left as it is.
2. `deliver` hands the deliveries still pending to their channel's provider, in batches, and
   records each answer. A passing failure stays `retrying` and raises `DeliveryDeferred`, so the
   activity is retried with backoff; at the last attempt it is recorded `failed`. Deliveries
   already sent are never handed over again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utcnow
from core.settings import Settings
from domain.accounts.models import User
from domain.notifications import devices, preferences, unsubscribe
from domain.notifications.contracts import Send, Sent, To
from domain.notifications.delivery import Courier
from domain.notifications.facts import LOADERS, Gone, links
from domain.notifications.kinds import Channel, Kind, Topic, kind
from domain.notifications.models import Delivery, Message
from domain.notifications.ports import Providers
from domain.notifications.render import render
from domain.technicians.models import Technician

log = logging.getLogger(__name__)

# Rows per statement when writing a batch (a campaign's); each message has about ten columns.
WRITE_CHUNK = 1000


@dataclass(frozen=True)
class Recipient:
    id: uuid.UUID
    name: str | None
    email: str | None


class Notifier:
    """The one way anything is sent. Built once per process with the settings' providers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._courier = Courier(sessions, providers, settings)

    # --- the entry points ---------------------------------------------------------------------

    async def send(self, request: Send, *, attempt: int = 1) -> Sent:
        """`request.kind` to everyone `request.to` names, its facts read from `request.refs`."""
        spec = kind(request.kind)
        if spec.topic == Topic.security:
            raise ValueError("codes go through send_code, to the address they verify")
        async with self._sessions() as db:
            people = await recipients(db, request.to)
            try:
                facts = await LOADERS[spec.family](
                    db, request.refs, request.to, self._settings.public_base_url
                )
            except Gone as gone:
                log.info("nothing to say about a %s that no longer exists (%s)", gone, request.key)
                return Sent(messages=0)
        ids, written = await self.write(spec, people, key=request.key, facts=facts)
        return await self.deliver(ids, attempt=attempt, written=written)

    async def send_code(
        self,
        *,
        kind_name: str,
        key: str,
        user_id: uuid.UUID,
        channel: Channel,
        destination: str,
        facts: dict[str, Any],
        attempt: int = 1,
    ) -> Sent:
        """A code, to the address being verified (which may not be the account's yet): no
        preferences, no inbox, no quiet hours. Called by the activity that derives the code, so
        the code never enters a workflow's history."""
        spec = kind(kind_name)
        assert spec.topic == Topic.security
        rendered = render(spec.name, facts, email=channel == Channel.email)
        message_id = uuid.uuid4()
        async with self._sessions() as db:
            inserted = await db.scalar(
                insert(Message)
                .values(
                    id=message_id,
                    key=key,
                    user_id=user_id,
                    kind=spec.name,
                    topic=spec.topic.value,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    data={},
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(Message.id)
            )
            if inserted is not None:
                await db.execute(
                    insert(Delivery).values(
                        id=uuid.uuid4(),
                        message_id=message_id,
                        channel=channel.value,
                        destination=destination,
                        provider=self._provider(channel).name,
                        status="pending",
                    )
                )
            else:
                message_id = (
                    await db.scalar(select(Message.id).where(Message.key == key))
                ) or message_id
            await db.commit()
        return await self.deliver([message_id], attempt=attempt, written=int(inserted is not None))

    # --- 1. writing ---------------------------------------------------------------------------

    async def write(
        self,
        spec: Kind,
        people: Sequence[Recipient],
        *,
        key: str,
        facts: dict[str, Any],
        campaign_id: uuid.UUID | None = None,
    ) -> tuple[list[uuid.UUID], int]:
        """Each recipient's message under `<key>:<user id>` (written now or found), and how many
        were written now."""
        if not people:
            return [], 0
        now = self._clock()
        keys = {p.id: f"{key}:{p.id}" for p in people}
        async with self._sessions() as db:
            found = dict(
                (
                    await db.execute(
                        select(Message.key, Message.id).where(Message.key.in_(keys.values()))
                    )
                ).all()
            )
            fresh = [p for p in people if keys[p.id] not in found]
            choices = await preferences.load(db, [p.id for p in fresh], self._settings)
            tokens = await devices.tokens_of(db, [p.id for p in fresh])
            messages: list[dict[str, Any]] = []
            deliveries: dict[uuid.UUID, list[dict[str, Any]]] = {}
            for person in fresh:
                row, outgoing = self._compose(
                    spec, person, choices[person.id], tokens.get(person.id, []), facts, now
                )
                messages.append({**row, "key": keys[person.id], "campaign_id": campaign_id})
                deliveries[row["id"]] = outgoing
            inserted: set[uuid.UUID] = set()
            # Parameter lists, not `.values(rows)`: SQLAlchemy compiles the statement once and
            # sends the rows in pages of multi-row INSERTs ("insertmanyvalues"); a VALUES list of
            # 1,000 rows was compiled anew each time (two thirds of a campaign batch's CPU).
            for start in range(0, len(messages), WRITE_CHUNK):
                chunk = messages[start : start + WRITE_CHUNK]
                result = await db.execute(
                    insert(Message)
                    .on_conflict_do_nothing(index_elements=["key"])
                    .returning(Message.id),
                    chunk,
                )
                inserted.update(result.scalars())
            outgoing_rows = [d for mid in inserted for d in deliveries[mid]]
            for start in range(0, len(outgoing_rows), WRITE_CHUNK):
                await db.execute(insert(Delivery), outgoing_rows[start : start + WRITE_CHUNK])
            if len(inserted) < len(messages):  # another attempt wrote some first
                found.update(
                    (
                        await db.execute(
                            select(Message.key, Message.id).where(Message.key.in_(keys.values()))
                        )
                    ).all()
                )
            await db.commit()
        ids = list(found.values()) + list(inserted)
        return ids, len(inserted)

    def _compose(
        self,
        spec: Kind,
        person: Recipient,
        choices: preferences.Choices,
        tokens: list[str],
        facts: dict[str, Any],
        now: datetime,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One recipient's message row and its deliveries."""
        message_id = uuid.uuid4()
        email = bool(person.email) and choices.wants(spec.topic, Channel.email)
        push = bool(tokens) and choices.wants(spec.topic, Channel.push)
        context: dict[str, Any] = {**facts, "tz": choices.time_zone, "name": person.name}
        context.setdefault("unsubscribe_url", None)
        context.setdefault("reason", None)
        if email and spec.topic == Topic.promotions:
            context["unsubscribe_url"] = unsubscribe.link(
                self._settings,
                message_id=message_id,
                user_id=person.id,
                topic=spec.topic,
                channel=Channel.email,
                now=now,
            )
            context["reason"] = "You get offers by email because you asked for them in the app."
        rendered = render(spec.name, context, email=email)
        row = {
            "id": message_id,
            "user_id": person.id,
            "kind": spec.name,
            "topic": spec.topic.value,
            "subject": rendered.subject[:300],
            "text": rendered.text,
            "html": rendered.html,
            "push_title": rendered.push_title[:300] if push else None,
            "push_body": rendered.push_body[:300] if push else None,
            "data": links(facts),
            "in_inbox": choices.wants(spec.topic, Channel.in_app),
        }
        out: list[dict[str, Any]] = []
        if email:
            assert person.email is not None
            out.append(self._delivery(message_id, Channel.email, person.email))
        if push:
            quiet = choices.quiet_now(now)
            reason = f"quiet hours {choices.quiet} ({choices.time_zone.key})" if quiet else None
            for token in tokens:
                out.append(
                    self._delivery(
                        message_id,
                        Channel.push,
                        token,
                        status="suppressed" if quiet else "pending",
                        reason=reason,
                    )
                )
        return row, out

    def _delivery(
        self,
        message_id: uuid.UUID,
        channel: Channel,
        destination: str,
        *,
        status: str = "pending",
        reason: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "message_id": message_id,
            "channel": channel.value,
            "destination": destination,
            "provider": self._provider(channel).name,
            "status": status,
            "reason": reason,
        }

    # --- 2. delivering (delivery.py) ----------------------------------------------------------

    async def deliver(
        self, message_ids: Sequence[uuid.UUID], *, attempt: int = 1, written: int = 0
    ) -> Sent:
        """Hand over what is still to go of these messages; DeliveryDeferred if some is to be
        tried again."""
        return await self._courier.deliver(message_ids, attempt=attempt, written=written)

    def _provider(self, channel: Channel) -> Any:
        return self._courier.provider(channel)


async def recipients(db: AsyncSession, to: To) -> list[Recipient]:
    """The active users `to` names."""
    query = select(User.id, User.name, User.email).where(User.is_active)
    if to.user_id is not None:
        query = query.where(User.id == to.user_id)
    elif to.technician_id is not None:
        query = query.join(Technician, Technician.user_id == User.id).where(
            Technician.id == to.technician_id
        )
    else:
        query = query.where(User.role == to.role).order_by(User.id)
    return [Recipient(*row) for row in await db.execute(query)]
