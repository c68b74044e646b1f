"""What the API says about a user's messages, devices and choices, and what it accepts."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from core.errors import FieldProblem
from domain.notifications.kinds import TOPICS, Topic
from domain.notifications.preferences import Choices
from domain.types import Flag


class InboxItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(description="e.g. request.assigned, subscription.reminder")
    topic: str
    subject: str
    text: str
    data: dict[str, Any] = Field(description="Ids of what it is about (request_id, order_id...)")
    created_at: datetime
    read_at: datetime | None


class Unread(BaseModel):
    unread: int


class Marked(BaseModel):
    marked: int = Field(description="Messages newly marked read")


class Platform(StrEnum):
    android = "android"
    ios = "ios"
    web = "web"


# FCM registration tokens are about 160 characters of [A-Za-z0-9_:-]; room to spare.
DeviceToken = Annotated[
    str, StringConstraints(min_length=8, max_length=512, pattern=r"^[A-Za-z0-9_:\-\.]+$")
]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: DeviceToken = Field(description="The FCM registration token of this app install")
    platform: Platform


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    token: str
    platform: Platform
    created_at: datetime
    last_seen_at: datetime


LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _local_time(value: Any) -> Any:
    """A local time is written HH:MM (or HH:MM:SS, with a fraction): without an offset, which
    the account's time zone gives."""
    if isinstance(value, str) and not re.fullmatch(LOCAL_TIME, value):
        raise ValueError("a local time, HH:MM, without an offset: the time zone says where")
    return value


# A wall-clock time in the account's time zone. Not JSON Schema's `format: time` (RFC 3339's
# full-time), which requires an offset: these have none, in and out.
LocalTime = Annotated[
    time,
    BeforeValidator(_local_time),
    WithJsonSchema({"type": "string", "pattern": LOCAL_TIME, "examples": ["22:00"]}),
]


class QuietHoursIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts: LocalTime = Field(description="Local time push stops, e.g. 22:00")
    ends: LocalTime = Field(
        description="Local time push resumes, e.g. 07:00 (the next day if earlier)"
    )

    @model_validator(mode="after")
    def _differ(self) -> QuietHoursIO:
        if self.starts == self.ends:
            raise FieldProblem("ends", "starts and ends must differ (send null for no quiet hours)")
        for name in ("starts", "ends"):
            if getattr(self, name).tzinfo is not None:
                raise FieldProblem(
                    name, "quiet hours are local times, without an offset: set time_zone"
                )
        return self


class TopicChoice(BaseModel):
    topic: Topic
    label: str
    transactional: bool = Field(description="Always reaches the inbox; email and push can be off")
    email: bool
    push: bool
    in_app: bool


class NotificationSettings(BaseModel):
    time_zone: str
    quiet_hours: QuietHoursIO | None = Field(description="No push between these local times")
    topics: list[TopicChoice]

    @classmethod
    def of(cls, choices: Choices) -> NotificationSettings:
        from domain.notifications.kinds import Channel

        return cls(
            time_zone=choices.time_zone.key,
            quiet_hours=QuietHoursIO(starts=choices.quiet.starts, ends=choices.quiet.ends)
            if choices.quiet
            else None,
            topics=[
                TopicChoice(
                    topic=topic,
                    label=rules.label,
                    transactional=rules.transactional,
                    email=choices.wants(topic, Channel.email),
                    push=choices.wants(topic, Channel.push),
                    in_app=choices.wants(topic, Channel.in_app),
                )
                for topic, rules in TOPICS.items()
            ],
        )


def _choosable_topics(schema: dict[str, Any]) -> None:
    """The document names the topics with choices (`security` has none: its codes always go to
    the address they verify), and says a transactional topic's inbox stays on."""
    choices = {"$ref": "#/components/schemas/ChannelChoices"}
    inbox_stays = {
        "allOf": [choices],
        "properties": {
            "in_app": {
                "anyOf": [{"const": True}, {"type": "null"}],
                "description": "Always on: these always reach the inbox",
            }
        },
    }
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "object":
            branch.pop("propertyNames", None)
            branch["properties"] = {
                topic.value: inbox_stays if rules.transactional else choices
                for topic, rules in TOPICS.items()
            }
            branch["additionalProperties"] = False


class ChannelChoices(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Flag | None = None
    push: Flag | None = None
    in_app: Flag | None = None


class NotificationSettingsPatch(BaseModel):
    """Only what is sent changes. `quiet_hours: null` turns quiet hours off."""

    model_config = ConfigDict(extra="forbid")

    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="IANA time zone, e.g. Asia/Kolkata"
    )
    quiet_hours: QuietHoursIO | None = None
    topics: dict[Topic, ChannelChoices] | None = Field(
        default=None,
        description='e.g. {"promotions": {"email": true}}',
        json_schema_extra=_choosable_topics,
    )


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    destination: str = Field(description="The address, phone, or the end of a device token")
    provider: str
    status: str = Field(description="pending, retrying, sent, delivered, failed or suppressed")
    reason: str | None
    attempts: int
    provider_message_id: str | None
    updated_at: datetime


class SentMessageOut(BaseModel):
    """A message as staff see it: what was said, where it went, and how each delivery went. The
    text of codes is withheld (a code is the customer's alone)."""

    id: uuid.UUID
    kind: str
    topic: str
    subject: str
    text: str | None
    in_inbox: bool
    read_at: datetime | None
    created_at: datetime
    deliveries: list[DeliveryOut]
