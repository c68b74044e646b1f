"""Payment providers: the sandbox (embedded default); Stripe and Razorpay switch on by settings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from domain.payments import (
    InvalidSignature,
    PaymentRequest,
    PaymentSession,
    PaymentState,
    PaymentStatus,
    ProviderDeclined,
    RefundResult,
    SavedMethod,
    WebhookEvent,
)
from providers.payments.base import PaymentProvider


def payment_provider(
    settings: Settings, *, sessions: async_sessionmaker[AsyncSession] | None = None
) -> PaymentProvider:
    """The provider the settings name. `sessions` is needed by the sandbox only (its sessions are
    rows in our database); the SDKs of the real providers are imported only when chosen."""
    if settings.payments_provider == "sandbox":
        if sessions is None:
            raise ValueError("the sandbox payment provider needs database sessions")
        from providers.payments.sandbox import SandboxProvider

        return SandboxProvider(sessions, public_base_url=settings.public_base_url)
    if settings.payments_provider == "stripe":
        from providers.payments.stripe import StripeProvider

        return StripeProvider.from_settings(settings)
    if settings.payments_provider == "razorpay":
        from providers.payments.razorpay import RazorpayProvider

        return RazorpayProvider.from_settings(settings)
    raise ValueError(f"unknown payments provider {settings.payments_provider!r}")


__all__ = [
    "InvalidSignature",
    "PaymentProvider",
    "PaymentRequest",
    "PaymentSession",
    "PaymentState",
    "PaymentStatus",
    "ProviderDeclined",
    "RefundResult",
    "SavedMethod",
    "WebhookEvent",
    "payment_provider",
]
