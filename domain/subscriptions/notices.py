"""Which of a subscription's moments its customer is told about, and as which message kind.

The words are the notifications domain's templates (`subscription.*`); a workflow step's kind
(`reminder:30`, `renewal_failed:2`, `grace_started`) names the message and its small facts.
"""

from __future__ import annotations

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
