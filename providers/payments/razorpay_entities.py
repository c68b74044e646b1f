"""Reading Razorpay's answers: an order's receipt, the notes and headers it sends, our view of an
order from its payments, and the saved token a payment leaves. Pure functions over the JSON the
SDK returns, so `providers.payments.razorpay` keeps to the calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

from domain.payments import PaymentState, PaymentStatus, SavedMethod

RECEIPT_MAX = 40
RENEWAL = "renewal"  # the `kind` note of the orders renewals debit
_SAVED_KINDS: dict[str, Literal["card", "upi", "wallet", "netbanking"]] = {
    "card": "card",
    "emi": "card",
    "upi": "upi",
    "wallet": "wallet",
    "netbanking": "netbanking",
}
REFUND_STATES: dict[str, Literal["pending", "succeeded", "failed"]] = {
    "pending": "pending",
    "processed": "succeeded",
    "failed": "failed",
}


def receipt_for(reference: str) -> str:
    """The order's receipt: our order id, or a digest of it when it is too long for Razorpay."""
    if len(reference) <= RECEIPT_MAX:
        return reference
    return "h_" + hashlib.sha256(reference.encode()).hexdigest()[: RECEIPT_MAX - 2]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (a plain dict is not case-insensitive)."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def notes_of(entity: Mapping[str, Any]) -> Mapping[str, Any]:
    """Razorpay sends empty notes as `[]`, filled ones as an object."""
    notes = entity.get("notes")
    return notes if isinstance(notes, Mapping) else {}


def is_captured(payment: Mapping[str, Any]) -> bool:
    return bool(payment.get("captured")) or payment.get("status") in ("captured", "refunded")


def order_status(
    order: Mapping[str, Any],
    payments: list[dict[str, Any]],
    card: Mapping[str, Any] | None = None,
) -> PaymentStatus:
    """Our view of an order from its payments: captured wins, then authorised; a renewal's
    recurring debit not settled yet -> processing; only failed attempts -> failed (the newest
    one's reason); no attempt, or a customer's one in progress -> pending."""
    base = {
        "provider_ref": order["id"],
        "amount_minor": order["amount"],
        "currency": str(order["currency"]).upper(),
    }
    newest_first = sorted(payments, key=lambda p: p.get("created_at", 0), reverse=True)
    captured = [p for p in newest_first if is_captured(p)]
    if captured:
        payment = captured[0]
        return PaymentStatus(
            **base,
            state=PaymentState.succeeded,
            payment_id=payment["id"],
            method=payment.get("method"),
            saved_method=_saved_method(payment, card),
        )
    authorized = [p for p in newest_first if p.get("status") == "authorized"]
    if authorized:
        return PaymentStatus(
            **base,
            state=PaymentState.processing,
            payment_id=authorized[0]["id"],
            method=authorized[0].get("method"),
        )
    settling = [p for p in newest_first if p.get("status") in ("created", "pending")]
    if settling and notes_of(order).get("kind") == RENEWAL:
        # Razorpay debits the saved token later; nobody has anything to do meanwhile.
        return PaymentStatus(
            **base,
            state=PaymentState.processing,
            payment_id=settling[0]["id"],
            method=settling[0].get("method"),
        )
    if newest_first and all(p.get("status") == "failed" for p in newest_first):
        reason = newest_first[0].get("error_description") or "The payment failed"
        return PaymentStatus(**base, state=PaymentState.failed, failure_reason=reason)
    return PaymentStatus(**base, state=PaymentState.pending)


def _saved_method(payment: Mapping[str, Any], card: Mapping[str, Any] | None) -> SavedMethod | None:
    token = payment.get("token_id")
    kind = _SAVED_KINDS.get(str(payment.get("method")))
    if not token or kind is None:
        return None
    card = card or {}
    return SavedMethod(
        provider_customer_id=payment.get("customer_id"),
        provider_method_id=token,
        kind=kind,
        brand=card.get("network"),
        last4=card.get("last4"),
    )
