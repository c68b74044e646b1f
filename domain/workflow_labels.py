"""What the Temporal Web UI says of a workflow as it starts: its summary (one line, the list
page's column and the detail page's title) and its details (a short markdown block on the detail
page). Operators read these, so a contact is masked (never a whole email or phone), money is
formatted as everywhere else (`domain/money.py`) and a time is in the business's zone with its
label (`domain/display.py`). The words on its timers are in `domain/workflow_timers.py`.

The facts a label needs and a workflow's input does not carry (a plan's name, an amount, the
customer's contact) are given by whoever starts the workflow (the API and the activities, which
have the database at hand: `domain/workflow_facts.py`) as one of the dataclasses below: never
inside the workflow's input, which its history keeps for as long as the history is kept.

    checkout         Annual Home Care · 1,999.00 INR · as…@…
    service request  Plumbing visit · 560034 · window Sat 12 Dec, 10:00-13:00 IST
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from domain import display, timefmt
from domain.display import MORE, Customer, mask_email, mask_phone
from domain.money import format_money
from domain.numbers import order_number

SEP = " · "
# The Web UI shows a summary on one line: a long plan name is cut, not wrapped.
SUMMARY_MAX = 120


class Label(NamedTuple):
    """A workflow's static summary and static details."""

    summary: str
    details: str

    def memo(self) -> dict[str, str]:
        """The label in the memo too, for a workflow that continues as new: the server carries a
        memo to the next run, not the static summary and details (their user metadata)."""
        return {MEMO_SUMMARY: self.summary, MEMO_DETAILS: self.details}


MEMO_SUMMARY, MEMO_DETAILS = "summary", "details"


def _line(*parts: str | None) -> str:
    text = SEP.join(p for p in parts if p)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + MORE


def _details(title: str, facts: Sequence[tuple[str, str | None]], where: str) -> str:
    rows = [f"- **{name}:** {value}" for name, value in facts if value]
    return "\n".join([f"**{title}**", "", *rows, "", where])


def _admin(page: str, path: str) -> str:
    return f"Admin panel: {page}, `/admin/{path}`"


def _names(plans: Sequence[str]) -> str:
    if not plans:
        return "no plan"
    first = plans[0]
    return first if len(plans) == 1 else f"{first} +{len(plans) - 1} more"


# --- orders: checkout, late payment, refund -----------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    number: int
    plans: tuple[str, ...]
    total_minor: int
    currency: str
    customer: Customer
    renewal: bool = False  # the order renews a subscription (a renewal checkout)


def checkout(order_id: uuid.UUID, facts: OrderFacts) -> Label:
    what = "Renewal" if facts.renewal else "Purchase"
    money = format_money(facts.total_minor, facts.currency)
    return Label(
        _line(_names(facts.plans), money, facts.customer.contact),
        _details(
            f"{what} {order_number(facts.number)}",
            [
                ("Plans", ", ".join(facts.plans)),
                ("Total", money),
                ("Customer", facts.customer.who),
                ("Order id", str(order_id)),
            ],
            _admin("Payments", f"payments/{order_id}"),
        ),
    )


def late_payment(order_id: uuid.UUID, facts: OrderFacts, source: str) -> Label:
    money = format_money(facts.total_minor, facts.currency)
    number = order_number(facts.number)
    return Label(
        _line(f"Late payment {number}", _names(facts.plans), money, facts.customer.contact),
        _details(
            f"A payment event ({source}) after the checkout of {number} had ended",
            [
                ("Plans", ", ".join(facts.plans)),
                ("Total", money),
                ("Customer", facts.customer.who),
                ("Order id", str(order_id)),
            ],
            _admin("Payments", f"payments/{order_id}"),
        ),
    )


@dataclass(frozen=True)
class RefundFacts:
    amount_minor: int
    currency: str
    order_number: int
    customer: Customer
    reason: str | None = None


def refund(refund_id: uuid.UUID, order_id: uuid.UUID, facts: RefundFacts) -> Label:
    money = format_money(facts.amount_minor, facts.currency)
    number = order_number(facts.order_number)
    return Label(
        _line(f"Refund {money}", number, facts.customer.contact),
        _details(
            f"Refund of {number}",
            [
                ("Amount", money),
                ("Reason", facts.reason),
                ("Customer", facts.customer.who),
                ("Refund id", str(refund_id)),
                ("Order id", str(order_id)),
            ],
            _admin("Payments", f"payments/{order_id}"),
        ),
    )


