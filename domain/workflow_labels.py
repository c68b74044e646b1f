"""What the Temporal Web UI says of a workflow: its summary (one line, the list page's column and
the detail page's title), its details (a short markdown block on the detail page) and the words
on its timers. Operators read these, so a contact is masked (never a whole email or phone), money
is formatted as everywhere else (`domain/money.py`) and a time is in the business's zone with its
label (`domain/timefmt.py`).

The facts a label needs and a workflow's input does not carry (a plan's name, an amount, the
customer's contact) are given by whoever starts the workflow (the API and the activities, which
have the database at hand) as one of the dataclasses below: never inside the workflow's input,
which its history keeps for as long as the history is kept. The timers' words are written here
too, pure functions of what the workflow has, so a workflow calls them in its sandbox (the zone is
read once from the settings and cached; timefmt never reads the clock).

    checkout         Annual Home Care · 1,999.00 INR · as…@…
    service request  Plumbing visit · 560034 · Sat 12 Dec, 10:00-13:00 IST
    timer            payment deadline Sat 12 Dec, 10:30 IST
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from temporalio import workflow

from domain import timefmt
from domain.money import format_money
from domain.numbers import order_number
from domain.service_requests.contracts import RequestPolicy

SEP = " · "
MORE = "…"
# The Web UI shows a summary on one line: a long plan name is cut, not wrapped.
SUMMARY_MAX = 120


# --- times: in the business's zone, also inside a workflow's sandbox ---------------------------


def _zone() -> ZoneInfo:
    """The business's zone. Its first use in a process may be inside a workflow (a timer's words):
    the settings and the zone's file are then read as the worker has them, passed through the
    sandbox (they are configuration, the same for every run and every replay), and cached."""
    with workflow.unsafe.imports_passed_through():
        return timefmt.zone()


def _when(at: datetime) -> str:
    return timefmt.when(at, _zone())


def _clock(at: datetime) -> str:
    return timefmt.clock(at, _zone())


def _day(at: datetime) -> str:
    return timefmt.day(at, _zone())


def _window(start: datetime, end: datetime) -> str:
    return timefmt.window(start, end, _zone())


class Label(NamedTuple):
    """A workflow's static summary and static details."""

    summary: str
    details: str

    def memo(self) -> dict[str, str]:
        """The label in the memo too, for a workflow that continues as new: the server carries a
        memo to the next run, not the static summary and details (their user metadata)."""
        return {MEMO_SUMMARY: self.summary, MEMO_DETAILS: self.details}


MEMO_SUMMARY, MEMO_DETAILS = "summary", "details"


def now_and_then(now: str, memo: Mapping[str, Any]) -> str:
    """A workflow's current details (the detail page, while a worker runs it): its state now,
    then its label as started (from the memo: a continued run has no static details)."""
    started = memo.get(MEMO_DETAILS)
    return f"{now}\n\n{started}" if isinstance(started, str) and started else now


# --- masking ------------------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """`asha.rao@example.com` -> `as…@…`: at most the first two characters of the local part
    (one of a short one), never its domain. Enough to tell two customers apart in a list,
    not enough to write to them."""
    local, _, _domain = email.strip().partition("@")
    keep = 2 if len(local) > 3 else 1
    return f"{local[:keep]}{MORE}@{MORE}"


def mask_phone(phone: str) -> str:
    """`+919876543210` -> `+91…10`: the country code (when written with `+`) and the last two
    digits."""
    digits = "".join(c for c in phone if c.isdigit())
    head = f"+{digits[:2]}" if phone.strip().startswith("+") and len(digits) > 6 else ""
    return f"{head}{MORE}{digits[-2:]}"


def mask_name(name: str | None) -> str | None:
    """`Asha Rao` -> `Asha R.`: the first name and the initials of the rest."""
    parts = (name or "").split()
    if not parts:
        return None
    return " ".join([parts[0], *(f"{p[0]}." for p in parts[1:])])


@dataclass(frozen=True)
class Customer:
    """Who a workflow is for, as people read it; shown masked only."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def contact(self) -> str:
        if self.email:
            return mask_email(self.email)
        if self.phone:
            return mask_phone(self.phone)
        return "no contact"

    @property
    def who(self) -> str:
        """`Asha R. (as…@…)`."""
        name = mask_name(self.name)
        return f"{name} ({self.contact})" if name else self.contact


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
    until = f"until {_day(renewed_until or ends_at)}"
    span = f"{_day(starts_at)} {timefmt.DASH} {_day(ends_at)}"
    return Label(
        _line(facts.plan, facts.customer.contact, until),
        _details(
            f"Subscription to {facts.plan}",
            [
                ("Customer", facts.customer.who),
                ("Period", f"{period}: {span}"),
                ("Renewed until", _day(renewed_until) if renewed_until else None),
                ("Subscription id", str(subscription_id)),
            ],
            _admin("Customers", f"customers/{user_id}"),
        ),
    )


def subscription_now(
    status: str, period: int, ends_at: datetime, renewed_until: datetime | None, auto_renew: bool
) -> str:
    """A subscription's state, for its current details."""
    until = f"renewed until {_day(renewed_until)}" if renewed_until else f"ends {_day(ends_at)}"
    renews = "automatic renewal on" if auto_renew else "automatic renewal off"
    return f"**Now:** {status} · period {period} {until} · {renews}"


def subscription_due(kind: str, at: datetime) -> str:
    """The words on a subscription's timer: what falls due and when."""
    when = _when(at)
    if kind.startswith("reminder:"):
        return f"renewal reminder due {when}"
    words = {
        "pre_debit": "pre-debit notice due",
        "charge": "automatic renewal charge due",
        "check_charge": "renewal charge checked again",
        "period_end": "period ends",
        "grace_end": "grace ends (then expired)",
    }
    if kind.startswith("retry:"):
        return f"renewal retry {kind.partition(':')[2]} due {when}"
    return f"{words.get(kind, kind)} {when}"


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
    window = _window(window_start, window_end)
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


def request_sla(due: tuple[datetime, str] | None, policy: RequestPolicy) -> str | None:
    """The words on a request's SLA timer (`due`: when, and `escalated` or `overdue`)."""
    if due is None:
        return None
    at, kind = due
    if kind == "escalated":
        sla = _hours(policy.escalate_after_seconds)
        return f"waiting for a technician (SLA {sla}): escalated at {_when(at)}"
    return f"waiting for the visit: overdue if not completed by {_when(at)}"


def rating_window(now: datetime, policy: RequestPolicy) -> str:
    until = now + timedelta(seconds=policy.rating_seconds)
    return f"waiting for the customer's rating until {_when(until)}"


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h" if rest == 0 else f"{seconds // 60} min"


# --- the rest ------------------------------------------------------------------------------------


def payment_wait(deadline: datetime, wake: datetime) -> str:
    """The checkout's timer: the next provider check, or the deadline itself."""
    if wake >= deadline:
        return f"payment deadline {_when(deadline)}"
    return f"payment deadline {_when(deadline)} · next check with the provider {_clock(wake)}"


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


def code_expiry(at: datetime) -> str:
    return f"verification code expires {_when(at)}"


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


def campaign_now(status: str, sent: int, total: int, batches: int) -> str:
    return f"**Now:** {status} · {sent:,} of {total:,} sent in {batches:,} batches"


def campaign_pace(batch: int, at: datetime) -> str:
    return f"pace: batch {batch} at {_clock(at)}"


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
