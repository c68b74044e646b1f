"""The payment provider interface. Settings choose the implementation (sandbox, Stripe, Razorpay);
the checkout workflow's activities are the only callers.

Rules every implementation keeps:
- Each call that creates or changes something at the provider carries the idempotency key it is
  given (Stripe `Idempotency-Key`; Razorpay: the order `receipt`, looked up before creating), so an
  activity retried after a lost reply never creates a second payment or refund.
- Nothing here trusts a webhook's content: `parse_webhook` only verifies the signature and says
  which payment the event is about; the caller then asks the provider with `fetch_payment`.
- Card data never passes through: sessions are completed by the provider's own UI/SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

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


class InvalidSignature(Exception):
    """A webhook or client confirmation whose signature does not verify: reject, change nothing."""


class ProviderDeclined(Exception):
    """The provider refused a request for a business reason (not worth retrying)."""


class PaymentProvider(Protocol):
    name: ProviderName

    async def create_session(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> PaymentSession:
        """Create (or, with the same key, find again) the payment session for an order."""
        ...

    async def ensure_customer(
        self, user_id: str, email: str | None, *, idempotency_key: str
    ) -> str | None:
        """The provider's customer for this user (saved methods and renewals hang on it), created
        once per key; None where the provider keeps no customers (the sandbox)."""
        ...

    async def fetch_payment(self, provider_ref: str) -> PaymentStatus:
        """Ask the provider for the current state of a session."""
        ...

    async def cancel_session(self, provider_ref: str, *, idempotency_key: str) -> PaymentStatus:
        """Stop a session from being paid (expiry). Returns the state after cancelling, which is
        `succeeded` if the customer paid just before: the caller must then treat it as paid."""
        ...

    async def refund(
        self,
        payment_id: str,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> RefundResult:
        """Refund part or all of a captured payment, once per key."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify the signature (InvalidSignature if bad or stale) and parse the event."""
        ...

    def verify_client_confirmation(self, provider_ref: str, payload: Mapping[str, Any]) -> str:
        """Check what the app sent back after paying (Razorpay's signed handler response) and
        return the provider payment id; InvalidSignature if it does not verify."""
        ...
