"""Which of a subscription's moments its customer is told about, and as which message kind.

The words are the notifications domain's templates (`subscription.*`); a workflow step's kind
(`reminder:30`, `renewal_failed:2`, `grace_started`) names the message and its small facts.
"""

from __future__ import annotations

from datetime import datetime

from domain import timefmt
from domain.notifications.contracts import Ref

# Status changes the customer hears about (reminders and pre-debit notices always are).
ANNOUNCED = ("grace_started", "expired", "renewal_failed", "extended")


def announced(kind: str) -> bool:
    return kind.split(":")[0] in ANNOUNCED


def message(kind: str) -> tuple[str, dict[str, Ref]]:
    """The message kind of a step and what its number means (`reminder:7` -> days 7)."""
    base, _, number = kind.partition(":")
    refs: dict[str, Ref] = {}
    if base == "reminder":
        refs["days"] = int(number) if number.isdigit() else 0
    elif base == "renewal_failed":
        refs["attempt"] = int(number) if number.isdigit() else 1
    return f"subscription.{base}", refs


def renewal_failure(reason: str, retry_at: datetime | None) -> str:
    """A declined renewal in the timeline: why, and whether and when it is tried again (the
    customer's message says the same in its template, in their own zone)."""
    if retry_at is None:
        return f"{reason}; we will not try again: renew in the app to keep your plan"
    return f"{reason}; we will try again on {timefmt.day(retry_at)}; you can also renew in the app"