def subscription_refund(
    refund_id: uuid.UUID,
    order_id: uuid.UUID,
    subscription_id: uuid.UUID,
    amount_minor: int,
    currency: str,
) -> Label:
    """A refund a cancelled subscription's workflow starts as its child (with what it has)."""
    money = format_money(amount_minor, currency)
    return Label(
        _line(f"Refund {money}", "subscription cancelled"),
        _details(
            "Refund of a cancelled subscription",
            [
                ("Amount", money),
                ("Subscription id", str(subscription_id)),
                ("Refund id", str(refund_id)),
                ("Order id", str(order_id)),
            ],
            _admin("Payments", f"payments/{order_id}"),
        ),
    )


# --- subscriptions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionFacts:
    plan: str
    customer: Customer


def subscription(
    subscription_id: uuid.UUID,
    user_id: uuid.UUID,
    facts: SubscriptionFacts,
    *,
    period: int,
    starts_at: datetime,
    ends_at: datetime,
    renewed_until: datetime | None,
) -> Label:
    until = f"until {display.day(renewed_until or ends_at)}"
    span = f"{display.day(starts_at)} {timefmt.DASH} {display.day(ends_at)}"
    return Label(
        _line(facts.plan, facts.customer.contact, until),
        _details(
            f"Subscription to {facts.plan}",
            [
                ("Customer", facts.customer.who),
                ("Period", f"{period}: {span}"),
                ("Renewed until", display.day(renewed_until) if renewed_until else None),
                ("Subscription id", str(subscription_id)),
            ],
            _admin("Customers", f"customers/{user_id}"),
        ),
    )


# --- service requests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFacts:
    category: str
    plan: str | None
    customer: Customer


def service_request(
    request_id: uuid.UUID,
    facts: RequestFacts,
    *,
    postal_code: str,
    window_start: datetime,
    window_end: datetime,
) -> Label:
    window = display.window(window_start, window_end)
    return Label(
        _line(f"{facts.category} visit", postal_code, f"window {window}"),
        _details(
            f"{facts.category} visit",
            [
                ("Window", window),
                ("Postcode", postal_code),
                ("Plan", facts.plan),
                ("Customer", facts.customer.who),
                ("Request id", str(request_id)),
            ],
            _admin("Service requests", f"requests/{request_id}"),
        ),
    )


# --- the rest ------------------------------------------------------------------------------------


def verification(user_id: uuid.UUID, *, purpose: str, channel: str, destination: str) -> Label:
    contact = mask_email(destination) if channel == "email" else mask_phone(destination)
    what = "Sign-in code" if purpose == "login" else f"Verify {channel}"
    return Label(
        _line(what, contact),
        _details(
            f"{what} ({purpose})",
            [("Sent to", contact), ("User id", str(user_id))],
            _admin("Customers", f"customers/{user_id}"),
        ),
    )


@dataclass(frozen=True)
class CampaignFacts:
    name: str
    audience: str | None = None  # `all`, `plan`, `category`, `expiring within 7 days`


def campaign(
    campaign_id: uuid.UUID, facts: CampaignFacts, *, batch_size: int, rate: float
) -> Label:
    audience = f"audience: {facts.audience}" if facts.audience else None
    return Label(
        _line(f"Campaign “{facts.name}”", audience),
        _details(
            f"Campaign “{facts.name}”",
            [
                ("Audience", facts.audience),
                ("Pace", f"{batch_size} per batch, {rate:g} messages/s"),
                ("Campaign id", str(campaign_id)),
            ],
            _admin("Campaigns", "campaigns"),
        ),
    )


def campaign_test(campaign_id: uuid.UUID, facts: CampaignFacts, staff: Customer) -> Label:
    return Label(
        _line(f"Test send of “{facts.name}”", f"to {staff.contact}"),
        _details(
            f"Test send of campaign “{facts.name}”",
            [("To", staff.who), ("Campaign id", str(campaign_id))],
            _admin("Campaigns", "campaigns"),
        ),
    )


def daily_report(hour: int, minute: int, zone: str) -> Label:
    return Label(
        "Daily report of the business day just ended",
        _details(
            "Daily revenue and activity report",
            [
                ("Runs", f"every day at {hour:02d}:{minute:02d} ({zone})"),
                ("Reports on", "the business day before the run was due"),
                ("Mailed to", "every admin"),
            ],
            _admin("Reports", "reports"),
        ),
    )
