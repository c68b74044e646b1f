"""Email through SendGrid's v3 Mail Send API, with the official `sendgrid` SDK.

Each `Email` is one `POST /v3/mail/send` (SendGrid answers 202 with an `X-Message-Id` header):
from `EMAIL_FROM` ("Name <address>"), one recipient, the subject, a text/plain and a text/html part,
the preference topic as the SendGrid category and our delivery id in `custom_args` (SendGrid's
event webhook echoes both back). A promotion's unsubscribe link also goes out as the RFC 8058
one-click headers, so mail clients show their own "Unsubscribe" button.

The SDK is synchronous (urllib): requests run on this provider's own small thread pool, so a
slow SendGrid never blocks the event loop nor fills the loop's default executor (which asyncio
also uses for DNS lookups). A batch of `max_batch` emails is at most `concurrency` requests at
a time.

How SendGrid's answers read (see `Outcome` in base.py): 2xx sent; 429, 5xx, a refused connection
or a timeout retry; any other 4xx (a bad address, a bad or unauthorised key, a malformed message)
failed, with SendGrid's own reason. The API key is never part of a reason.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parseaddr
from typing import Any

import python_http_client.exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Category,
    CustomArg,
    From,
    Header,
    HtmlContent,
    Mail,
    PlainTextContent,
    Subject,
    To,
)
from sendgrid.helpers.mail.exceptions import SendGridException

from core.settings import Settings
from domain.notifications.ports import Email, Outcome

# Seconds for one request (connect and each read). SendGrid answers in well under a second; a
# request that takes longer is retried later rather than holding the activity.
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_CONCURRENCY = 8
LIST_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"  # RFC 8058


def parse_sender(value: str) -> From:
    """`EMAIL_FROM` ("HomePlans <no-reply@example.com>" or a bare address) as SendGrid's From."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        raise ValueError(f"EMAIL_FROM {value!r} has no email address")
    return From(address, name or None)


class SendGridEmail:
    name = "sendgrid"
    max_batch = 100

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if settings.sendgrid_api_key is None:
            raise ValueError("SENDGRID_API_KEY is not set")
        self._api_key = settings.sendgrid_api_key.get_secret_value()
        if not self._api_key:
            raise ValueError("SENDGRID_API_KEY is empty")
        self._sender = parse_sender(settings.email_from)
        self._client = SendGridAPIClient(self._api_key, host=settings.sendgrid_api_host.rstrip("/"))
        # python_http_client passes its client's timeout to urllib for every request it builds.
        self._client.client.timeout = timeout
        # Its first request adds Content-Type to the headers dict all its requests share; set it
        # now, so concurrent requests from the pool only ever read that dict.
        self._client.client.request_headers.setdefault("Content-Type", "application/json")
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sendgrid")

    def mail(self, email: Email) -> dict[str, Any]:
        """The v3 mail/send body for one email (built with the SDK's helpers)."""
        mail = Mail(
            from_email=self._sender,
            to_emails=To(email.to),
            subject=Subject(email.subject),
            plain_text_content=PlainTextContent(email.text),
            html_content=HtmlContent(email.html),
        )
        mail.category = Category(email.topic)
        mail.custom_arg = CustomArg("delivery_id", email.delivery_id)
        if email.unsubscribe_url:
            mail.header = [
                Header("List-Unsubscribe", f"<{email.unsubscribe_url}>"),
                Header("List-Unsubscribe-Post", LIST_UNSUBSCRIBE_POST),
            ]
        body: dict[str, Any] = mail.get()
        return body

    async def send(self, emails: Sequence[Email]) -> list[Outcome]:
        if len(emails) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} emails per call, got {len(emails)}")
        loop = asyncio.get_running_loop()
        return list(
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, self._send_one, email) for email in emails)
            )
        )

    def close(self) -> None:
        """Let the pool's threads go (they also end with the process)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- in a pool thread ------------------------------------------------------------------------

    def _send_one(self, email: Email) -> Outcome:
        try:
            body = self.mail(email)
        except (SendGridException, ValueError, TypeError) as exc:
            # The SDK refuses some content before sending (e.g. text that looks like an API key).
            detail = str(exc) or str(getattr(exc, "message", "") or "")
            return Outcome.failed(self._clean(f"not sendable: {type(exc).__name__}: {detail}"))
        try:
            response = self._client.send(body)
        except http_errors.HTTPError as exc:
            return self._error_outcome(exc)
        except (OSError, http.client.HTTPException) as exc:
            # urllib's URLError (refused, DNS, TLS), a reset, a timeout, a garbled answer: nothing
            # was accepted, as far as we know; try again later.
            return Outcome.retry(self._clean(f"SendGrid unreachable: {_describe(exc)}"))
        status = int(response.status_code)
        if 200 <= status < 300:
            return Outcome.sent(_header(response.headers, "X-Message-Id"))
        # urllib raises for every non-2xx answer; anything else here is unexpected: try again.
        return Outcome.retry(f"SendGrid answered {status}")

    def _error_outcome(self, exc: http_errors.HTTPError) -> Outcome:
        status = int(exc.status_code)
        reason = self._clean(f"SendGrid {status}: {_error_text(exc.body)}")
        if status == 429 or status >= 500:
            return Outcome.retry(reason)
        return Outcome.failed(reason)

    def _clean(self, text: str) -> str:
        """Never let the key into a reason (SendGrid does not echo it; this makes sure)."""
        return text.replace(self._api_key, "<api key>")


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    return str(value) if value else None


def _error_text(body: bytes | str | None) -> str:
    """SendGrid's reasons from its error JSON: {"errors": [{"message", "field", "help"}]}."""
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()[:200] or "no details"
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list) or not errors:
        return raw.strip()[:200] or "no details"
    parts = []
    for error in errors[:3]:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or "").strip()
        field = error.get("field")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(p for p in parts if p) or "no details"


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)  # URLError wraps the socket error
    inner = reason if isinstance(reason, BaseException) else exc
    return f"{type(inner).__name__}: {inner}" if str(inner) else type(inner).__name__
