"""The rules of a subscription's life, as pure functions: when its reminders, charges and endings
fall due, and what a cancellation refunds. No I/O and no clock of their own (the caller passes
`now`), so SubscriptionWorkflow runs them deterministically and the API and tests can too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.money import format_money
from domain.subscriptions.contracts import (
    LIVE,
    CancellationQuote,
    PeriodTerms,
    Policy,
    RefundLine,
    RenewalPaid,
    Reservation,
    ReservationStatus,
    SubscriptionStatus,
)

# How often a renewal charge the provider has not settled yet is asked about again.
PROCESSING_CHECK = timedelta(hours=1)


@dataclass(frozen=True)
class Due:
    """Something the workflow does at a time: `kind` is reminder:<days>, pre_debit, charge,
    retry:<k>, period_end or grace_end."""

    at: datetime
    kind: str


def grace_end(period: PeriodTerms, policy: Policy) -> datetime:
    return period.ends_at + timedelta(seconds=policy.grace_seconds)


def reminder_kind(seconds: int, day_seconds: int = 86_400) -> str:
    """`reminder:30` for 30 days before the end (`reminder:90s` for a length of seconds)."""
    days, rest = divmod(seconds, day_seconds)
    return f"reminder:{days}" if rest == 0 else f"reminder:{seconds}s"


def reminders(period: PeriodTerms, policy: Policy) -> list[Due]:
    """The reminders of a period, earliest first: those that fall after the period began (a
    30-day reminder of a 10-day plan would be before it)."""
    due = [
        Due(
            period.ends_at - timedelta(seconds=seconds),
            reminder_kind(seconds, policy.day_seconds),
        )
        for seconds in sorted(set(policy.reminder_seconds), reverse=True)
        if seconds > 0
    ]
    return [d for d in due if d.at > period.starts_at]


def charge_at(period: PeriodTerms, policy: Policy) -> datetime:
    """When the automatic renewal of `period` is charged: a lead before its end (a debit
    started on a cycle's last day lands in the next one and fails), never before it began."""
    lead = timedelta(seconds=policy.auto_renew_lead_seconds)
    return max(period.ends_at - lead, period.starts_at)


def pre_debit_at(period: PeriodTerms, policy: Policy) -> datetime | None:
    """Razorpay and UPI recurring debits need a notice before the debit."""
    if policy.provider != "razorpay":
        return None
    return charge_at(period, policy) - timedelta(seconds=policy.pre_debit_notice_seconds)


def retry_at(first_failure: datetime, attempt: int, policy: Policy) -> datetime | None:
    """When the `attempt`-th retry (1-based) of a declined renewal is due; None past the last."""
    if attempt > len(policy.dunning_retry_seconds):
        return None
    return first_failure + timedelta(seconds=policy.dunning_retry_seconds[attempt - 1])


def dunning_retry(
    first_failure: datetime, attempt: int, period: PeriodTerms, policy: Policy
) -> datetime | None:
    """When a renewal declined `attempt` times is tried again; None when it is not (past the
    last retry, or a retry that would fall after the period's grace has ended)."""
    retry = retry_at(first_failure, attempt, policy)
    if retry is None or retry >= grace_end(period, policy):
        return None
    return retry


@dataclass(frozen=True)
class Charging:
    """Where the automatic renewal of the current period stands: `attempt` charges made (0 none
    yet, 1 the first, 2 the first retry...), the first declined at `first_failure`, and whether
    one the provider has not settled yet is out (`processing`)."""

    attempt: int = 0
    first_failure: datetime | None = None
    processing: bool = False


def charges_due(
    period: PeriodTerms, policy: Policy, charging: Charging, *, done: Iterable[str], now: datetime
) -> list[Due]:
    """The charges of the automatic renewal still due in `period` (with the Razorpay pre-debit
    notice before the first), given what was `done` already."""
    if charging.processing:
        return [Due(now + PROCESSING_CHECK, "check_charge")]
    if charging.attempt == 0:
        due = []
        notice_at = pre_debit_at(period, policy)
        if notice_at is not None and "pre_debit" not in done:
            due.append(Due(notice_at, "pre_debit"))
        due.append(Due(charge_at(period, policy), "charge"))
        return due
    assert charging.first_failure is not None
    retry = dunning_retry(charging.first_failure, charging.attempt, period, policy)
    return [] if retry is None else [Due(retry, f"retry:{charging.attempt}")]


def next_due(
    period: PeriodTerms,
    policy: Policy,
    *,
    status: SubscriptionStatus,
    renewed: bool,
    done: Iterable[str],
    charges: list[Due],
) -> Due:
    """The earliest thing due: a reminder not sent yet, a charge (`charges`, when the renewal is
    automatic), the period's end, or, in grace, grace's end. Renewed already: only the end."""
    if renewed:  # nothing to do until the period rolls over
        return Due(period.ends_at, "period_end")
    sent = set(done)
    candidates: list[Due] = []
    if status in (SubscriptionStatus.active, SubscriptionStatus.past_due):
        candidates += [d for d in reminders(period, policy) if d.kind not in sent]
        candidates.append(Due(period.ends_at, "period_end"))
    else:  # grace
        candidates.append(Due(grace_end(period, policy), "grace_end"))
    candidates += charges
    return min(candidates, key=lambda d: d.at)


def schedule(
    period: PeriodTerms,
    policy: Policy,
    *,
    status: SubscriptionStatus,
    renewed: bool,
    done: Iterable[str],
    charges: list[Due],
) -> tuple[datetime | None, datetime | None]:
    """The next reminder and the next charge, as the customer sees them (none once renewed or
    ended; `charges` empty when the renewal is not automatic; the pre-debit notice is no charge)."""
    if status not in LIVE or renewed:
        return None, None
    sent = set(done)
    reminder = min((d.at for d in reminders(period, policy) if d.kind not in sent), default=None)
    charge = min((d.at for d in charges if d.kind != "pre_debit"), default=None)
    return reminder, charge


# --- the visit ledger ---------------------------------------------------------------------------


def visits_left(
    period: PeriodTerms, reservations: Iterable[Reservation]
) -> tuple[dict[uuid.UUID, int], int]:
    """Visits left in `period`, per category and in all (a reservation not released counts)."""
    used = [
        r
        for r in reservations
        if r.period == period.number and r.status != ReservationStatus.released
    ]
    per_category = {
        category: visits - sum(1 for r in used if r.category_id == category)
        for category, visits in period.allowance.per_category.items()
    }
    return per_category, period.allowance.visit_cap - len(used)


def cannot_reserve(
    status: SubscriptionStatus,
    period: PeriodTerms,
    reservations: Iterable[Reservation],
    category_id: uuid.UUID,
) -> str | None:
    """Why a visit of `category_id` cannot be reserved now; None when it can."""
    if status not in LIVE:
        return f"this subscription is {status.value}: it has no visits to book"
    per_category, total = visits_left(period, reservations)
    if category_id not in per_category:
        return "this plan does not cover that category"
    allowed = period.allowance.per_category[category_id]
    if per_category[category_id] <= 0:
        return f"all {allowed} visits of this category in this period are booked or used"
    if total <= 0:
        return f"all {period.allowance.visit_cap} visits of this period are booked or used"
    return None


# --- renewing and extending ---------------------------------------------------------------------


def renewed_period(
    last: PeriodTerms, paid: RenewalPaid, *, starts_at: datetime, day_seconds: int = 86_400
) -> PeriodTerms:
    """The period a renewal paid for, after `last` (the last one bought), from `starts_at`: the
    plan's validity in days of `day_seconds` (the Policy's)."""
    return PeriodTerms(
        number=last.number + 1,
        kind=paid.kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(seconds=paid.validity_days * day_seconds),
        plan_version_id=paid.plan_version_id,
        order_id=paid.order_id,
        paid_minor=paid.paid_minor,
        currency=paid.currency,
        allowance=paid.allowance,
    )


def extended(
    period: PeriodTerms, upcoming: list[PeriodTerms], days: int
) -> tuple[PeriodTerms, list[PeriodTerms]]:
    """The current period ending `days` later, and the periods paid ahead moved with it."""
    shift = timedelta(days=days)
    return period.model_copy(update={"ends_at": period.ends_at + shift}), [
        p.model_copy(update={"starts_at": p.starts_at + shift, "ends_at": p.ends_at + shift})
        for p in upcoming
    ]


# --- cancellation -------------------------------------------------------------------------------


def cancellation_quote(
    period: PeriodTerms,
    upcoming: list[PeriodTerms],
    reservations: Iterable[Reservation],
    policy: Policy,
    *,
    now: datetime,
    quote_id: uuid.UUID,
) -> CancellationQuote:
    """What cancelling now refunds: the current period's share (`refund_quote`), and every
    renewal paid for a period not begun, in full."""
    consumed = sum(
        1
        for r in reservations
        if r.period == period.number and r.status == ReservationStatus.consumed
    )
    current = refund_quote(
        period, now=now, visits_used=consumed, full_within_days=policy.refund_full_within_days
    )
    lines, why = [], [current.why]
    if period.order_id is not None and current.refund_minor > 0:
        lines.append(RefundLine(order_id=period.order_id, amount_minor=current.refund_minor))
    for ahead in upcoming:
        if ahead.order_id is not None and ahead.paid_minor > 0:
            lines.append(RefundLine(order_id=ahead.order_id, amount_minor=ahead.paid_minor))
            why.append(f"and the renewal for period {ahead.number} in full")
    return CancellationQuote(
        quote_id=quote_id,
        refund_minor=sum(line.amount_minor for line in lines),
        currency=period.currency,
        why="; ".join(why),
        valid_until=now + timedelta(seconds=policy.quote_ttl_seconds),
        period=period.number,
        refunds=lines,
    )


@dataclass(frozen=True)
class Quote:
    refund_minor: int
    why: str


def refund_quote(
    period: PeriodTerms, *, now: datetime, visits_used: int, full_within_days: int
) -> Quote:
    """What cancelling now refunds of what the current period cost.

    In full within `full_within_days` of the period's start when no visit was used; otherwise
    the unused share of the period's time, less each visit used at its per-visit value (the
    price over the visits the period allows), never below zero.
    """
    paid, currency = period.paid_minor, period.currency
    money = lambda minor: format_money(minor, currency)  # noqa: E731
    if paid <= 0:
        return Quote(0, "nothing was paid for this period")
    since_start = now - period.starts_at
    if visits_used == 0 and since_start <= timedelta(days=full_within_days):
        return Quote(
            paid,
            f"a full refund of {money(paid)}: cancelled within {full_within_days} days "
            "with no visit used",
        )
    length = period.ends_at - period.starts_at
    left = min(max(period.ends_at - now, timedelta(0)), length)
    time_value = paid * int(left.total_seconds()) // int(length.total_seconds())
    per_visit = paid // max(period.allowance.visit_cap, 1)
    visits_value = visits_used * per_visit
    refund = max(time_value - visits_value, 0)
    days_left, days = left.days, length.days
    why = f"{money(time_value)} for the {days_left} of {days} days left"
    if visits_used:
        plural = "visit" if visits_used == 1 else "visits"
        why += f", less {visits_used} {plural} used at {money(per_visit)} each"
    return Quote(refund, f"a refund of {money(refund)}: {why}")
