"""A local Stripe API for the real `stripe` SDK: just what our provider calls.

Endpoints: POST /v1/payment_intents, GET /v1/payment_intents/{id} (with `expand[]`),
POST /v1/payment_intents/{id}/cancel, POST /v1/refunds, POST /v1/customers. Bodies are
form-encoded like Stripe's (`metadata[order_id]=...`); the recorded params keep Stripe's wire
strings ("149900", "true").

Idempotency as Stripe does it: a POST with an `Idempotency-Key` seen before and the same
parameters is answered with the stored response (header `Idempotent-Replayed: true`, nothing
created); the same key with other parameters is a 400 `idempotency_error`.

Test controls stand in for the customer: `succeed`, `decline`, `process`, `require_action`.
`webhook()` builds an event body and its `Stripe-Signature` header with Stripe's scheme.

Off-session charges of a saved card (`payment_method` + `off_session=true` + `confirm=true`) are
decided in the request, as Stripe does: succeeded by default; `next_off_session(pm, outcome)` makes
the next charge of that card decline (`card_declined`) or need authentication
(`authentication_required`), answered as Stripe answers: HTTP 402, a `card_error` carrying the
PaymentIntent (back at `requires_payment_method`, with `last_payment_error`). `save_card(customer)`
puts a card on a customer, as a first purchase with `setup_future_usage` does (`succeed`).

`hold_next(method, path)` stands in for a reply lost on the way back: the next such request is
processed in full (created, stored, remembered under its Idempotency-Key), then its answer is kept
back until `release()`, so a test can kill the caller in exactly that window.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fakes import FakeServer, Recorded, Response, json_response, random_id

API_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
OFF_SESSION_OUTCOMES = ("succeeded", "card_declined", "authentication_required")
# What Stripe sends for each failure (its test cards 4000 0000 0000 0002 and ...3155 off-session).
_CARD_ERRORS: dict[str, dict[str, str]] = {
    "card_declined": {
        "code": "card_declined",
        "decline_code": "generic_decline",
        "message": "Your card was declined.",
    },
    "authentication_required": {
        "code": "authentication_required",
        "decline_code": "authentication_required",
        "message": "Your card was declined. This transaction requires authentication.",
    },
}
CANCELABLE = {
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
}


def form_decode(text: str) -> dict[str, Any]:
    """Stripe's nested form encoding back into dicts and lists (values stay strings)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {key: _listify(value) for key, value in node.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return node


def _error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    **extra: Any,
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"type": type, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    error.update(extra)
    return status, {"error": error}


