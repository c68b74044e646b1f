"""Payments as the domain sees them: what to collect, the provider's session and its answers,
saved methods, refunds, verified webhooks, and the errors providers raise.

The providers (`providers/payments/`: sandbox, Stripe, Razorpay) implement the interface in
`providers.payments.base` in these terms, so the domain, the workflows and the API depend on
this module and never on a provider.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


ProviderName = Literal["sandbox", "stripe", "razorpay"]


class PaymentRequest(Frozen):
    """What to collect. `reference` is our order id; it is stored at the provider (metadata /
    receipt) so a webhook or a reconciler can find the order again."""

    reference: str
    amount_minor: int = Field(gt=0)
    currency: str  # ISO 4217, upper case
    description: str
    customer_email: str | None = None
    customer_phone: str | None = None
    # The provider's customer id for this user, when one exists (saved methods, renewals).
    provider_customer_id: str | None = None
    save_method: bool = True


class PaymentSession(Frozen):
    """What the app needs to let the customer pay, per provider."""

    provider: ProviderName
    provider_ref: str  # sandbox session id / Stripe PaymentIntent id / Razorpay order id
    amount_minor: int
    currency: str
    # Stripe: the PaymentIntent client secret for the Payment Sheet / Elements.
    client_secret: str | None = None
    # Razorpay Checkout: the public key id (the order id is provider_ref).
    key_id: str | None = None
    # Sandbox: the page where the test payment is approved or declined.
    approve_url: str | None = None


class PaymentState(StrEnum):
    pending = "pending"  # created, waiting for the customer
    processing = "processing"  # the customer acted; the provider has not settled yet
    succeeded = "succeeded"  # captured: the money is ours
    failed = "failed"  # declined; the customer may try again with a new session
    cancelled = "cancelled"  # we (or the provider) cancelled it; it can no longer be paid


class SavedMethod(Frozen):
    """A reusable payment method the provider keeps for renewals (tokens only)."""

    provider_customer_id: str | None
    provider_method_id: str
    kind: Literal["card", "upi", "wallet", "netbanking"]
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


class PaymentStatus(Frozen):
    """The provider's own answer about a payment session (never a webhook's say-so)."""

    provider_ref: str
    state: PaymentState
    amount_minor: int
    currency: str
    payment_id: str | None = None  # Stripe charge/PI id, Razorpay payment id
    method: str | None = None  # card, upi, wallet, netbanking
    failure_reason: str | None = None
    saved_method: SavedMethod | None = None


class RefundResult(Frozen):
    provider_refund_id: str
    amount_minor: int
    status: Literal["pending", "succeeded", "failed"]


class WebhookEvent(Frozen):
    """A verified webhook: who sent it, its id (for deduplication) and which payment it is about."""

    provider: ProviderName
    event_id: str
    event_type: str
    provider_ref: str | None  # the PaymentIntent / Razorpay order it concerns, if any
    reference: str | None  # our order id, when the event carries it
    received_at: datetime | None = None


class RecurringCharge(Frozen):
    """Charge a method the customer saved, without them present (an automatic renewal).
    `reference` is our order id (as in PaymentRequest): the provider keeps it so a webhook or a
    reconciler finds the order again."""

    reference: str
    amount_minor: int = Field(gt=0)
    currency: str  # ISO 4217, upper case
    description: str
    provider_method_id: str  # Stripe PaymentMethod, Razorpay token, sandbox method token
    provider_customer_id: str | None = None  # Stripe / Razorpay customer the method belongs to
    customer_email: str | None = None
    customer_phone: str | None = None


# What the customer reads when their bank will not let a renewal through without them (3-D Secure,
# a mandate to re-approve): nobody can answer the bank off-session, so they renew in the app.
AUTHENTICATION_REQUIRED_REASON = (
    "Your bank wants you to confirm this payment: renew your plan from the app to confirm it"
)


class InvalidSignature(Exception):
    """A webhook or client confirmation whose signature does not verify: reject, change nothing."""


class ProviderDeclined(Exception):
    """The provider refused a request for a business reason (not worth retrying)."""
