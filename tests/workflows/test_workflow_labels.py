"""The words the Temporal Web UI shows of a workflow (domain/workflow_labels.py): contacts masked,
money as the receipts write it, times in the business's zone with its label."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain import display
from domain import workflow_labels as labels
from domain import workflow_timers as timers
from domain.money import format_money
from domain.service_requests.contracts import RequestPolicy
from domain.timefmt import DASH

ASHA = display.Customer(name="Asha Rao", email="asha.rao@example.com", phone="+919876543210")
ID = uuid.UUID("00000000-0000-0000-0000-000000001042")
# 7 Dec 2026, 04:30-07:30 UTC: 10:00-13:00 in the business's zone (Asia/Kolkata in the tests).
START, END = datetime(2026, 12, 7, 4, 30, tzinfo=UTC), datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
POLICY = RequestPolicy(
    escalate_after_seconds=4 * 3600, overdue_margin_seconds=3600, rating_seconds=7 * 86_400
)


def test_contacts_are_masked() -> None:
    assert display.mask_email("asha.rao@example.com") == "as…@…"
    assert display.mask_email("abc@example.com") == "a…@…"  # a short one shows less
    assert display.mask_phone("+91 98765 43210") == "+91…10"
    assert display.mask_phone("98765 43210") == "…10"
    assert display.mask_name("Asha Rao") == "Asha R."
    assert display.mask_name("  ") is None
    assert ASHA.contact == "as…@…" and ASHA.who == "Asha R. (as…@…)"
    assert display.Customer(phone="+919876543210").contact == "+91…10"
    assert display.Customer().contact == "no contact"


def test_a_checkout_says_plan_amount_and_masked_contact() -> None:
    facts = labels.OrderFacts(
        number=2077,
        plans=("Annual Home Care",),
        total_minor=199_900,
        currency="INR",
        customer=ASHA,
    )
    label = labels.checkout(ID, facts)
    assert label.summary == f"Annual Home Care · {format_money(199_900, 'INR')} · as…@…"
    assert label.summary == "Annual Home Care · 1,999.00 INR · as…@…"
    assert "**Purchase O-2077**" in label.details and f"/admin/payments/{ID}" in label.details
    for text in label:
        assert "asha.rao" not in text and "example.com" not in text and "98765" not in text
    two = labels.checkout(ID, facts.__class__(**{**facts.__dict__, "plans": ("A", "B", "C")}))
    assert two.summary.startswith("A +2 more · ")


def test_a_service_request_says_category_postcode_and_window_in_the_business_zone() -> None:
    label = labels.service_request(
        ID,
        labels.RequestFacts(category="Plumbing", plan="Annual Home Care", customer=ASHA),
        postal_code="560034",
        window_start=START,
        window_end=END,
    )
    assert label.summary == f"Plumbing visit · 560034 · window Mon 7 Dec, 10:00{DASH}13:00 IST"
    assert "UTC" not in label.summary
    assert "Asha R. (as…@…)" in label.details and "example.com" not in label.details


def test_timers_say_what_they_wait_for_and_when() -> None:
    deadline = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    assert timers.payment_wait(deadline, deadline) == "payment deadline Mon 7 Dec, 10:30 IST"
    assert timers.payment_wait(deadline, START) == (
        "payment deadline Mon 7 Dec, 10:30 IST · next check with the provider 10:00 IST"
    )
    assert (
        timers.subscription_due("reminder:30", START) == "renewal reminder due Mon 7 Dec, 10:00 IST"
    )
    assert timers.subscription_due("retry:2", START).startswith("renewal retry 2 due ")
    assert timers.subscription_due("grace_end", START).startswith("grace ends")
    assert timers.request_sla((START, "escalated"), POLICY) == (
        "waiting for a technician (SLA 4 h): escalated at Mon 7 Dec, 10:00 IST"
    )
    assert timers.request_sla((END, "overdue"), POLICY) == (
        "waiting for the visit: overdue if not completed by Mon 7 Dec, 13:00 IST"
    )
    assert timers.request_sla(None, POLICY) is None
    assert timers.rating_window(START, POLICY).endswith("until Mon 14 Dec, 10:00 IST")
    assert timers.code_expiry(START) == "verification code expires Mon 7 Dec, 10:00 IST"
    assert timers.campaign_pace(3, START) == "pace: batch 3 at 10:00 IST"
    assert timers.renewal_charge(3, 1) == "automatic renewal charge for period 3"
    assert timers.renewal_charge(3, 2) == "automatic renewal charge for period 3 (retry 1)"
    assert timers.subscription_now("active", 2, END, None) == (
        "**Now:** active · period 2 ends Mon 7 Dec 2026"
    )
    assert timers.campaign_now(1500, 10000, 3) == "**Now:** 1,500 of 10,000 sent in 3 batches"


def test_a_verification_masks_where_the_code_went() -> None:
    label = labels.verification(ID, purpose="login", channel="phone", destination="+919876543210")
    assert label.summary == "Sign-in code · +91…10"
    assert "9876543210" not in label.details


def test_a_summary_stays_on_one_line_and_a_continued_run_keeps_its_label() -> None:
    label = labels.checkout(
        ID,
        labels.OrderFacts(
            number=1, plans=("x" * 300,), total_minor=100, currency="INR", customer=ASHA
        ),
    )
    assert len(label.summary) == labels.SUMMARY_MAX and label.summary.endswith("…")
    assert "\n" not in label.summary
    memo = label.memo()
    assert timers.now_and_then("**Now:** active", memo) == f"**Now:** active\n\n{label.details}"
    assert timers.now_and_then("**Now:** active", {}) == "**Now:** active"