def sign(payload: bytes | str, secret: str, timestamp: int) -> str:
    """`Stripe-Signature`: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<payload>"))."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    mac = hmac.new(secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(eq=False)
class Hold:
    """One request whose answer the fake keeps back (see `FakeStripe.hold_next`).

    `arrived` is set once the request has been fully processed (what it creates exists and its
    Idempotency-Key is remembered) and before a byte of the answer is written; `request` and
    `response` are then what was received and what will be sent. The answer goes out at
    `release()`, or after `timeout` seconds at the latest (then `timed_out` is True), so a test that
    fails midway never leaves a server thread waiting forever.
    """

    method: str
    path: str
    timeout: float = 60.0
    arrived: threading.Event = field(default_factory=threading.Event)
    request: Recorded | None = None
    response: Response | None = None
    timed_out: bool = False
    _released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self._released.set()

    @property
    def body(self) -> Any:
        """The answer kept back, decoded (once `arrived`)."""
        assert self.response is not None, "the held request has not arrived"
        return json.loads(self.response[2])

    def _keep_back(self, request: Recorded, response: Response) -> None:
        self.request, self.response = request, response
        request.extra["held"] = True
        self.arrived.set()
        self.timed_out = not self._released.wait(self.timeout)


class FakeStripe(FakeServer):
    def __init__(self, *, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET) -> None:
        super().__init__()
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self._charges: dict[str, str] = {}  # charge id -> PaymentIntent id
        self._off_session_next: dict[str, list[str]] = {}  # card -> outcomes of its next charges
        self._off_session: list[str] = []  # PaymentIntents of off-session charges, in order
        self._idempotent: dict[str, tuple[tuple[str, str, Any], Response]] = {}
        self._holds: list[Hold] = []  # armed by hold_next, each used by one request
        self._holds_made: list[Hold] = []  # all of them, released at stop()

    def provider_settings(self) -> dict[str, Any]:
        """The settings that point our Stripe provider (the real SDK) at this fake."""
        return {
            "payments_provider": "stripe",
            "stripe_secret_key": self.api_key,
            "stripe_webhook_secret": self.webhook_secret,
            "stripe_api_base": self.url,
        }

    # --- HTTP -------------------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        params = form_decode(body.decode() if method == "POST" else query)
        record = Recorded(method=method, path=path, params=params, headers=headers)
        response = self._answer(method, path, headers, params, record)
        hold = self._take_hold(method, path)
        if hold is not None:  # processed and stored; the answer waits (outside the lock)
            hold._keep_back(record, response)
        return response

    def _answer(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, Any],
        record: Recorded,
    ) -> Response:
        with self.lock:
            self.requests.append(record)
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return json_response(
                    *_error(401, "Invalid API Key provided", code="api_key_invalid")
                )
            key = headers.get("idempotency-key")
            fingerprint = (method, path, params)
            if method == "POST" and key and key in self._idempotent:
                seen, response = self._idempotent[key]
                if seen != fingerprint:
                    return json_response(
                        *_error(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                            type="idempotency_error",
                        )
                    )
                record.replayed = True
                status, out_headers, payload = response
                return status, {**out_headers, "Idempotent-Replayed": "true"}, payload
            status, answer = self._route(method, path, params)
            response = json_response(status, answer, {"Request-Id": random_id("req_")})
            if method == "POST" and key and status < 500:
                self._idempotent[key] = (fingerprint, response)
            return response

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "payment_intents"]:
            if method == "POST" and len(parts) == 2:
                return self._create_intent(params)
            if len(parts) >= 3 and parts[2] not in self.payment_intents:
                return _error(
                    404,
                    f"No such payment_intent: '{parts[2]}'",
                    code="resource_missing",
                    param="intent",
                )
            if method == "GET" and len(parts) == 3:
                return 200, self._render(parts[2], params.get("expand") or [])
            if method == "POST" and len(parts) == 4 and parts[3] == "cancel":
                return self._cancel(parts[2], params)
        if method == "POST" and parts == ["v1", "refunds"]:
            return self._refund(params)
        if method == "POST" and parts == ["v1", "customers"]:
            customer: dict[str, Any] = {
                "id": random_id("cus_"),
                "object": "customer",
                "email": params.get("email"),
                "metadata": params.get("metadata") or {},
                "created": int(time.time()),
            }
            self.customers[customer["id"]] = customer
            return 200, customer
        return _error(404, f"Unrecognized request URL ({method}: {path})")

    def _create_intent(self, params: dict[str, Any]) -> tuple[int, Any]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return _error(400, "Missing or invalid integer: amount", param="amount")
        if amount <= 0:
            return _error(400, "Amount must be at least 1", param="amount")
        if not params.get("currency"):
            return _error(400, "Missing required param: currency.", param="currency")
        if params.get("customer") and params["customer"] not in self.customers:
            return _error(400, f"No such customer: '{params['customer']}'", param="customer")
        off_session = params.get("off_session") in ("true", "one_off", "recurring")
        pm_id = params.get("payment_method")
        if pm_id is not None:
            pm = self.payment_methods.get(pm_id)
            if pm is None:
                return _error(
                    400,
                    f"No such PaymentMethod: '{pm_id}'",
                    code="resource_missing",
                    param="payment_method",
                )
            if pm["customer"] != params.get("customer"):
                return _error(
                    400,
                    f"The provided PaymentMethod {pm_id} does not belong to the Customer.",
                    param="payment_method",
                )
        if off_session and not (pm_id and params.get("confirm") == "true"):
            return _error(
                400,
                "off_session can only be used with a payment_method and confirm=true.",
                param="off_session",
            )
        pi_id = random_id("pi_", 24)
        intent = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{pi_id}_secret_{random_id('', 24)}",
            "description": params.get("description"),
            "metadata": params.get("metadata") or {},
            "receipt_email": params.get("receipt_email"),
            "customer": params.get("customer"),
            "setup_future_usage": params.get("setup_future_usage"),
            "automatic_payment_methods": {
                "enabled": (params.get("automatic_payment_methods") or {}).get("enabled") == "true"
            },
            "payment_method": None,
            "latest_charge": None,
            "last_payment_error": None,
            "cancellation_reason": None,
            "canceled_at": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.payment_intents[pi_id] = intent
        if off_session and pm_id is not None:
            return self._charge_off_session(pi_id, pm_id, params.get("expand") or [])
        return 200, self._render(pi_id, params.get("expand") or [])

    def _charge_off_session(self, pi_id: str, pm_id: str, expand: list[str]) -> tuple[int, Any]:
        intent = self.payment_intents[pi_id]
        self._off_session.append(pi_id)
        queued = self._off_session_next.get(pm_id) or []
        outcome = queued.pop(0) if queued else "succeeded"
        if outcome == "succeeded":
            charge_id = random_id("ch_", 24)
            self._charges[charge_id] = pi_id
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                payment_method=pm_id,
                latest_charge=charge_id,
            )
            return 200, self._render(pi_id, expand)
        details = _CARD_ERRORS[outcome]
        intent.update(
            status="requires_payment_method",
            last_payment_error={
                "type": "card_error",
                **details,
                "payment_method": copy.deepcopy(self.payment_methods[pm_id]),
            },
        )
        return _error(
            402,
            details["message"],
            type="card_error",
            code=details["code"],
            decline_code=details["decline_code"],
            payment_intent=self._render(pi_id, []),
            payment_method=copy.deepcopy(self.payment_methods[pm_id]),
        )

    def _render(self, pi_id: str, expand: list[str]) -> dict[str, Any]:
        intent = copy.deepcopy(self.payment_intents[pi_id])
        if "payment_method" in expand and intent["payment_method"]:
            intent["payment_method"] = copy.deepcopy(self.payment_methods[intent["payment_method"]])
        return intent

    def _cancel(self, pi_id: str, params: dict[str, Any]) -> tuple[int, Any]:
        intent = self.payment_intents[pi_id]
        if intent["status"] not in CANCELABLE:
            return _error(
                400,
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                "may be canceled: " + ", ".join(sorted(CANCELABLE)) + ".",
                code="payment_intent_unexpected_state",
                payment_intent=self._render(pi_id, []),
            )
        intent["status"] = "canceled"
        intent["cancellation_reason"] = params.get("cancellation_reason")
        intent["canceled_at"] = int(time.time())
        return 200, self._render(pi_id, [])

    def _refund(self, params: dict[str, Any]) -> tuple[int, Any]:
        pi_id = params.get("payment_intent") or self._charges.get(params.get("charge") or "")
        if not pi_id or pi_id not in self.payment_intents:
            return _error(404, "No such payment_intent or charge", code="resource_missing")
        intent = self.payment_intents[pi_id]
        if intent["status"] != "succeeded":
            return _error(
                400,
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == pi_id)
        left = intent["amount"] - refunded
        amount = int(params.get("amount") or left)
        if amount <= 0 or amount > left:
            code = "charge_already_refunded" if left == 0 else "amount_too_large"
            return _error(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code=code,
                param="amount",
            )
        refund = {
            "id": random_id("re_", 24),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": pi_id,
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "reason": params.get("reason"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    # --- lost replies (test controls) ---------------------------------------------------------

    def hold_next(self, method: str, path: str, *, timeout: float = 60.0) -> Hold:
        """Keep back the answer to the next `method path` request (see `Hold`); one request only,
        later ones are answered as usual."""
        hold = Hold(method=method, path=path, timeout=timeout)
        with self.lock:
            self._holds.append(hold)
            self._holds_made.append(hold)
        return hold

    def _take_hold(self, method: str, path: str) -> Hold | None:
        with self.lock:
            for hold in self._holds:
                if (hold.method, hold.path) == (method, path):
                    self._holds.remove(hold)
                    return hold
        return None

    def stop(self) -> None:
        # A held answer goes out now: closing the server waits for its request threads.
        with self.lock:
            self._holds.clear()
            for hold in self._holds_made:
                hold.release()
        super().stop()

    # --- what the customer does (test controls) ---------------------------------------------

    def succeed(self, pi_id: str, payment_method: dict[str, Any] | None = None) -> str:
        """The customer pays (card by default); returns the charge id."""
        card = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "wallet": None}
        card.update(payment_method or {})
        with self.lock:
            intent = self.payment_intents[pi_id]
            pm_id = random_id("pm_", 24)
            self.payment_methods[pm_id] = {
                "id": pm_id,
                "object": "payment_method",
                "type": "card",
                "card": card,
                "customer": intent["customer"] if intent["setup_future_usage"] else None,
            }
            charge_id = random_id("ch_", 24)
            self._charges[charge_id] = pi_id
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                payment_method=pm_id,
                latest_charge=charge_id,
                last_payment_error=None,
            )
            return charge_id

    def save_card(self, customer_id: str, card: dict[str, Any] | None = None) -> str:
        """A card kept on the customer for off-session use; returns its PaymentMethod id."""
        details = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
        details.update({"wallet": None, **(card or {})})
        with self.lock:
            assert customer_id in self.customers, f"no customer {customer_id}"
            pm_id = random_id("pm_", 24)
            self.payment_methods[pm_id] = {
                "id": pm_id,
                "object": "payment_method",
                "type": "card",
                "card": details,
                "customer": customer_id,
            }
            return pm_id

    def next_off_session(self, pm_id: str, outcome: str) -> None:
        """The next off-session charge of this card ends so: one of `OFF_SESSION_OUTCOMES`."""
        assert outcome in OFF_SESSION_OUTCOMES, outcome
        with self.lock:
            self._off_session_next.setdefault(pm_id, []).append(outcome)

    def off_session_charges(self) -> list[dict[str, Any]]:
        """The PaymentIntents made by off-session charges (one per charge, whatever its outcome)."""
        with self.lock:
            return [copy.deepcopy(self.payment_intents[pi_id]) for pi_id in self._off_session]

    def decline(
        self, pi_id: str, message: str = "Your card was declined.", code: str = "card_declined"
    ) -> None:
        """A payment attempt fails: the PaymentIntent goes back to requires_payment_method."""
        with self.lock:
            self.payment_intents[pi_id].update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": code,
                    "decline_code": "generic_decline",
                    "message": message,
                },
            )

    def process(self, pi_id: str) -> None:
        with self.lock:
            self.payment_intents[pi_id]["status"] = "processing"

    def require_action(self, pi_id: str) -> None:
        with self.lock:
            self.payment_intents[pi_id]["status"] = "requires_action"

    # --- webhooks ---------------------------------------------------------------------------

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": random_id("evt_", 24),
            "object": "event",
            "api_version": "2025-01-01",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }

    def webhook(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A delivery as Stripe sends it: (raw body, headers with `Stripe-Signature`)."""
        body = json.dumps(self.event(event_type, obj)).encode()
        when = int(time.time()) if timestamp is None else timestamp
        signature = sign(body, secret or self.webhook_secret, when)
        return body, {"Content-Type": "application/json", "Stripe-Signature": signature}

    def intent(self, pi_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.payment_intents[pi_id])
