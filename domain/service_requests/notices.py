"""Who hears about each step of a service request, and as which message kind.

The words are the notifications domain's templates: `request.*` to the customer, `job.*` to the
technician, `alert.*` to admins.
"""

from __future__ import annotations

CUSTOMER = (
    "received",
    "assigned",
    "reassigned",
    "started",
    "completed",
    "cancelled",
    "rescheduled",
)
TECHNICIAN = {
    "assigned": "job.assigned",
    "reassigned": "job.assigned",  # to the one now going
    "unassigned": "job.unassigned",
    "cancelled": "job.cancelled",
    "rescheduled": "job.rescheduled",
}
ADMINS = ("escalated", "overdue")


def to_customer(step: str) -> str | None:
    return f"request.{step}" if step in CUSTOMER else None


def to_technician(step: str) -> str | None:
    return TECHNICIAN.get(step)


def to_admins(step: str) -> str | None:
    return f"alert.{step}" if step in ADMINS else None
