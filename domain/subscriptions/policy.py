"""The rules of a subscription's life, as pure functions: when its reminders, charges and endings
fall due, and what a cancellation refunds. No I/O and no clock of their own (the caller passes
`now`), so SubscriptionWorkflow runs them deterministically and the API and tests can too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.money import format_money
from domain.subscriptions.contracts import PeriodTerms, Policy


@dataclass(frozen=True)
class Due:
    """Something the workflow does at a time: `kind` is reminder:<days>, pre_debit, charge,
    retry:<k>, period_end or grace_end."""

    at: datetime
    kind: str


def grace_end(period: PeriodTerms, policy: Policy) -> datetime:
    return period.ends_at + timedelta(seconds=policy.grace_seconds)


def reminder_kind(seconds: int) -> str:
    """`reminder:30` for 30 days before the end (`reminder:90s` for a length of seconds)."""
    days, rest = divmod(seconds, 86_400)
    return f"reminder:{days}" if rest == 0 else f"reminder:{seconds}s"


def reminders(period: PeriodTerms, policy: Policy) -> list[Due]:
    """The reminders of a period, earliest first: those that fall after the period began (a
    30-day reminder of a 10-day plan would be before it)."""
    due = [
        Due(period.ends_at - timedelta(seconds=seconds), reminder_kind(seconds))
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
