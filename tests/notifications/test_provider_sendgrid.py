"""The SendGrid email provider, with the real `sendgrid` SDK against a local SendGrid
(tests/support/fake_sendgrid.py): what goes over the wire and how each answer reads.

Imports only providers and settings (no database, no Temporal).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import Settings
from domain.notifications.ports import Email, Outcome, Result
from providers.notifications import notification_providers
from providers.notifications.sendgrid import SendGridEmail, parse_sender
from tests.support.fake_sendgrid import (
    FORBIDDEN,
    SEND_PATH,
    SERVER_ERROR,
    TOO_MANY,
    FakeSendGrid,
    bad_request,
    errors_body,
)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def email(n: int = 1, **overrides: Any) -> Email:
    values: dict[str, Any] = {
        "delivery_id": f"delivery-{n}",
        "to": f"asha{n}@example.com",
        "subject": f"Your visit is booked ({n})",
        "text": f"Hello Asha, your visit {n} is on Monday.",
        "html": f"<p>Hello Asha, your visit <b>{n}</b> is on Monday.</p>",
        "topic": "service_updates",
    }
    values.update(overrides)
    return Email(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[FakeSendGrid]:
    with FakeSendGrid() as server:
        yield server


@pytest.fixture
def provider(fake: FakeSendGrid) -> Iterator[SendGridEmail]:
    sender = SendGridEmail(settings(**fake.settings()))
    yield sender
    sender.close()


# --- the request --------------------------------------------------------------------------------


async def test_a_transactional_email_is_posted_as_sendgrid_v3_json(
    fake: FakeSendGrid, provider: SendGridEmail
) -> None:
    [outcome] = await provider.send([email()])

    assert outcome.result is Result.sent
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", SEND_PATH)
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert request.headers["content-type"] == "application/json"
    body = request.params
    assert body["from"] == {"email": "no-reply@homeplans.example", "name": "HomePlans"}
    assert body["personalizations"] == [{"to": [{"email": "asha1@example.com"}]}]
    assert body["subject"] == "Your visit is booked (1)"
    # SendGrid wants text/plain first, then text/html.
    assert body["content"] == [
        {"type": "text/plain", "value": "Hello Asha, your visit 1 is on Monday."},
        {"type": "text/html", "value": "<p>Hello Asha, your visit <b>1</b> is on Monday.</p>"},
    ]
    assert body["categories"] == ["service_updates"]
    assert body["custom_args"] == {"delivery_id": "delivery-1"}
    # No unsubscribe link, no List-Unsubscribe headers (nor any other).
    assert "headers" not in body
    # The message id is SendGrid's X-Message-Id.
    assert outcome.provider_message_id == fake.message_ids["asha1@example.com"][0]
    assert outcome.provider_message_id


async def test_a_promotion_carries_the_one_click_unsubscribe_headers(
    fake: FakeSendGrid, provider: SendGridEmail
) -> None:
    url = "https://homeplans.example/api/v1/unsubscribe?token=abc.def"
    [outcome] = await provider.send([email(topic="promotions", unsubscribe_url=url)])

    assert outcome.result is Result.sent
    [mail] = fake.mails
    assert mail["headers"] == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert mail["categories"] == ["promotions"]


def test_the_sender_is_read_from_email_from() -> None:
    assert parse_sender("HomePlans <no-reply@homeplans.example>").get() == {
        "name": "HomePlans",
        "email": "no-reply@homeplans.example",
    }
    assert parse_sender("ops@homeplans.example").get() == {"email": "ops@homeplans.example"}
    with pytest.raises(ValueError, match="no email address"):
        parse_sender("HomePlans")


async def test_a_batch_keeps_its_order_and_runs_concurrently_but_bounded(
    fake: FakeSendGrid,
) -> None:
    # Each answer takes 0.2 s: 20 emails, 5 at a time, take about 0.8 s, not 4 s.
    for n in range(20):
        fake.respond_for(f"asha{n}@example.com", 202, delay=0.2)
    fake.respond_for(
        "asha7@example.com",
        400,
        bad_request("personalizations.0.to.0.email", "Does not contain a valid address."),
    )
    sender = SendGridEmail(settings(**fake.settings()), concurrency=5)
    try:
        started = time.monotonic()
        outcomes = await sender.send([email(n) for n in range(20)])
        elapsed = time.monotonic() - started
    finally:
        sender.close()

    assert [o.result for o in outcomes] == [
        Result.failed if n == 7 else Result.sent for n in range(20)
    ]
    for n, outcome in enumerate(outcomes):
        if n != 7:
            assert outcome.provider_message_id == fake.message_ids[f"asha{n}@example.com"][0]
    assert len(fake.requests) == 20
    assert elapsed < 3.0


async def test_more_than_max_batch_is_refused(provider: SendGridEmail) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        await provider.send([email(n) for n in range(provider.max_batch + 1)])
    assert await provider.send([]) == []


# --- how answers read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected", "reason"),
    [
        (202, None, Result.sent, None),
        (200, None, Result.sent, None),
        (
            400,
            bad_request("personalizations.0.to.0.email", "Does not contain a valid address."),
            Result.failed,
            "SendGrid 400: personalizations.0.to.0.email: Does not contain a valid address.",
        ),
        (403, FORBIDDEN, Result.failed, "SendGrid 403: access forbidden"),
        (413, errors_body("too large"), Result.failed, "SendGrid 413: too large"),
        (429, TOO_MANY, Result.retry, "SendGrid 429: too many requests"),
        (500, SERVER_ERROR, Result.retry, "SendGrid 500: internal server error"),
        (502, "<html>bad gateway</html>", Result.retry, "SendGrid 502:"),
        (503, None, Result.retry, "SendGrid 503: no details"),
    ],
)
async def test_each_answer_reads_as_an_outcome(
    fake: FakeSendGrid,
    provider: SendGridEmail,
    status: int,
    body: Any,
    expected: Result,
    reason: str | None,
) -> None:
    fake.respond_for("asha1@example.com", status, body)

    [outcome] = await provider.send([email()])

    assert outcome.result is expected
    if reason is None:
        assert outcome.reason is None
        assert outcome.provider_message_id
    else:
        assert outcome.reason is not None
        assert outcome.reason.startswith(reason)
        assert outcome.provider_message_id is None


async def test_a_wrong_key_fails_and_the_reason_never_shows_a_key(fake: FakeSendGrid) -> None:
    wrong = "SG.wrongkey0123.wrongsecret0123456789"
    sender = SendGridEmail(settings(**{**fake.settings(), "sendgrid_api_key": wrong}))
    try:
        [outcome] = await sender.send([email()])
    finally:
        sender.close()

    assert outcome.result is Result.failed
    assert outcome.reason == (
        "SendGrid 401: The provided authorization grant is invalid, expired, or revoked"
    )
    [request] = fake.requests
    assert request.headers["authorization"] == f"Bearer {wrong}"
    assert fake.mails == []


async def test_a_key_echoed_by_the_service_is_blanked_out(
    fake: FakeSendGrid, provider: SendGridEmail
) -> None:
    fake.respond_for("asha1@example.com", 401, errors_body(f"key {fake.api_key} is revoked"))

    [outcome] = await provider.send([email()])

    assert outcome.reason == "SendGrid 401: key <api key> is revoked"


async def test_a_refused_connection_is_retried_later() -> None:
    sender = SendGridEmail(
        settings(
            email_provider="sendgrid",
            sendgrid_api_key="SG.k.s",
            sendgrid_api_host=f"http://127.0.0.1:{free_port()}",
        )
    )
    try:
        outcomes = await sender.send([email(1), email(2)])
    finally:
        sender.close()

    assert [o.result for o in outcomes] == [Result.retry, Result.retry]
    assert outcomes[0].reason is not None
    assert outcomes[0].reason.startswith("SendGrid unreachable: ConnectionRefusedError")


async def test_a_slow_answer_times_out_and_is_retried(fake: FakeSendGrid) -> None:
    fake.respond_for("asha1@example.com", 202, delay=2.0)
    sender = SendGridEmail(settings(**fake.settings()), timeout=0.3)
    try:
        started = time.monotonic()
        [outcome] = await sender.send([email()])
        elapsed = time.monotonic() - started
    finally:
        sender.close()

    assert outcome.result is Result.retry
    assert outcome.reason is not None
    assert "timed out" in outcome.reason
    assert elapsed < 1.5


async def test_content_the_sdk_refuses_fails_that_email_only(
    fake: FakeSendGrid, provider: SendGridEmail
) -> None:
    # The SDK refuses to send text that looks like a SendGrid API key.
    leaky = email(2, text="SG.abcdefghij.klmnopqrstuvwxyz0123")

    outcomes = await provider.send([email(1), leaky, email(3)])

    assert [o.result for o in outcomes] == [Result.sent, Result.failed, Result.sent]
    assert (outcomes[1].reason or "").startswith("not sendable: ApiKeyIncludedException")
    assert [m["custom_args"]["delivery_id"] for m in fake.mails] in (
        ["delivery-1", "delivery-3"],
        ["delivery-3", "delivery-1"],
    )


# --- chosen by settings -------------------------------------------------------------------------


async def test_settings_alone_switch_email_to_sendgrid(fake: FakeSendGrid) -> None:
    providers = notification_providers(settings(**fake.settings()))
    assert providers.email.name == "sendgrid"
    assert providers.push.name == "outbox"

    assert await providers.email.send([email()]) == [
        Outcome(Result.sent, provider_message_id=fake.message_ids["asha1@example.com"][0])
    ]
    assert isinstance(providers.email, SendGridEmail)
    providers.email.close()


def test_sendgrid_without_a_key_does_not_start() -> None:
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        settings(email_provider="sendgrid")
