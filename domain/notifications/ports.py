"""What the notifications domain needs from a provider: deliver messages the domain has already
written and chosen. The providers (`providers/notifications/`: the outbox, SendGrid, FCM) implement
these interfaces; the domain talks to them in these terms and never imports a provider.

The notifications domain (`domain.notifications`) owns the words, the channels and the record of
every delivery; a provider only hands a batch of one channel's messages to its service and says,
per message, how it went. Settings choose the provider of each channel (the composition roots
build them with `providers.notifications.notification_providers`); nothing else changes.

Outcomes are the provider's reading of its service's answer:
- `sent`: the service accepted it (SendGrid's 202, FCM's message name);
- `delivered`: nothing further will happen to it (the outbox: the row is the delivery);
- `retry`: a passing failure (429, 5xx, a timeout); the domain tries again later;
- `failed`: a permanent one (a bad address, a malformed message); never tried again;
- `unregistered` (push only): the device token is gone; the domain forgets it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Result(StrEnum):
    sent = "sent"
    delivered = "delivered"
    retry = "retry"
    failed = "failed"
    unregistered = "unregistered"


@dataclass(frozen=True)
class Outcome:
    result: Result
    provider_message_id: str | None = None
    reason: str | None = None  # why it did not go (retry, failed, unregistered); short, for ops

    @classmethod
    def sent(cls, message_id: str | None = None) -> Outcome:
        return cls(Result.sent, provider_message_id=message_id)

    @classmethod
    def retry(cls, reason: str) -> Outcome:
        return cls(Result.retry, reason=reason[:300])

    @classmethod
    def failed(cls, reason: str) -> Outcome:
        return cls(Result.failed, reason=reason[:300])


@dataclass(frozen=True)
class Email:
    delivery_id: str  # ours; sent along (SendGrid custom_args) so events can be matched back
    to: str
    subject: str
    text: str
    html: str
    topic: str  # the preference topic (SendGrid category)
    # Promotions carry a one-click unsubscribe link (RFC 8058 List-Unsubscribe header too).
    unsubscribe_url: str | None = None


@dataclass(frozen=True)
class Push:
    delivery_id: str
    token: str
    title: str
    body: str
    # Flat string pairs the app reads to open the right screen (FCM data must be strings).
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sms:
    delivery_id: str
    to: str  # E.164
    text: str


class EmailProvider(Protocol):
    name: str
    max_batch: int  # at most this many emails per call

    async def send(self, emails: Sequence[Email]) -> list[Outcome]:
        """One outcome per email, in order. Raises only for a bug; a service's failure is an
        outcome."""
        ...


class PushProvider(Protocol):
    name: str
    max_batch: int

    async def send(self, pushes: Sequence[Push]) -> list[Outcome]:
        """One outcome per push, in order."""
        ...


class SmsProvider(Protocol):
    name: str
    max_batch: int

    async def send(self, messages: Sequence[Sms]) -> list[Outcome]:
        """One outcome per message, in order."""
        ...


@dataclass(frozen=True)
class Providers:
    """The provider of each channel, as the settings chose them."""

    email: EmailProvider
    push: PushProvider
    sms: SmsProvider
