"""A local SendGrid v3 Mail Send API for the real `sendgrid` SDK.

    with FakeSendGrid() as sendgrid:
        settings = Settings(..., **sendgrid.settings())  # EMAIL_PROVIDER=sendgrid, key, host
        sendgrid.respond_for("bounce@example.com", 400, bad_request("personalizations.0.to.0.email",
                             "Does not contain a valid address."))
        ...  # send
        sendgrid.mails           # the JSON bodies accepted, in arrival order
        sendgrid.requests        # all: Recorded(method, path, params=<JSON body>, headers)

`POST /v3/mail/send` answers as SendGrid does: 202, an empty body and an `X-Message-Id` header
(also recorded in `message_ids`, by recipient). A request without `Authorization: Bearer <API_KEY>`
is a 401 with SendGrid's error JSON, a body without a recipient a 400. `respond_for(recipient,
status, body)` scripts the answer for one recipient (the first `to` address of the first
personalization, lower-cased): always, or the next `times` requests only (then the default again),
optionally after `delay` seconds (to make the client time out). Anything else is a 404.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from tests.support.fakes import FakeServer, Recorded, Response, json_response, random_id

API_KEY = "SG.fakekey0123.fakesecret0123456789"
SEND_PATH = "/v3/mail/send"


def errors_body(message: str, field: str | None = None) -> dict[str, Any]:
    """SendGrid's error JSON: {"errors": [{"message", "field", "help"}]}."""
    return {"errors": [{"message": message, "field": field, "help": None}]}


def bad_request(field: str, message: str) -> dict[str, Any]:
    return errors_body(message, field)


UNAUTHORIZED = errors_body("The provided authorization grant is invalid, expired, or revoked")
FORBIDDEN = errors_body("access forbidden")
TOO_MANY = errors_body("too many requests")
SERVER_ERROR = errors_body("internal server error")
_TO_REQUIRED = (
    "The to array is required for all personalization objects, and must have at least one email "
    "object with a valid email address."
)


@dataclass
class _Script:
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None
    delay: float


class FakeSendGrid(FakeServer):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.message_ids: dict[str, list[str]] = {}
        self._scripts: dict[str, _Script] = {}

    # --- test controls ---------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Settings fields that send email here with the real provider."""
        return {
            "email_provider": "sendgrid",
            "sendgrid_api_key": self.api_key,
            "sendgrid_api_host": self.url,
        }

    def respond_for(
        self,
        recipient: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer mail to `recipient` with `status` and `body` (JSON; None: empty), always or
        for the next `times` requests; a 2xx still records the mail and gets an X-Message-Id."""
        with self.lock:
            self._scripts[recipient.lower()] = _Script(status, body, headers or {}, times, delay)

    def reset(self) -> None:
        with self.lock:
            self._scripts.clear()
            self.requests.clear()
            self.message_ids.clear()

    @property
    def mails(self) -> list[dict[str, Any]]:
        """Bodies SendGrid accepted (answered 2xx), in arrival order."""
        with self.lock:
            return [r.params for r in self.requests if r.extra.get("accepted")]

    def mails_to(self, recipient: str) -> list[dict[str, Any]]:
        return [m for m in self.mails if recipient_of(m) == recipient.lower()]

    # --- the API ---------------------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        try:
            params: Any = json.loads(body) if body else {}
        except ValueError:
            params = {"_raw": body.decode("utf-8", "replace")}
        recorded = Recorded(method=method, path=path, params=params, headers=headers)
        with self.lock:
            self.requests.append(recorded)
        if (method, path) != ("POST", SEND_PATH):
            return json_response(404, errors_body(f"{method} {path} not found"))
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return json_response(401, UNAUTHORIZED)
        if "_raw" in params or not isinstance(params, dict):
            return json_response(400, errors_body("Bad Request"))
        recipient = recipient_of(params)
        if recipient is None:
            return json_response(400, bad_request("personalizations.0.to", _TO_REQUIRED))
        with self.lock:
            script = self._scripts.get(recipient)
            if script is not None and script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    del self._scripts[recipient]
        if script is not None and script.delay:
            time.sleep(script.delay)
        status = script.status if script is not None else 202
        out_headers = dict(script.headers) if script is not None else {}
        if 200 <= status < 300:
            message_id = random_id("", 22)
            out_headers.setdefault("X-Message-Id", message_id)
            with self.lock:
                recorded.extra["accepted"] = True
                self.message_ids.setdefault(recipient, []).append(out_headers["X-Message-Id"])
        payload = b"" if script is None or script.body is None else json.dumps(script.body).encode()
        if payload:
            out_headers.setdefault("Content-Type", "application/json")
        return status, out_headers, payload


def recipient_of(mail: dict[str, Any]) -> str | None:
    """The first `to` address of the first personalization, lower-cased."""
    try:
        address = mail["personalizations"][0]["to"][0]["email"]
    except (KeyError, IndexError, TypeError):
        return None
    return str(address).lower() if address else None
