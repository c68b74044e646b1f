"""What each user chose: per topic and channel, and quiet hours for push in their time zone.

Only changes from the defaults (`kinds.TOPICS`) are stored. Transactional topics always reach the
inbox, so a user can quieten them but never lose one; promotions go by email or push only to those
who opted in. Codes (the security topic) are never subject to preferences.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidField
from core.settings import Settings
from domain.notifications.kinds import CHOOSABLE, TOPICS, Channel, Topic
from domain.notifications.models import Preference, Quiet


@dataclass(frozen=True)
class QuietHours:
    starts: time
    ends: time

    def covers(self, at: time) -> bool:
        if self.starts <= self.ends:
            return self.starts <= at < self.ends
        return at >= self.starts or at < self.ends  # across midnight

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}"


def parse_quiet_hours(value: str) -> QuietHours | None:
    if not value:
        return None
    starts, ends = value.split("-")
    return QuietHours(time.fromisoformat(starts), time.fromisoformat(ends))


@dataclass(frozen=True)
class Choices:
    """One user's effective choices."""

    time_zone: ZoneInfo
    quiet: QuietHours | None
    changed: dict[tuple[Topic, Channel], bool] = field(default_factory=dict)

    def wants(self, topic: Topic, channel: Channel) -> bool:
        rules = TOPICS[topic]
        if channel == Channel.in_app and rules.transactional:
            return True
        return self.changed.get((topic, channel), rules.defaults[channel])

    def quiet_now(self, now: datetime) -> bool:
        return self.quiet is not None and self.quiet.covers(now.astimezone(self.time_zone).time())


def defaults(settings: Settings) -> Choices:
    return Choices(
        time_zone=ZoneInfo(settings.default_time_zone),
        quiet=parse_quiet_hours(settings.default_quiet_hours),
    )


async def load(
    db: AsyncSession, user_ids: Iterable[uuid.UUID], settings: Settings
) -> dict[uuid.UUID, Choices]:
    """The choices of each of these users, in two queries."""
    ids = list(set(user_ids))
    base = defaults(settings)
    changed: dict[uuid.UUID, dict[tuple[Topic, Channel], bool]] = {i: {} for i in ids}
    rows = await db.execute(
        select(Preference.user_id, Preference.topic, Preference.channel, Preference.enabled).where(
            Preference.user_id.in_(ids)
        )
    )
    for user_id, topic, channel, enabled in rows:
        if topic in Topic.__members__ and channel in Channel.__members__:
            changed[user_id][(Topic(topic), Channel(channel))] = enabled
    quiet = {
        q.user_id: q
        for q in (await db.execute(select(Quiet).where(Quiet.user_id.in_(ids)))).scalars()
    }
    out = {}
    for user_id in ids:
        q = quiet.get(user_id)
        out[user_id] = Choices(
            time_zone=ZoneInfo(q.time_zone) if q else base.time_zone,
            quiet=(QuietHours(q.starts, q.ends) if q.starts and q.ends else None)
            if q
            else base.quiet,
            changed=changed[user_id],
        )
    return out


async def update(
    db: AsyncSession,
    user_id: uuid.UUID,
    settings: Settings,
    *,
    channels: dict[Topic, dict[Channel, bool]] | None = None,
    time_zone: str | None = None,
    quiet: QuietHours | bool | None = False,  # False: unchanged; None: no quiet hours
) -> Choices:
    """Change some choices; Invalid for turning a transactional topic's inbox off, an unknown
    topic or time zone."""
    for topic, wanted in (channels or {}).items():
        rules = TOPICS.get(topic)
        if rules is None:
            raise InvalidField(
                ("topics", topic),
                "has no choices: codes always go to the address they verify",
            )
        for channel, enabled in wanted.items():
            if channel not in CHOOSABLE:
                raise InvalidField(("topics", topic, channel), "is not a channel you choose")
            if channel == Channel.in_app and rules.transactional and not enabled:
                raise InvalidField(
                    ("topics", topic, channel),
                    f"{rules.label} always reach your inbox in the app; turn off email or push "
                    "instead",
                )
            await db.execute(
                insert(Preference)
                .values(user_id=user_id, topic=topic.value, channel=channel.value, enabled=enabled)
                .on_conflict_do_update(
                    index_elements=["user_id", "topic", "channel"], set_={"enabled": enabled}
                )
            )
    if time_zone is not None or quiet is not False:
        current = (await load(db, [user_id], settings))[user_id]
        zone = current.time_zone.key
        if time_zone is not None:
            try:
                zone = ZoneInfo(time_zone).key
            except (ValueError, KeyError) as e:  # ZoneInfoNotFoundError is a KeyError
                raise InvalidField(
                    ("time_zone",), f"{time_zone!r} is not a time zone (e.g. Asia/Kolkata)"
                ) from e
        hours = current.quiet if quiet is False else quiet
        assert hours is None or isinstance(hours, QuietHours)
        values = {
            "time_zone": zone,
            "starts": hours.starts if hours else None,
            "ends": hours.ends if hours else None,
        }
        await db.execute(
            insert(Quiet)
            .values(user_id=user_id, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )
    return (await load(db, [user_id], settings))[user_id]
