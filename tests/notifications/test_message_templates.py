"""Every message kind renders, in the recipient's time zone, without leaking a placeholder, and
the HTML of an email escapes whatever a person typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.notifications.kinds import KINDS
from domain.notifications.render import render

AT = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)  # 10:00 in Bengaluru
VISIT: dict[str, Any] = {
    "request_id": "r",
    "category": "Plumbing",
    "window_start": AT,
    "window_end": AT.replace(hour=6, minute=30),
    "address": "12 MG Road, Bengaluru",
    "technician": "Ravi",
    "note": "moved by the customer",
}
ASHA = {"name": "Asha Rao", "phone": "+919812300299"}
FAMILY_FACTS: dict[str, dict[str, Any]] = {
    "account": {"code": "123456", "minutes": 10},
    "order": {
        "order_id": "o",
        "receipt_number": "HP-2026-000042",
        "total_minor": 149900,
        "currency": "INR",
        "receipt_url": "http://127.0.0.1:8000/api/v1/orders/o/receipt",
    },
    "subscription": {
        "subscription_id": "s",
        "plan": "Plumbing Gold",
        "ends_at": AT,
        "grace_ends_at": AT,
        "auto_renew": True,
        "price_minor": 149900,
        "currency": "INR",
        "days": 7,
        "detail": "the card was declined",
        "retry_at": AT,
    },
    "request": VISIT,
    "job": {**VISIT, "customer": ASHA},
    "campaign": {"campaign_id": "c", "title": "20% off", "body": "This week.\n\nOnly."},
    "report": {
        "day": "Fri 04 Dec 2026",
        "report_day": "2026-12-04",
        "time_zone": "Asia/Kolkata",
        "orders": 3,
        "sales": [(449700, "INR")],
        "refunds": [(1000, "INR")],
        "new_users": 5,
        "requests_created": 4,
        "requests_completed": 2,
        "requests_cancelled": 0,
        "download_url": "http://127.0.0.1:8000/api/v1/admin/reports/daily/2026-12-04?format=csv",
    },
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_renders_its_words_in_the_recipients_zone(name: str) -> None:
    facts = {**FAMILY_FACTS[KINDS[name].family], "tz": ZoneInfo("Asia/Kolkata"), "name": "Asha"}
    facts |= {"unsubscribe_url": None, "reason": None}
    message = render(name, facts, email=True)
    for part in (message.subject, message.text, message.push_title, message.push_body):
        assert part and "None" not in part and "{{" not in part, (name, part)
    assert message.html is not None and message.subject in message.html
    if KINDS[name].family in ("request", "job"):  # 04:30 UTC is never shown: 10:00 in her zone is
        words = message.subject + message.text
        assert "04:30" not in words and ("10:00" in words or not re.search(r"\d:\d", words))


def _job(customer: dict[str, Any] | None) -> dict[str, Any]:
    return {**FAMILY_FACTS["job"], "customer": customer, "tz": ZoneInfo("Asia/Kolkata")}


def test_a_new_job_tells_the_technician_whom_to_call_but_not_on_the_locked_screen() -> None:
    message = render("job.assigned", _job(ASHA), email=True)
    assert message.text.endswith("\n\nCustomer: Asha Rao, +919812300299."), message.text
    assert message.html is not None and "Asha Rao, +919812300299" in message.html
    # The push shows the first paragraph: where and when, not the customer's number.
    assert "+919812300299" not in message.push_body and "Asha" not in message.push_body
    assert "12 MG Road" in message.push_body


@pytest.mark.parametrize(
    ("customer", "says"),
    [
        ({"name": "Asha Rao", "phone": None}, "Customer: Asha Rao (no phone number given)."),
        ({"name": None, "phone": "+919812300299"}, "Customer: +919812300299."),
        ({"name": None, "phone": None}, None),
        (None, None),  # not the technician's to reach any more (completed, cancelled, moved)
    ],
)
def test_a_new_job_says_what_is_known_of_the_customer_and_nothing_when_not_theirs(
    customer: dict[str, Any] | None, says: str | None
) -> None:
    message = render("job.assigned", _job(customer), email=True)
    paragraphs = message.text.split("\n\n")
    assert paragraphs[0] == "Plumbing at 12 MG Road, Bengaluru, Sat 5 Dec, 10:00\u201312:00 IST."
    assert paragraphs[1:] == ([says] if says else []), message.text
    assert "None" not in message.text and "Customer" not in message.push_body


def test_the_email_escapes_what_people_typed_and_the_text_keeps_it() -> None:
    facts = {
        **FAMILY_FACTS["campaign"],
        "title": "Tom & Jerry's <b>offer</b>",
        "body": "<script>alert(1)</script>",
        "tz": ZoneInfo("UTC"),
        "name": None,
        "unsubscribe_url": "http://x/unsubscribe?token=a&b",
        "reason": None,
    }
    message = render("campaign.promotion", facts, email=True)
    assert message.subject == "Tom & Jerry's <b>offer</b>"
    assert message.text == "<script>alert(1)</script>"
    assert message.html is not None
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "Tom &amp; Jerry&#39;s &lt;b&gt;offer&lt;/b&gt;" in message.html
    assert 'href="http://x/unsubscribe?token=a&amp;b"' in message.html


def test_a_missing_fact_is_an_error_not_a_blank() -> None:
    with pytest.raises(Exception, match="plan"):
        render("subscription.expired", {"tz": ZoneInfo("UTC")})
