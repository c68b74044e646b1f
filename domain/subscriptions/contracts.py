"""What crosses the Temporal boundary for a subscription: SubscriptionWorkflow's input (the state
it carries from one period to the next through continue-as-new), its messages and answers, and
the inputs and outputs of its activities.

The API, the workflow and the activities all import from here (and never from each other).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from domain.contracts import Contract


class SubscriptionStatus(StrEnum):
    active = "active"
    past_due = "past_due"  # active, but the automatic renewal was declined: retrying (dunning)
    grace = "grace"  # the period ended unrenewed; a renewal now keeps continuity
    expired = "expired"
    cancelled = "cancelled"


# What a customer can still use: book visits, renew.
LIVE = (SubscriptionStatus.active, SubscriptionStatus.past_due, SubscriptionStatus.grace)


class PeriodKind(StrEnum):
    initial = "initial"  # bought at checkout
    renewal = "renewal"  # renewed by the customer
    auto_renewal = "auto_renewal"  # charged on the saved method


class ReservationStatus(StrEnum):
    reserved = "reserved"  # held for a service request
    consumed = "consumed"  # the visit happened
    released = "released"  # the request was cancelled: the visit is back


def subscription_workflow_id(subscription_id: uuid.UUID) -> str:
    return f"subscription:{subscription_id}"


# Refund ids of cancellations, made from the subscription and the order refunded.
CANCEL_REFUNDS = uuid.UUID("0b5f3a0e-8f1f-4c0a-9f37-6a2b9d6c1e24")


def cancellation_refund_id(subscription_id: uuid.UUID, order_id: uuid.UUID) -> uuid.UUID:
    """The refund of `order_id` that cancelling the subscription makes (or that a renewal paid
    after cancelling makes): one per pair, so a retry finds it, and the order's refunds can say
    which came from a cancellation."""
    return uuid.uuid5(CANCEL_REFUNDS, f"{subscription_id}:{order_id}")


# By name, for the activity that starts the workflow (activities never import workflows/);
# tests/workflows/test_workflow_replay.py checks they are the workflow's own.
SUBSCRIPTION_WORKFLOW = "SubscriptionWorkflow"
RENEWAL_PAID_SIGNAL = "renewal_paid"


class Policy(Contract):
    """The lifecycle's lengths and rules, from the settings when the subscription's workflow
    starts, carried from period to period (a settings change applies to workflows started
    after it). Lengths in seconds: the settings speak in days, tests in seconds."""

    reminder_seconds: list[int]  # reminders, this long before the end of a period
    grace_seconds: int  # after it, during which a renewal keeps continuity
    auto_renew_lead_seconds: int  # the automatic renewal is charged this long before the end
    dunning_retry_seconds: list[int]  # retries, this long after a declined automatic renewal
    pre_debit_notice_seconds: int  # Razorpay / UPI recurring: the notice before the debit
    refund_full_within_days: int
    quote_ttl_seconds: int
    # Where the automatic renewal is charged ("razorpay" sends a pre-debit notice first).
    provider: str
    # How long a "day" of the lifecycle lasts: a plan's validity of N days is N of these.
    # Always 86400 but in development (SUBSCRIPTION_DAY_SECONDS, for `make chaos`); histories
    # recorded before it existed carry none, so they replay with a real day.
    day_seconds: int = 86_400


class Allowance(Contract):
    """Visits a period grants: per covered category, and in total."""

    visit_cap: int
    per_category: dict[uuid.UUID, int]


class PeriodTerms(Contract):
    number: int
    kind: PeriodKind
    starts_at: datetime
    ends_at: datetime
    plan_version_id: uuid.UUID
    order_id: uuid.UUID | None  # the order that paid for it
    paid_minor: int  # what it cost (the refund policy's base)
    currency: str
    allowance: Allowance


class Reservation(Contract):
    request_id: uuid.UUID
    category_id: uuid.UUID
    period: int
    status: ReservationStatus


class SubscriptionInput(Contract):
    subscription_id: uuid.UUID
    user_id: uuid.UUID
    plan_id: uuid.UUID
    status: SubscriptionStatus
    period: PeriodTerms
    # Renewals already paid for the periods after this one (the first starts at its end).
    upcoming: list[PeriodTerms] = Field(default_factory=list)
    auto_renew: bool = False
    payment_method_id: uuid.UUID | None = None
    # This period's visits (reserved or consumed), and reservations still open from earlier ones.
    reservations: list[Reservation] = Field(default_factory=list)
    # Renewal orders already applied (a signal sent again by a retried activity is ignored).
    applied_orders: list[uuid.UUID] = Field(default_factory=list)
    policy: Policy


# --- messages -----------------------------------------------------------------------------------


class RenewalPaid(Contract):
    """A renewal order was paid (its checkout settled): the next period is bought."""

    order_id: uuid.UUID
    plan_version_id: uuid.UUID
    validity_days: int
    paid_minor: int
    currency: str
    allowance: Allowance
    kind: PeriodKind = PeriodKind.renewal


class AutoRenewChange(Contract):
    enabled: bool
    payment_method_id: uuid.UUID | None = None
    actor: str


class VisitRequest(Contract):
    request_id: uuid.UUID
    category_id: uuid.UUID


class VisitRef(Contract):
    request_id: uuid.UUID


class QuoteRequest(Contract):
    actor: str


class RefundLine(Contract):
    """Part of a cancellation's refund: what goes back of one order."""

    order_id: uuid.UUID
    amount_minor: int


