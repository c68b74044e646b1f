"""A local Razorpay API for the real `razorpay` SDK: just what our provider calls.

Endpoints: POST /v1/orders, GET /v1/orders (filters `receipt`, `count`, `skip`, newest first, as
Razorpay's Fetch All Orders), GET /v1/orders/{id}, GET /v1/orders/{id}/payments,
GET /v1/payments/{id} (`expand[]=card`), POST /v1/payments/{id}/refund,
GET /v1/payments/{id}/refunds, POST /v1/customers (`fail_existing`), POST
/v1/payments/create/recurring (a debit of a saved token). JSON bodies, HTTP basic
auth with the key id and secret (a wrong one is refused as Razorpay does), errors in Razorpay's
`{"error": {"code": "BAD_REQUEST_ERROR", "description": ...}}` shape.

Test controls stand in for the customer on Razorpay Checkout: `pay` (captured when the order asked
for auto-capture), `authorize` (authorised, not captured), `fail`. Helpers sign a webhook body
(`X-Razorpay-Signature`) and the Checkout handler response (`order_id|payment_id`).

Recurring payments: a token is saved on a customer by `save_token` (or by `pay` with a `token_id`
and `customer_id`, as Checkout does). `create/recurring` checks what Razorpay requires (email,
contact, amount and currency of the order, the customer's own confirmed token, `recurring`) and
starts the debit `created`, as Razorpay does before its pre-debit notice; `capture_recurring` /
`fail_recurring` settle it later, and `decline_next_recurring` makes the bank refuse the next debit
of a token at once (a 400 naming the failed payment, which stays on the order).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fakes import FakeServer, Recorded, Response, json_response, random_id

KEY_ID = "rzp_test_fake0123456789"
KEY_SECRET = "fake_key_secret_0123456789"
WEBHOOK_SECRET = "fake_webhook_secret_0123456789"


def _error(
    description: str, *, status: int = 400, field: str | None = None, reason: str = "NA"
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {
        "code": "BAD_REQUEST_ERROR",
        "description": description,
        "source": "business" if status == 400 else "NA",
        "step": "NA",
        "reason": reason,
        "metadata": {},
    }
    if field:
        error["field"] = field
    return status, {"error": error}


def _failure(reason: str) -> dict[str, Any]:
    """The error fields of a failed payment entity."""
    return {
        "error_code": "BAD_REQUEST_ERROR",
        "error_description": reason,
        "error_source": "customer",
        "error_step": "payment_authentication",
        "error_reason": "payment_failed",
    }


def _card_entity(card: dict[str, Any] | None = None) -> dict[str, Any]:
    entity = {
        "id": random_id("card_"),
        "entity": "card",
        "name": "Test Customer",
        "last4": "1111",
        "network": "Visa",
        "type": "credit",
        "issuer": None,
        "international": False,
        "emi": False,
    }
    entity.update(card or {})
    return entity


def hmac_hex(secret: str, message: bytes | str) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


class FakeRazorpay(FakeServer):
    def __init__(
        self,
        *,
        key_id: str = KEY_ID,
        key_secret: str = KEY_SECRET,
        webhook_secret: str = WEBHOOK_SECRET,
    ) -> None:
        super().__init__()
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self._cards: dict[str, dict[str, Any]] = {}  # payment id -> card entity
        self.tokens: dict[str, dict[str, Any]] = {}
        self._recurring_declines: dict[str, list[str]] = {}  # token -> reasons of its next debits
        self._recurring: list[str] = []  # payments made by create/recurring, in order
        self._sequence = itertools.count()
        self._order_seq: dict[str, int] = {}

    def provider_settings(self) -> dict[str, Any]:
        """The settings that point our Razorpay provider (the real SDK) at this fake."""
        return {
            "payments_provider": "razorpay",
            "razorpay_key_id": self.key_id,
            "razorpay_key_secret": self.key_secret,
            "razorpay_webhook_secret": self.webhook_secret,
            "razorpay_base_url": self.url,
        }

    # --- HTTP -------------------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        if body:
            params.update(json.loads(body))
        with self.lock:
            self.requests.append(Recorded(method=method, path=path, params=params, headers=headers))
            expected = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
            if headers.get("authorization") != f"Basic {expected}":
                return json_response(*_error("The api key provided is invalid", status=401))
            status, answer = self._route(method, path, params)
            return json_response(status, answer)

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "orders"]:
            if len(parts) == 2:
                if method == "POST":
                    return self._create_order(params)
                if method == "GET":
                    return 200, self._list_orders(params)
            if len(parts) >= 3 and parts[2] not in self.orders:
                return _error("The id provided does not exist")
            if method == "GET" and len(parts) == 3:
                return 200, copy.deepcopy(self.orders[parts[2]])
            if method == "GET" and len(parts) == 4 and parts[3] == "payments":
                items = [p for p in self.payments.values() if p["order_id"] == parts[2]]
                return 200, self._collection(items)
        if method == "POST" and parts == ["v1", "payments", "create", "recurring"]:
            return self._create_recurring(params)
        if parts[:2] == ["v1", "payments"] and len(parts) >= 3:
            if parts[2] not in self.payments:
                return _error("The id provided does not exist")
            payment_id = parts[2]
            if method == "GET" and len(parts) == 3:
                payment = copy.deepcopy(self.payments[payment_id])
                if params.get("expand[]") == "card" and payment_id in self._cards:
                    payment["card"] = copy.deepcopy(self._cards[payment_id])
                return 200, payment
            if method == "POST" and parts[3:] == ["refund"]:
                return self._refund(payment_id, params)
            if method == "GET" and parts[3:] == ["refunds"]:
                items = [r for r in self.refunds.values() if r["payment_id"] == payment_id]
                return 200, self._collection(items)
        if method == "POST" and parts == ["v1", "customers"]:
            return self._create_customer(params)
        return _error("The requested URL was not found on the server.", status=404)

    @staticmethod
    def _collection(items: list[dict[str, Any]]) -> dict[str, Any]:
        items = sorted(items, key=lambda item: item["_seq"], reverse=True)
        return {
            "entity": "collection",
            "count": len(items),
            "items": [{k: v for k, v in copy.deepcopy(i).items() if k != "_seq"} for i in items],
        }

    def _create_order(self, params: dict[str, Any]) -> tuple[int, Any]:
        amount = params.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return _error("The amount must be atleast INR 1.00", field="amount")
        receipt = params.get("receipt")
        if receipt is not None and len(str(receipt)) > 40:
            return _error("receipt: the length must be no more than 40.", field="receipt")
        notes = params.get("notes") or []
        if isinstance(notes, dict) and (
            len(notes) > 15 or any(len(str(v)) > 256 for v in notes.values())
        ):
            return _error("notes: at most 15 notes of 256 characters", field="notes")
        order = {
            "id": random_id("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": params.get("currency", "INR"),
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes,
            "created_at": int(time.time()),
            "_seq": next(self._sequence),
            # Not part of Razorpay's order entity as returned; kept to decide auto-capture.
            "_payment_capture": bool(params.get("payment_capture")),
        }
        self.orders[order["id"]] = order
        return 200, self._public(order)

    @staticmethod
    def _public(entity: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in copy.deepcopy(entity).items() if not k.startswith("_")}

    def _list_orders(self, params: dict[str, Any]) -> dict[str, Any]:
        items = sorted(self.orders.values(), key=lambda o: o["_seq"], reverse=True)
        if "receipt" in params:
            items = [o for o in items if o["receipt"] == params["receipt"]]
        skip = int(params.get("skip", 0))
        count = min(int(params.get("count", 10)), 100)
        page = [self._public(o) for o in items[skip : skip + count]]
        return {"entity": "collection", "count": len(page), "items": page}

    def _refund(self, payment_id: str, params: dict[str, Any]) -> tuple[int, Any]:
        payment = self.payments[payment_id]
        if not payment["captured"]:
            return _error("Only captured payments can be refunded", field="payment_id")
        left = payment["amount"] - payment["amount_refunded"]
        amount = params.get("amount", left)
        if not isinstance(amount, int) or amount <= 0 or amount > left:
            return _error(
                "The refund amount provided is greater than amount captured", field="amount"
            )
        refund = {
            "id": random_id("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment_id,
            "notes": params.get("notes") or [],
            "receipt": params.get("receipt"),
            "acquirer_data": {"arn": None},
            "created_at": int(time.time()),
            "batch_id": None,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": params.get("speed", "normal"),
            "_seq": next(self._sequence),
        }
        self.refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        full = payment["amount_refunded"] == payment["amount"]
        payment["refund_status"] = "full" if full else "partial"
        if full:
            payment["status"] = "refunded"
        return 200, self._public(refund)

    def _create_recurring(self, params: dict[str, Any]) -> tuple[int, Any]:
        required = (
            "email",
            "contact",
            "amount",
            "currency",
            "order_id",
            "customer_id",
            "token",
            "recurring",
        )
        for name in required:
            if params.get(name) in (None, ""):
                return _error(f"The {name} field is required.", field=name)
        if params["recurring"] not in (1, "1", True, "true"):
            return _error("The recurring field must be 1", field="recurring")
        order = self.orders.get(params["order_id"])
        if order is None:
            return _error("The id provided does not exist", field="order_id")
        if order["status"] == "paid":
            return _error("Order has already been paid", field="order_id")
        if params["amount"] != order["amount"] or params["currency"] != order["currency"]:
            return _error(
                "The amount and currency must be the order's "
                f"({order['amount']} {order['currency']})",
                field="amount",
            )
        if params["customer_id"] not in self.customers:
            return _error("The id provided does not exist", field="customer_id")
        token = self.tokens.get(params["token"])
        if token is None or token["customer_id"] != params["customer_id"]:
            return _error("The token id provided does not exist", field="token")
        if token["recurring_details"]["status"] != "confirmed":
            return _error("The token is not confirmed for recurring payments", field="token")
        fields: dict[str, Any] = {
            "email": params["email"],
            "contact": params["contact"],
            "customer_id": params["customer_id"],
            "token_id": token["id"],
            "description": params.get("description"),
            "notes": params.get("notes") or [],
        }
        declines = self._recurring_declines.get(token["id"]) or []
        if declines:
            reason = declines.pop(0)
            payment_id = self._new_payment(
                order["id"], token["method"], "failed", **fields, **_failure(reason)
            )
            self._recurring.append(payment_id)
            status, body = _error(reason, reason="payment_failed")
            body["error"]["metadata"] = {"payment_id": payment_id, "order_id": order["id"]}
            return status, body
        payment_id = self._new_payment(order["id"], token["method"], "created", **fields)
        self._recurring.append(payment_id)
        if token.get("card"):
            self._cards[payment_id] = copy.deepcopy(token["card"])
            self.payments[payment_id]["card_id"] = token["card"]["id"]
        return 200, {
            "razorpay_payment_id": payment_id,
            "razorpay_order_id": order["id"],
            "razorpay_signature": hmac_hex(self.key_secret, f"{order['id']}|{payment_id}"),
        }

    def _create_customer(self, params: dict[str, Any]) -> tuple[int, Any]:
        for customer in self.customers.values():
            same = (params.get("email") and customer["email"] == params.get("email")) or (
                params.get("contact") and customer["contact"] == params.get("contact")
            )
            if same:
                if str(params.get("fail_existing", "1")) == "0":
                    return 200, copy.deepcopy(customer)
                return _error("Customer already exists for the merchant")
        customer = {
            "id": random_id("cust_"),
            "entity": "customer",
            "name": params.get("name"),
            "email": params.get("email"),
            "contact": params.get("contact"),
            "gstin": None,
            "notes": params.get("notes") or [],
            "created_at": int(time.time()),
        }
        self.customers[customer["id"]] = customer
        return 200, copy.deepcopy(customer)

    # --- what the customer does on Razorpay Checkout (test controls) ------------------------

    def _new_payment(self, order_id: str, method: str, status: str, **fields: Any) -> str:
        order = self.orders[order_id]
        payment = {
            "id": random_id("pay_"),
            "entity": "payment",
            "amount": order["amount"],
            "currency": order["currency"],
            "status": status,
            "order_id": order_id,
            "invoice_id": None,
            "international": False,
            "method": method,
            "amount_refunded": 0,
            "refund_status": None,
            "captured": status == "captured",
            "description": None,
            "card_id": None,
            "bank": "HDFC" if method == "netbanking" else None,
            "wallet": "paytm" if method == "wallet" else None,
            "vpa": "customer@upi" if method == "upi" else None,
            "email": "customer@example.com",
            "contact": "+919876543210",
            "customer_id": None,
            "token_id": None,
            "notes": [],
            "fee": None,
            "tax": None,
            "error_code": None,
            "error_description": None,
            "error_source": None,
            "error_step": None,
            "error_reason": None,
            "created_at": int(time.time()),
            "_seq": next(self._sequence),
        }
        payment.update(fields)
        self.payments[payment["id"]] = payment
        order["attempts"] += 1
        if order["status"] == "created":
            order["status"] = "attempted"
        if payment["captured"]:
            order.update(status="paid", amount_paid=order["amount"], amount_due=0)
        return str(payment["id"])

    def pay(
        self,
        order_id: str,
        method: str = "upi",
        *,
        token_id: str | None = None,
        customer_id: str | None = None,
        card: dict[str, Any] | None = None,
    ) -> str:
        """The customer pays; captured at once when the order asked for auto-capture."""
        with self.lock:
            capture = self.orders[order_id]["_payment_capture"]
            payment_id = self._new_payment(
                order_id,
                method,
                "captured" if capture else "authorized",
                token_id=token_id,
                customer_id=customer_id,
            )
            entity = _card_entity(card) if method == "card" else None
            if entity is not None:
                self._cards[payment_id] = entity
                self.payments[payment_id]["card_id"] = entity["id"]
            if token_id and customer_id and token_id not in self.tokens:
                # Checkout saved the method: later debits can use the token.
                self._add_token(token_id, customer_id, method, entity)
            return payment_id

    def authorize(self, order_id: str, method: str = "card") -> str:
        """Authorised by the bank, not captured (yet)."""
        with self.lock:
            return self._new_payment(order_id, method, "authorized")

    def fail(self, order_id: str, reason: str, method: str = "card") -> str:
        with self.lock:
            return self._new_payment(order_id, method, "failed", **_failure(reason))

    # --- saved tokens and recurring debits (test controls) ----------------------------------

    def _add_token(
        self, token_id: str, customer_id: str, method: str, card: dict[str, Any] | None
    ) -> None:
        self.tokens[token_id] = {
            "id": token_id,
            "entity": "token",
            "customer_id": customer_id,
            "method": method,
            "recurring": True,
            "recurring_details": {"status": "confirmed", "failure_reason": None},
            "card": card,
            "vpa": {"username": "customer", "handle": "upi"} if method == "upi" else None,
            "created_at": int(time.time()),
        }

    def save_token(
        self,
        customer_id: str,
        method: str = "card",
        *,
        card: dict[str, Any] | None = None,
        status: str = "confirmed",
    ) -> str:
        """A token on the customer, as the authorisation payment leaves it; returns its id."""
        with self.lock:
            assert customer_id in self.customers, f"no customer {customer_id}"
            token_id = random_id("token_")
            self._add_token(
                token_id, customer_id, method, _card_entity(card) if method == "card" else None
            )
            self.tokens[token_id]["recurring_details"]["status"] = status
            return token_id

    def decline_next_recurring(self, token_id: str, reason: str) -> None:
        """The bank refuses the next debit of this token at once."""
        with self.lock:
            self._recurring_declines.setdefault(token_id, []).append(reason)

    def recurring_payments(self) -> list[dict[str, Any]]:
        """Every payment create/recurring made, oldest first."""
        with self.lock:
            return [self._public(self.payments[payment_id]) for payment_id in self._recurring]

    def capture_recurring(self, payment_id: str) -> None:
        """Razorpay debited the token: the payment is captured and its order paid."""
        with self.lock:
            payment = self.payments[payment_id]
            assert payment["status"] in ("created", "pending"), payment["status"]
            payment.update(status="captured", captured=True)
            order = self.orders[payment["order_id"]]
            order.update(status="paid", amount_paid=order["amount"], amount_due=0)

    def fail_recurring(self, payment_id: str, reason: str) -> None:
        """The debit failed (declined by the bank, mandate revoked, ...)."""
        with self.lock:
            payment = self.payments[payment_id]
            assert payment["status"] in ("created", "pending"), payment["status"]
            payment.update(status="failed", **_failure(reason))

    def customer_of(self, user_id: str) -> str:
        """The id of the customer our provider created for one of our users (its notes name
        the user)."""
        with self.lock:
            (customer_id,) = [
                c["id"]
                for c in self.customers.values()
                if isinstance(c["notes"], dict) and c["notes"].get("user_id") == user_id
            ]
            return str(customer_id)

    def order(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            return self._public(self.orders[order_id])

    # --- signatures -------------------------------------------------------------------------

    def sign_webhook(self, body: bytes, secret: str | None = None) -> str:
        """`X-Razorpay-Signature`: hex HMAC-SHA256(webhook secret, raw body)."""
        return hmac_hex(secret or self.webhook_secret, body)

    def webhook(
        self,
        event: str,
        *,
        payment_id: str | None = None,
        order_id: str | None = None,
        event_id: str | None = None,
        secret: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A delivery as Razorpay sends it: (raw body, headers with signature and event id)."""
        with self.lock:
            payload: dict[str, Any] = {}
            if payment_id:
                payload["payment"] = {"entity": self._public(self.payments[payment_id])}
            if order_id:
                payload["order"] = {"entity": self._public(self.orders[order_id])}
        body = json.dumps(
            {
                "entity": "event",
                "account_id": "acc_fake0123456789",
                "event": event,
                "contains": sorted(payload),
                "payload": payload,
                "created_at": int(time.time()),
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": self.sign_webhook(body, secret),
            "X-Razorpay-Event-Id": event_id or random_id("evt_"),
        }
        return body, headers

    def checkout_response(self, order_id: str, payment_id: str) -> dict[str, str]:
        """What Razorpay Checkout's handler gives the app after paying."""
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": hmac_hex(self.key_secret, f"{order_id}|{payment_id}"),
        }
