"""Stripe: a PaymentIntent per checkout, paid with the Payment Sheet / Elements (cards, wallets).

Calls use the SDK's own async methods (`*_async`, httpx underneath) rather than `asyncio.to_thread`
around the sync ones: no worker thread is held per call, and a cancelled activity cancels its
request. The SDK's own network retries stay off (its default for a `StripeClient`): the activity's
retry policy retries, visibly in the workflow history, with the same Idempotency-Key.

Stripe keeps an idempotent result for 24 hours; a checkout lasts at most 24 hours
(`checkout_timeout_seconds`), so a retry inside a checkout always finds the first result.

Renewals charge the saved card off-session: a PaymentIntent created with `off_session` and
`confirm`, so Stripe decides it in the same request. A decline, or a bank asking for 3-D Secure
(`authentication_required`), comes back as a 402 card error carrying the PaymentIntent; that is an
answer (`failed`, with what the customer reads), not an exception. Stripe stores that 402 under the
Idempotency-Key too, so a retried activity gets the same answer and the card is never charged twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import stripe

from domain.payments import (
    AUTHENTICATION_REQUIRED_REASON,
    InvalidSignature,
    PaymentRequest,
    PaymentSession,
    PaymentState,
    PaymentStatus,
    ProviderDeclined,
    ProviderName,
    RecurringCharge,
    RefundResult,
    SavedMethod,
    WebhookEvent,
)

if TYPE_CHECKING:
    from stripe.params import (
        CustomerCreateParams,
        PaymentIntentCreateParams,
        RefundCreateParams,
    )

    from core.settings import Settings

RENEWAL = "renewal"  # the `kind` in the metadata of the PaymentIntents renewals make
# Stripe's own default: a signed webhook older than this is refused (replay protection).
WEBHOOK_TOLERANCE_SECONDS = 300

# Errors that are Stripe saying "no" to this request: retrying the same request cannot help.
_DECLINES = (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError)

_REFUND_STATES: dict[str, Literal["pending", "succeeded", "failed"]] = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}


def _message(exc: stripe.StripeError) -> str:
    return exc.user_message or exc.__class__.__name__


def _failure_reason(error: Mapping[str, Any]) -> str:
    """What the customer reads about a failed attempt (a card error, or `last_payment_error`)."""
    if "authentication_required" in (error.get("code"), error.get("decline_code")):
        # Stripe's own message ("This transaction requires authentication.") does not say what to
        # do: off-session nobody can authenticate, so the customer has to renew in the app.
        return AUTHENTICATION_REQUIRED_REASON
    reason = error.get("message") or error.get("decline_code") or error.get("code")
    return str(reason or "The payment was declined")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (a plain dict is not case-insensitive)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


class StripeProvider:
    name: ProviderName = "stripe"

    def __init__(
        self, *, secret_key: str, webhook_secret: str, api_base: str | None = None
    ) -> None:
        self._client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base} if api_base else None
        )
        self._webhook_secret = webhook_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeProvider:
        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            raise ValueError(
                "PAYMENTS_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"
            )
        return cls(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_base=settings.stripe_api_base,
        )

    # --- sessions ---------------------------------------------------------------------------

    async def create_session(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> PaymentSession:
        params: PaymentIntentCreateParams = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            # Cards and the wallets enabled in the dashboard (Apple Pay, Google Pay, ...).
            "automatic_payment_methods": {"enabled": True},
            "description": request.description,
            "metadata": {"order_id": request.reference},
        }
        if request.customer_email:
            params["receipt_email"] = request.customer_email
        if request.provider_customer_id:
            params["customer"] = request.provider_customer_id
            if request.save_method:
                # Keep the method on the customer for renewals charged without them present.
                params["setup_future_usage"] = "off_session"
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except _DECLINES as exc:
            raise ProviderDeclined(_message(exc)) from exc
        data = intent.to_dict()
        return PaymentSession(
            provider=self.name,
            provider_ref=data["id"],
            amount_minor=data["amount"],
            currency=str(data["currency"]).upper(),
            client_secret=data.get("client_secret"),
        )

    async def fetch_payment(self, provider_ref: str) -> PaymentStatus:
        try:
            intent = await self._client.v1.payment_intents.retrieve_async(
                provider_ref, params={"expand": ["payment_method"]}
            )
        except _DECLINES as exc:
            raise ProviderDeclined(_message(exc)) from exc
        return intent_status(intent.to_dict())

    async def cancel_session(self, provider_ref: str, *, idempotency_key: str) -> PaymentStatus:
        try:
            intent = await self._client.v1.payment_intents.cancel_async(
                provider_ref,
                params={"cancellation_reason": "abandoned"},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise ProviderDeclined(_message(exc)) from exc
            # Succeeded (paid just before), processing, or already cancelled: say which.
            return await self.fetch_payment(provider_ref)
        return intent_status(intent.to_dict())

    # --- refunds and customers --------------------------------------------------------------

    async def charge_saved_method(
        self, charge: RecurringCharge, *, idempotency_key: str
    ) -> PaymentStatus:
        """An off-session PaymentIntent, confirmed at once (see the module's note): `succeeded`,
        `processing` (a method that settles later), or `failed` with the reason; `provider_ref` is
        the PaymentIntent in each case."""
        if not charge.provider_customer_id:
            # A card saved for off-session use hangs on a customer; Stripe refuses it without one.
            raise ProviderDeclined("a saved Stripe card is charged with its customer; none given")
        params: PaymentIntentCreateParams = {
            "amount": charge.amount_minor,
            "currency": charge.currency.lower(),
            "customer": charge.provider_customer_id,
            "payment_method": charge.provider_method_id,
            "off_session": True,
            "confirm": True,
            "description": charge.description,
            "metadata": {"order_id": charge.reference, "kind": RENEWAL},
            # For the method's kind in the answer, as fetch_payment reports it.
            "expand": ["payment_method"],
        }
        if charge.customer_email:
            params["receipt_email"] = charge.customer_email
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            return _card_error_status(exc)
        except _DECLINES as exc:  # no such method or customer, a key reused for another charge
            raise ProviderDeclined(_message(exc)) from exc
        return intent_status(intent.to_dict())

    async def refund(
        self,
        payment_id: str,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> RefundResult:
        params: RefundCreateParams = {"amount": amount_minor}
        # `payment_id` is what fetch_payment reported: the charge, or the PaymentIntent.
        if payment_id.startswith(("ch_", "py_")):
            params["charge"] = payment_id
        else:
            params["payment_intent"] = payment_id
        if reason:
            params["metadata"] = {"reason": reason[:500]}
        try:
            refund = await self._client.v1.refunds.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except _DECLINES as exc:
            raise ProviderDeclined(_message(exc)) from exc
        data = refund.to_dict()
        return RefundResult(
            provider_refund_id=data["id"],
            amount_minor=data["amount"],
            status=_REFUND_STATES.get(str(data.get("status")), "pending"),
        )

    async def ensure_customer(
        self, user_id: str, email: str | None, *, idempotency_key: str
    ) -> str:
        """Create the Stripe customer that saved methods and renewals hang on; the same key gives
        the same customer (within Stripe's 24 h idempotency window: store the id on the user)."""
        params: CustomerCreateParams = {"metadata": {"user_id": user_id}}
        if email:
            params["email"] = email
        try:
            customer = await self._client.v1.customers.create_async(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        except _DECLINES as exc:
            raise ProviderDeclined(_message(exc)) from exc
        return str(customer.to_dict()["id"])

    # --- what the outside sends back --------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        try:
            event = self._client.construct_event(
                body,
                header(headers, "Stripe-Signature"),
                self._webhook_secret,
                tolerance=WEBHOOK_TOLERANCE_SECONDS,
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            # ValueError: a body that is not UTF-8 JSON, or not a snapshot event.
            raise InvalidSignature("Stripe webhook signature does not verify") from exc
        data = event.to_dict()
        obj = (data.get("data") or {}).get("object") or {}
        provider_ref: str | None = None
        if obj.get("object") == "payment_intent":
            provider_ref = obj.get("id")
        elif isinstance(obj.get("payment_intent"), str):  # charges, refunds, disputes
            provider_ref = obj["payment_intent"]
        metadata = obj.get("metadata") or {}
        return WebhookEvent(
            provider=self.name,
            event_id=str(data["id"]),
            event_type=str(data.get("type")),
            provider_ref=provider_ref,
            reference=metadata.get("order_id"),
            received_at=datetime.now(UTC),
        )

    def verify_client_confirmation(self, provider_ref: str, payload: Mapping[str, Any]) -> str:
        """Stripe's client sends nothing signed: the PaymentIntent id is all there is, and the
        caller must ask `fetch_payment`. A payload naming another PaymentIntent is refused."""
        named = payload.get("payment_intent") or payload.get("payment_intent_id")
        if named is not None and named != provider_ref:
            raise InvalidSignature("the confirmation names another PaymentIntent")
        return provider_ref


def intent_status(intent: Mapping[str, Any]) -> PaymentStatus:
    """Our view of a PaymentIntent (as a plain dict, `payment_method` expanded or an id)."""
    status = intent.get("status")
    error = intent.get("last_payment_error") or None
    payment_id: str | None = None
    failure: str | None = None
    method: str | None = None
    saved: SavedMethod | None = None
    pm = intent.get("payment_method")
    pm = pm if isinstance(pm, Mapping) else None
    if status == "succeeded":
        state = PaymentState.succeeded
        charge = intent.get("latest_charge")
        if isinstance(charge, Mapping):
            charge = charge.get("id")
        payment_id = charge or intent["id"]
        if pm is not None:
            method = _method_kind(pm)
            saved = _saved_method(intent, pm)
    elif status == "processing" or status == "requires_capture":
        state = PaymentState.processing
    elif status == "canceled":
        state = PaymentState.cancelled
    elif status == "requires_payment_method" and error:
        state = PaymentState.failed
        failure = _failure_reason(error)
    elif status == "requires_action" and (intent.get("metadata") or {}).get("kind") == RENEWAL:
        # A renewal's bank wants the customer, who is not there: nobody will ever act on it.
        state = PaymentState.failed
        failure = AUTHENTICATION_REQUIRED_REASON
    else:  # requires_payment_method (no attempt yet), requires_confirmation, requires_action
        state = PaymentState.pending
    return PaymentStatus(
        provider_ref=intent["id"],
        state=state,
        amount_minor=intent["amount"],
        currency=str(intent["currency"]).upper(),
        payment_id=payment_id,
        method=method,
        failure_reason=failure,
        saved_method=saved,
    )


def _card_error_status(exc: stripe.CardError) -> PaymentStatus:
    """A 402 to an off-session charge: the attempt failed, on the PaymentIntent the error holds."""
    body = exc.json_body if isinstance(exc.json_body, Mapping) else {}
    error = body.get("error")
    error = error if isinstance(error, Mapping) else {}
    intent = error.get("payment_intent")
    if not isinstance(intent, Mapping) or not intent.get("id"):
        # Without the PaymentIntent there is no payment to point the order at.
        raise ProviderDeclined(_message(exc)) from exc
    return PaymentStatus(
        provider_ref=intent["id"],
        state=PaymentState.failed,
        amount_minor=intent["amount"],
        currency=str(intent["currency"]).upper(),
        failure_reason=_failure_reason(error),
    )


def _method_kind(pm: Mapping[str, Any]) -> str:
    kind = str(pm.get("type") or "card")
    if kind == "card" and (pm.get("card") or {}).get("wallet"):
        return "wallet"  # Apple Pay, Google Pay: a card underneath
    return kind


def _saved_method(intent: Mapping[str, Any], pm: Mapping[str, Any]) -> SavedMethod | None:
    if not intent.get("setup_future_usage") or pm.get("type") != "card":
        return None
    customer = intent.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    card = pm.get("card") or {}
    return SavedMethod(
        provider_customer_id=customer,
        provider_method_id=pm["id"],
        kind="wallet" if card.get("wallet") else "card",
        brand=card.get("brand"),
        last4=card.get("last4"),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )
