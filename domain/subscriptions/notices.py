"""What a subscription's messages say to the customer, by kind. The activity that sends them only
delivers (through the outbox, once per key); the words live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.money import format_money


@dataclass(frozen=True)
class Facts:
    """What the words are made of."""

    plan: str
    ends_at: datetime
    grace_ends_at: datetime | None
    auto_renew: bool
    price_minor: int
    currency: str
    detail: str | None = None


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _day(at: datetime | None) -> str:
    return f"{at:%d %b %Y}" if at is not None else "soon"


def message(kind: str, facts: Facts) -> Message:
    """The message of `kind` (reminder:<days>, pre_debit, renewal_failed:<n>, grace_started,
    expired, renewed, cancelled, extended)."""
    plan, end = facts.plan, _day(facts.ends_at)
    price = format_money(facts.price_minor, facts.currency)
    base = kind.split(":")[0]
    if base == "reminder":
        offset = kind.split(":")[1]
        days = int(offset) if offset.isdigit() else 0
        when = "tomorrow" if days == 1 else f"in {days} days" if days else "soon"
        if facts.auto_renew:
            then = f"It renews automatically on your saved payment method ({price})."
        else:
            then = "Renew it in the app to keep your visits without a break."
        return Message(f"Your {plan} plan ends {when}", f"Your {plan} plan ends on {end}. {then}")
    if base == "pre_debit":
        return Message(
            f"{price} will be charged to renew your {plan} plan",
            f"As you asked, we will charge {price} to your saved payment method to renew your "
            f"{plan} plan, which ends on {end}. Turn automatic renewal off in the app to stop it.",
        )
    if base == "renewal_failed":
        return Message(
            f"We could not renew your {plan} plan",
            f"Charging your saved payment method for {plan} did not work: {facts.detail}.",
        )
    if base == "grace_started":
        return Message(
            f"Your {plan} plan has ended: renew by {_day(facts.grace_ends_at)}",
            f"Your {plan} plan ended on {end}. Renew it by {_day(facts.grace_ends_at)} to "
            "continue where it left off, with no gap.",
        )
    if base == "expired":
        return Message(
            f"Your {plan} plan has expired",
            f"Your {plan} plan has expired. You can renew it in the app at any time.",
        )
    if base == "renewed":
        return Message(
            f"Your {plan} plan is renewed",
            f"Thank you! Your {plan} plan is renewed until {end}.",
        )
    if base == "cancelled":
        return Message(
            f"Your {plan} plan is cancelled", f"Your {plan} plan is cancelled: {facts.detail}."
        )
    if base == "extended":
        return Message(
            f"Your {plan} plan now ends on {end}",
            f"Your {plan} plan was extended: it ends on {end}.",
        )
    raise ValueError(f"no message for {kind!r}")
