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
    "request": {
        "request_id": "r",
        "category": "Plumbing",
        "window_start": AT,
        "window_end": AT.replace(hour=6, minute=30),
        "address": "12 MG Road, Bengaluru",
        "technician": "Ravi",
        "note": "moved by the customer",
    },
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
    if KINDS[name].family == "request":  # 04:30 UTC is never shown: 10:00 in her zone is
        words = message.subject + message.text
        assert "04:30" not in words and ("10:00" in words or not re.search(r"\d:\d", words))


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
