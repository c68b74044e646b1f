"""The system's Temporal search attributes as the `temporal` CLI names them: (name, type).

A copy, in plain strings, of `domain.contracts.SEARCH_ATTRIBUTES`, so that the supervisor of
`make run` registers them without importing the Temporal SDK (tens of MB it would then hold for
as long as the system runs). tests/platform/test_devstack.py fails when the two differ: add an
attribute there and here."""

from __future__ import annotations

ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("CustomerId", "Keyword"),
    ("OrderId", "Keyword"),
    ("SubscriptionId", "Keyword"),
    ("PlanId", "Keyword"),
    ("RequestStatus", "Keyword"),
    ("TechnicianId", "Keyword"),
    ("FlowStatus", "Keyword"),
    ("SubscriptionEndsAt", "Datetime"),
    ("RequestId", "Keyword"),
    ("RequestEscalated", "Bool"),
    ("RequestOverdue", "Bool"),
)
