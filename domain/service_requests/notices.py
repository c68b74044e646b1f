"""What a service request's messages say, by step and recipient. The activity only delivers them
(through the outbox, once per `request:<id>:<step>:<recipient>` key); the words live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Facts:
    category: str
    window_start: datetime
    window_end: datetime
    address: str
    technician: str | None
    note: str | None


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _when(facts: Facts) -> str:
    return f"{facts.window_start:%a %d %b, %H:%M} to {facts.window_end:%H:%M} UTC"


def to_customer(kind: str, facts: Facts) -> Message | None:
    """The customer's message for a step; None for steps they are not told about."""
    what, when = f"your {facts.category} visit", _when(facts)
    texts = {
        "received": (
            f"We have your {facts.category} request",
            f"We have your request for {when}. We will tell you who is coming.",
        ),
        "assigned": (
            f"{facts.technician} will come for {what}",
            f"{facts.technician} will come on {when}.",
        ),
        "reassigned": (
            f"{facts.technician} will come for {what} instead",
            f"{facts.technician} will come on {when}.",
        ),
        "started": (f"{facts.technician} has started {what}", f"Work has started on {what}."),
        "completed": (
            f"{what.capitalize()} is done",
            f"{what.capitalize()} is done. Tell us how it went: rate it in the app.",
        ),
        "cancelled": (
            f"{what.capitalize()} is cancelled",
            f"{what.capitalize()} on {when} is cancelled.",
        ),
        "rescheduled": (f"{what.capitalize()} has moved", f"{what.capitalize()}: {facts.note}."),
    }
    if kind not in texts:
        return None
    subject, body = texts[kind]
    return Message(subject, body)


def to_technician(kind: str, facts: Facts) -> Message | None:
    when = _when(facts)
    texts = {
        "assigned": (
            f"New job: {facts.category}, {when}",
            f"{facts.category} at {facts.address}, {when}.",
        ),
        "reassigned": (
            f"New job: {facts.category}, {when}",
            f"{facts.category} at {facts.address}, {when}.",
        ),
        "unassigned": (f"Job taken off you: {facts.category}, {when}", "Someone else will go."),
        "cancelled": (
            f"Job cancelled: {facts.category}, {when}",
            f"The visit at {facts.address} is off.",
        ),
        "rescheduled": (
            f"Job moved: {facts.category}",
            f"The visit at {facts.address}: {facts.note}.",
        ),
    }
    if kind not in texts:
        return None
    subject, body = texts[kind]
    return Message(subject, body)


def to_admins(kind: str, facts: Facts) -> Message | None:
    texts = {
        "escalated": (
            f"Unassigned: {facts.category} request for {_when(facts)}",
            f"A {facts.category} request at {facts.address} has no technician yet ({facts.note}).",
        ),
        "overdue": (
            f"Overdue: {facts.category} visit of {_when(facts)}",
            f"The {facts.category} visit at {facts.address} is not completed ({facts.note}).",
        ),
    }
    if kind not in texts:
        return None
    subject, body = texts[kind]
    return Message(subject, body)
