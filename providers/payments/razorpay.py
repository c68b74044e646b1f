"""Razorpay: an Order per checkout, paid with Razorpay Checkout (cards, UPI, wallets, netbanking).

The SDK is synchronous (`requests`), so each call runs in a worker thread (`asyncio.to_thread`)
with its own `razorpay.Client` per thread (a `requests.Session` is not meant to be shared across
threads) and an explicit timeout (the SDK sets none).

Idempotency. Razorpay takes no idempotency header, so:
- an order carries `receipt` = our order id (searchable in the dashboard; a digest if it is over
  Razorpay's 40 characters) and `notes.idempotency_key` = the caller's key. `create_session` first
  lists the orders with that receipt (`GET /v1/orders?receipt=`) and returns the one whose notes
  carry the same key; only if there is none does it create one. Two attempts running at the very
  same moment could both create (Razorpay does not enforce unique receipts); the activity's single
  attempt at a time makes that a narrow window, and the oldest order is always the one returned.
- a refund carries `notes.idempotency_key`; before refunding, the payment's refunds are listed and
  one with the same key is returned instead of refunding again (the same narrow window applies;
  Razorpay itself refuses a refund beyond what is left).

Cancelling. Razorpay orders cannot be cancelled. `cancel_session` asks for the order's payments:
captured -> `succeeded` (the caller treats it as paid), authorised -> `processing`; otherwise it
reports `cancelled`, which is our view ("we stopped waiting"), not Razorpay's. Razorpay would still
accept a payment on that order later: it then shows up as `succeeded` in `fetch_payment` (webhook
`payment.captured`), and the caller must refund a payment for an order it already expired.

Renewals (`charge_saved_method`) debit a saved token (card, UPI Autopay) with a recurring payment:
an order of their own (found again by receipt and key, as above; its notes say `kind: renewal`),
then `POST /v1/payments/create/recurring` on it. Before creating, the order's payments are listed:
a retry that finds one answers with it instead of debiting again. Razorpay usually settles the
debit later (after its pre-debit notice, or the bank's batch), so the answer is `processing` on the
order id, and `fetch_payment(order id)` follows the payment to captured or failed.

What Razorpay's answers mean (an order's state from its payments, notes, receipts) is read in
`providers.payments.razorpay_entities`; this module makes the calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import razorpay
from razorpay.errors import BadRequestError, SignatureVerificationError

from domain.payments import (
    InvalidSignature,
    PaymentRequest,
    PaymentSession,
    PaymentState,
    PaymentStatus,
    ProviderDeclined,
    ProviderName,
    RecurringCharge,
    RefundResult,
    WebhookEvent,
)
from providers.payments.razorpay_entities import (
    REFUND_STATES,
    RENEWAL,
    header,
    is_captured,
    notes_of,
    order_status,
    receipt_for,
)

if TYPE_CHECKING:
    from core.settings import Settings

T = TypeVar("T")
REQUEST_TIMEOUT_SECONDS = 30.0


def _find_order(
    client: razorpay.Client, receipt: str, idempotency_key: str, *, timeout: float
) -> dict[str, Any] | None:
    """The order made before under this key, if any (the oldest, should two exist)."""
    listed = client.order.all({"receipt": receipt, "count": 100}, timeout=timeout)
    mine: list[dict[str, Any]] = [
        order
        for order in listed.get("items", [])
        if order.get("receipt") == receipt
        and notes_of(order).get("idempotency_key") == idempotency_key
    ]
    if not mine:
        return None
    return min(mine, key=lambda order: (order.get("created_at", 0), order["id"]))


class RazorpayProvider:
    name: ProviderName = "razorpay"

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        base_url: str | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self._key_id = key_id
        self._auth = (key_id, key_secret)
        self._webhook_secret = webhook_secret
        self._base_url = base_url
        self._timeout = timeout
        self._local = threading.local()
        # Signature checks are local HMACs: this client never sends a request.
        self._verifier = self._new_client()

    @classmethod
    def from_settings(cls, settings: Settings) -> RazorpayProvider:
        if (
            settings.razorpay_key_id is None
            or settings.razorpay_key_secret is None
            or settings.razorpay_webhook_secret is None
        ):
            raise ValueError(
                "PAYMENTS_PROVIDER=razorpay needs RAZORPAY_KEY_ID, "
                "RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET"
            )
        return cls(
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret.get_secret_value(),
            webhook_secret=settings.razorpay_webhook_secret.get_secret_value(),
            base_url=settings.razorpay_base_url,
        )

    def _new_client(self) -> razorpay.Client:
        options = {"base_url": self._base_url} if self._base_url else {}
        return razorpay.Client(auth=self._auth, **options)

    def _client(self) -> razorpay.Client:
        client: razorpay.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
        return client

    async def _call(self, work: Callable[[razorpay.Client], T]) -> T:
        def run() -> T:
            try:
                return work(self._client())
            except BadRequestError as exc:  # Razorpay's "no" to this request: not retried
                raise ProviderDeclined(str(exc) or "Razorpay refused the request") from exc

        return await asyncio.to_thread(run)

    # --- sessions ---------------------------------------------------------------------------

    async def create_session(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> PaymentSession:
        receipt = receipt_for(request.reference)
        currency = request.currency.upper()
        timeout = self._timeout

        def work(client: razorpay.Client) -> dict[str, Any]:
            found = _find_order(client, receipt, idempotency_key, timeout=timeout)
            if found is not None:
                return found
            created: dict[str, Any] = client.order.create(
                {
                    "amount": request.amount_minor,  # paise (minor units) already
                    "currency": currency,
                    "receipt": receipt,
                    "notes": {"order_id": request.reference, "idempotency_key": idempotency_key},
                    # Capture authorised payments at once (the account's capture settings too).
                    "payment_capture": 1,
                },
                timeout=timeout,
            )
            return created

        order = await self._call(work)
        if (order["amount"], str(order["currency"]).upper()) != (request.amount_minor, currency):
            raise ProviderDeclined(
                "idempotency key already used for a different payment "
                f"({order['id']}: {order['amount']} {order['currency']})"
            )
        return PaymentSession(
            provider=self.name,
            provider_ref=order["id"],
            amount_minor=order["amount"],
            currency=currency,
            key_id=self._key_id,
        )

    async def fetch_payment(self, provider_ref: str) -> PaymentStatus:
        timeout = self._timeout

        def work(
            client: razorpay.Client,
        ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
            order = client.order.fetch(provider_ref, timeout=timeout)
            payments = client.order.payments(provider_ref, timeout=timeout).get("items", [])
            card = None
            for payment in payments:
                carded = payment.get("method") in ("card", "emi")
                if is_captured(payment) and payment.get("token_id") and carded:
                    expanded = client.payment.fetch(
                        payment["id"], {"expand[]": "card"}, timeout=timeout
                    )
                    card = expanded.get("card") if isinstance(expanded.get("card"), dict) else None
            return order, payments, card

        order, payments, card = await self._call(work)
        return order_status(order, payments, card)

    async def cancel_session(self, provider_ref: str, *, idempotency_key: str) -> PaymentStatus:
        """Razorpay cannot cancel an order: see the module's note. Money taken wins."""
        status = await self.fetch_payment(provider_ref)
        if status.state in (PaymentState.succeeded, PaymentState.processing):
            return status
        return status.model_copy(update={"state": PaymentState.cancelled})

    # --- refunds and customers --------------------------------------------------------------

    async def charge_saved_method(
        self, charge: RecurringCharge, *, idempotency_key: str
    ) -> PaymentStatus:
        """A recurring payment on an order of its own (see the module's note). `provider_ref` is
        the Razorpay order: `processing` once the debit is asked for; a retry answers with the
        payment already on the order (`processing`, `succeeded` or `failed`)."""
        if not (charge.provider_customer_id and charge.customer_email and charge.customer_phone):
            # All three are required by create/recurring: refuse before an order is made for it.
            raise ProviderDeclined(
                "a Razorpay recurring payment needs the customer id, email and phone"
            )
        receipt = receipt_for(charge.reference)
        currency = charge.currency.upper()
        notes = {"order_id": charge.reference, "idempotency_key": idempotency_key}
        timeout = self._timeout

        def work(client: razorpay.Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            order = _find_order(client, receipt, idempotency_key, timeout=timeout)
            if order is None:
                order = client.order.create(
                    {
                        "amount": charge.amount_minor,
                        "currency": currency,
                        "receipt": receipt,
                        "notes": {**notes, "kind": RENEWAL},
                        "payment_capture": 1,
                    },
                    timeout=timeout,
                )
            if (order["amount"], str(order["currency"]).upper()) != (
                charge.amount_minor,
                currency,
            ):
                raise ProviderDeclined(
                    "idempotency key already used for a different payment "
                    f"({order['id']}: {order['amount']} {order['currency']})"
                )
            payments: list[dict[str, Any]] = client.order.payments(
                order["id"], timeout=timeout
            ).get("items", [])
            if payments:  # a retry: the first attempt's debit stands
                return order, payments
            try:
                created = client.payment.createRecurring(
                    {
                        "email": charge.customer_email,
                        "contact": charge.customer_phone,
                        "amount": charge.amount_minor,
                        "currency": currency,
                        "order_id": order["id"],
                        "customer_id": charge.provider_customer_id,
                        "token": charge.provider_method_id,
                        "recurring": 1,
                        "description": charge.description,
                        "notes": notes,
                    },
                    timeout=timeout,
                )
            except BadRequestError:
                # A debit the bank refused at once leaves a failed payment on the order: that is
                # the answer. With none, the request itself was refused (a token that is not
                # this customer's, not confirmed, ...): ProviderDeclined.
                payments = client.order.payments(order["id"], timeout=timeout).get("items", [])
                if payments:
                    return order, payments
                raise
            # The answer names the payment only: Razorpay's entity says how far it got (and
            # answers exactly as a retry would). Until it is listed, it is a debit just started.
            payments = client.order.payments(order["id"], timeout=timeout).get("items", [])
            return order, payments or [{"id": created["razorpay_payment_id"], "status": "created"}]

        order, payments = await self._call(work)
        return order_status(order, payments)

    async def refund(
        self,
        payment_id: str,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> RefundResult:
        if amount_minor <= 0:
            raise ProviderDeclined("a refund amount must be positive")
        timeout = self._timeout

        def work(client: razorpay.Client) -> dict[str, Any]:
            listed = client.payment.fetch_multiple_refund(
                payment_id, {"count": 100}, timeout=timeout
            )
            for existing in listed.get("items", []):
                if notes_of(existing).get("idempotency_key") == idempotency_key:
                    if existing.get("amount") != amount_minor:
                        raise ProviderDeclined(
                            "idempotency key already used for a different refund "
                            f"({existing['id']}: {existing.get('amount')})"
                        )
                    return dict(existing)
            payment = client.payment.fetch(payment_id, timeout=timeout)
            if not is_captured(payment):
                raise ProviderDeclined(f"payment {payment_id} was not captured; nothing to refund")
            if str(payment.get("currency", "")).upper() != currency.upper():
                raise ProviderDeclined(
                    f"payment {payment_id} was made in {payment.get('currency')}, "
                    f"not {currency.upper()}"
                )
            left = int(payment["amount"]) - int(payment.get("amount_refunded") or 0)
            if amount_minor > left:
                raise ProviderDeclined(
                    f"refund of {amount_minor} exceeds the {left} {payment.get('currency')} "
                    "left to refund"
                )
            notes = {"idempotency_key": idempotency_key}
            if reason:
                notes["reason"] = reason[:256]
            created: dict[str, Any] = client.payment.refund(
                payment_id,
                {"amount": amount_minor, "speed": "normal", "notes": notes},
                timeout=timeout,
            )
            return created

        refund = await self._call(work)
        return RefundResult(
            provider_refund_id=refund["id"],
            amount_minor=refund["amount"],
            status=REFUND_STATES.get(str(refund.get("status")), "pending"),
        )

    async def ensure_customer(
        self, user_id: str, email: str | None, *, idempotency_key: str
    ) -> str | None:
        """The Razorpay customer for saved methods (tokens). `fail_existing: 0` makes Razorpay
        return the existing customer with the same email, which is what makes this idempotent;
        without an email there is nothing to find it again by, so none is created."""
        if not email:
            return None
        timeout = self._timeout

        def work(client: razorpay.Client) -> dict[str, Any]:
            customer: dict[str, Any] = client.customer.create(
                {"email": email, "fail_existing": "0", "notes": {"user_id": user_id}},
                timeout=timeout,
            )
            return customer

        return str((await self._call(work))["id"])

    # --- what the outside sends back --------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """`X-Razorpay-Signature` = hex HMAC-SHA256(webhook secret, raw body). Razorpay signs no
        timestamp, so an old delivery replayed verifies: harmless, since an event only makes
        the caller ask `fetch_payment`, and its id (`X-Razorpay-Event-Id`) deduplicates it."""
        signature = header(headers, "X-Razorpay-Signature")
        if not signature:
            raise InvalidSignature("missing X-Razorpay-Signature")
        try:
            text = body.decode("utf-8")
            self._verifier.utility.verify_webhook_signature(text, signature, self._webhook_secret)
            event = json.loads(text)
        except (SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature("Razorpay webhook signature does not verify") from exc
        if not isinstance(event, dict):
            raise InvalidSignature("Razorpay webhook body is not an event")
        payload = event.get("payload") or {}
        payment = (payload.get("payment") or {}).get("entity") or {}
        order = (payload.get("order") or {}).get("entity") or {}
        provider_ref = payment.get("order_id") or order.get("id")
        reference = notes_of(order).get("order_id") or notes_of(payment).get("order_id")
        event_id = header(headers, "X-Razorpay-Event-Id")
        if not event_id:  # always sent by Razorpay; a digest still deduplicates redeliveries
            event_id = "sha256:" + hashlib.sha256(body).hexdigest()
        return WebhookEvent(
            provider=self.name,
            event_id=event_id,
            event_type=str(event.get("event")),
            provider_ref=provider_ref,
            reference=reference,
            received_at=datetime.now(UTC),
        )

    def verify_client_confirmation(self, provider_ref: str, payload: Mapping[str, Any]) -> str:
        """Checkout's handler response: `razorpay_signature` = HMAC-SHA256(key secret,
        `order_id|payment_id`). Returns the payment id; the order must be this session's."""
        try:
            order_id = str(payload["razorpay_order_id"])
            payment_id = str(payload["razorpay_payment_id"])
            signature = str(payload["razorpay_signature"])
        except KeyError as exc:
            raise InvalidSignature(f"missing {exc.args[0]}") from exc
        if order_id != provider_ref:
            raise InvalidSignature("the confirmation is for another Razorpay order")
        try:
            self._verifier.utility.verify_payment_signature(
                {
                    "razorpay_order_id": order_id,
                    "razorpay_payment_id": payment_id,
                    "razorpay_signature": signature,
                }
            )
        except SignatureVerificationError as exc:
            raise InvalidSignature("Razorpay payment signature does not verify") from exc
        return payment_id
