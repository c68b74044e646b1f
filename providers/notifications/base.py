"""The notification provider interface. Settings choose the implementation; nothing else changes."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class OutgoingMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    channel: str  # email, sms, push, in_app
    destination: str
    subject: str
    body: str
    data: dict[str, Any] = Field(default_factory=dict)


class NotificationProvider(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver the message; return the provider's message id, if it has one."""
        ...
