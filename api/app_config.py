"""What the customer app needs to know of this server before anyone signs in: the business's
time zone and currency, which payment provider takes the money (and its public key), whether
Google sign-in and web push are on (Firebase's public web config), and the sources its pages
may load from for those providers (its Content-Security-Policy). Public values only: no secret
is ever part of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from core.settings import Settings


class PaymentsConfig(BaseModel):
    provider: Literal["sandbox", "stripe", "razorpay"]
    stripe_publishable_key: str | None = Field(
        default=None, description="For Stripe's Payment Element (provider stripe)"
    )
    razorpay_key_id: str | None = Field(
        default=None, description="For Razorpay Checkout (provider razorpay)"
    )


class FirebaseWebConfig(BaseModel):
    """Firebase's web app config (public), for Google sign-in and web push."""

    api_key: str
    auth_domain: str
    project_id: str
    app_id: str
    messaging_sender_id: str | None
    vapid_key: str | None = Field(description="Web push certificate; null: no web push")


class AppConfig(BaseModel):
    time_zone: str = Field(description="The business's time zone (times are shown in it)")
    currency: str
    payments: PaymentsConfig
    firebase: FirebaseWebConfig | None = Field(
        description="Null: no Google sign-in and no web push on this server"
    )


def app_config(settings: Settings) -> AppConfig:
    firebase = None
    if (
        settings.firebase_project_id
        and settings.firebase_web_api_key
        and settings.firebase_web_app_id
    ):
        firebase = FirebaseWebConfig(
            api_key=settings.firebase_web_api_key,
            auth_domain=f"{settings.firebase_project_id}.firebaseapp.com",
            project_id=settings.firebase_project_id,
            app_id=settings.firebase_web_app_id,
            messaging_sender_id=settings.firebase_web_messaging_sender_id,
            vapid_key=settings.fcm_vapid_public_key,
        )
    return AppConfig(
        time_zone=settings.default_time_zone,
        currency=settings.reports_currency,
        payments=PaymentsConfig(
            provider=settings.payments_provider,
            stripe_publishable_key=settings.stripe_publishable_key
            if settings.payments_provider == "stripe"
            else None,
            razorpay_key_id=settings.razorpay_key_id
            if settings.payments_provider == "razorpay"
            else None,
        ),
        firebase=firebase,
    )


def app_policy(settings: Settings) -> Mapping[str, Sequence[str]]:
    """The sources the app's pages may use beyond this origin, for the providers configured
    (each provider's documented hosts for its web SDK)."""
    extra: dict[str, list[str]] = {}

    def allow(directive: str, *sources: str) -> None:
        extra.setdefault(directive, []).extend(sources)

    if settings.payments_provider == "stripe":
        allow("script-src", "https://js.stripe.com")
        allow("frame-src", "https://js.stripe.com", "https://hooks.stripe.com")
        allow("connect-src", "https://api.stripe.com")
    elif settings.payments_provider == "razorpay":
        allow("script-src", "https://checkout.razorpay.com")
        allow("frame-src", "https://api.razorpay.com", "https://checkout.razorpay.com")
        allow("connect-src", "https://lumberjack.razorpay.com")
    config = app_config(settings).firebase
    if config is not None:
        allow("script-src", "https://apis.google.com")
        allow("frame-src", f"https://{config.auth_domain}", "https://accounts.google.com")
        allow(
            "connect-src",
            "https://identitytoolkit.googleapis.com",
            "https://securetoken.googleapis.com",
            "https://firebaseinstallations.googleapis.com",
            "https://fcmregistrations.googleapis.com",
        )
    return extra
