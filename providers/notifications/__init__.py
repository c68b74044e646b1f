"""Notification providers, one per channel: the outbox (embedded default); SendGrid (email) and
FCM (push) switch on by settings alone. They implement `domain.notifications.ports`."""

from __future__ import annotations

from core.settings import Settings
from domain.notifications.ports import EmailProvider, Providers, PushProvider
from providers.notifications.outbox import OutboxEmail, OutboxPush, OutboxSms


def notification_providers(settings: Settings) -> Providers:
    """The providers the settings name (imported only when chosen)."""
    email: EmailProvider = OutboxEmail()
    push: PushProvider = OutboxPush()
    if settings.email_provider == "sendgrid":
        from providers.notifications.sendgrid import SendGridEmail

        email = SendGridEmail(settings)
    if settings.push_provider == "fcm":
        from providers.notifications.fcm import FcmPush

        push = FcmPush(settings)
    return Providers(email=email, push=push, sms=OutboxSms())


__all__ = ["notification_providers"]