class CancellationQuote(Contract):
    quote_id: uuid.UUID
    refund_minor: int  # the sum of `refunds`
    currency: str
    why: str
    valid_until: datetime
    period: int
    refunds: list[RefundLine]


class RefundChoice(StrEnum):
    quoted = "quoted"  # the refund of the quote given (customers: always)
    policy = "policy"  # the policy's refund as of now (staff)
    none = "none"  # no refund (staff, with a reason)


class CancelRequest(Contract):
    actor: str
    actor_id: uuid.UUID | None
    reason: str
    refund: RefundChoice
    quote_id: uuid.UUID | None = None


class ExtendRequest(Contract):
    days: int
    reason: str
    actor: str


class SubscriptionState(Contract):
    """The live state, as the workflow has it (query)."""

    subscription_id: uuid.UUID
    status: SubscriptionStatus
    period: int
    starts_at: datetime
    ends_at: datetime
    grace_ends_at: datetime
    renewed_until: datetime | None
    auto_renew: bool
    visits_left: dict[uuid.UUID, int]
    visits_left_total: int
    next_reminder_at: datetime | None
    next_charge_at: datetime | None
    dunning_attempt: int


class CancelOutcome(Contract):
    status: SubscriptionStatus
    refunds: list[RefundMade]
    refund_minor: int
    currency: str
    why: str


# --- activities ---------------------------------------------------------------------------------


class SubscriptionRef(Contract):
    subscription_id: uuid.UUID


class Schedule(Contract):
    """What the workflow will do next, for the app to show."""

    subscription_id: uuid.UUID
    next_reminder_at: datetime | None
    next_charge_at: datetime | None


class StatusChange(Contract):
    """A change to record (and announce): the subscription's new status or period."""

    subscription_id: uuid.UUID
    period: int
    kind: str  # grace_started, expired, renewed, extended, auto_renew_on, ...
    at: datetime
    actor: str
    from_status: SubscriptionStatus | None
    to_status: SubscriptionStatus | None
    detail: str | None = None
    # A declined renewal: when it is tried again (None: it is not); the timeline says it in words.
    retry_at: datetime | None = None
    ends_at: datetime | None = None
    grace_ends_at: datetime | None = None
    auto_renew: bool | None = None
    payment_method_id: uuid.UUID | None = None
    # What the workflow will do next once this change is made, written with it (one transaction
    # and one local activity instead of two); None from runs before that (they publish it apart).
    schedule: Schedule | None = None


class Notice(Contract):
    """A message to the customer about their subscription, sent once per key
    (`sub:<id>:period:<n>:<kind>`)."""

    subscription_id: uuid.UUID
    period: int
    kind: str  # reminder:30, pre_debit, renewal_failed:1, ...
    at: datetime
    ends_at: datetime
    detail: str | None = None


class NewPeriod(Contract):
    subscription_id: uuid.UUID
    terms: PeriodTerms
    at: datetime
    actor: str
    from_status: SubscriptionStatus


class PeriodStart(Contract):
    """A new run begins a period paid ahead: the read model moves to it."""

    subscription_id: uuid.UUID
    number: int
    at: datetime


class PeriodRecorded(Contract):
    # False: this order had already paid for a period (an earlier run applied it): nothing new.
    recorded: bool
    number: int


class ReservationChange(Contract):
    subscription_id: uuid.UUID
    reservation: Reservation
    at: datetime


class ChargeRenewal(Contract):
    subscription_id: uuid.UUID
    period: int  # the period being bought
    attempt: int  # 0: the first charge; k: the k-th dunning retry
    payment_method_id: uuid.UUID | None


class RenewalCharge(Contract):
    """What an automatic renewal's charge came to."""

    order_id: uuid.UUID | None
    state: str  # succeeded, failed, processing
    failure_reason: str | None = None
    paid: RenewalPaid | None = None


class CancellationRecord(Contract):
    subscription_id: uuid.UUID
    period: int
    at: datetime
    actor: str
    actor_id: uuid.UUID | None
    reason: str
    from_status: SubscriptionStatus
    refunds: list[RefundLine]
    why: str


class RefundMade(Contract):
    refund_id: uuid.UUID
    order_id: uuid.UUID
    amount_minor: int  # at most what the order still had refundable


class LateRenewal(Contract):
    """A renewal paid after the subscription was cancelled (its checkout was under way)."""

    subscription_id: uuid.UUID
    order_id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None = None


class CancellationRecorded(Contract):
    refunds: list[RefundMade]
