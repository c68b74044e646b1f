"""The payment provider interface. Settings choose the implementation (sandbox, Stripe, Razorpay);
the checkout and subscription activities are the only callers. The values it speaks in live in
`domain.payments`.

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
from typing import Any, Protocol

from domain.payments import (
    PaymentRequest,
    PaymentSession,
    PaymentStatus,
    ProviderName,
    RecurringCharge,
    RefundResult,
    WebhookEvent,
)


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

    async def charge_saved_method(
        self, charge: RecurringCharge, *, idempotency_key: str
    ) -> PaymentStatus:
        """Charge a saved method off-session (auto-renewal), once per key: the same key again
        answers with the first attempt's payment, never a second charge. The answer is the
        payment's state as the provider knows it then: `succeeded`; `failed` with the reason the
        customer will read (declined, or the bank wants the customer to authenticate: they must
        renew in the app); or `processing` when the provider settles later (Razorpay recurring
        debits), to be asked again with `fetch_payment(provider_ref)`."""
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
