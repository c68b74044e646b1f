"""An audit entry in words: what was done ("Changed the plan"), and each field that changed as a
person reads it ("Price: 2,999.00 INR → 3,499.00 INR", "Technician: — → Ravi Kumar"), from the
entry's before and after as they were recorded (plain dicts, see `service.record`).

Pure functions: the names of people and things an id refers to are looked up by `entities` and
passed in as `names` (id → name). An id with no name is not shown (people read names, not ids);
money is written with its currency, times in the business's zone, choices as words.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain import timefmt
from domain.money import format_money

NONE = "—"
ARROW = "→"
TEXT_MAX = 80
CREATED_MAX = 6  # fields listed for an entry that made something (its after, no before)

PHRASES = {
    "plan.create": "Created the plan",
    "plan.update": "Changed the plan",
    "plan.publish": "Put the plan on sale",
    "plan.archive": "Took the plan off sale",
    "plan.delete": "Deleted the plan",
    "plan.reorder": "Moved the plan in the list",
    "category.create": "Created the category",
    "category.update": "Changed the category",
    "category.activate": "Turned the category on",
    "category.deactivate": "Turned the category off",
    "category.reorder": "Moved the category in the list",
    "order.refund": "Refunded a payment",
    "subscription.extend": "Extended a plan",
    "subscription.cancel": "Cancelled a plan",
    "service_request.assign": "Assigned the visit",
    "service_request.reassign": "Gave the visit to another technician",
    "service_request.start": "Started the visit",
    "service_request.complete": "Completed the visit",
    "service_request.cancel": "Cancelled the visit",
    "service_request.reschedule": "Moved the visit",
    "support_callback.take": "Took the callback",
    "support_callback.assign": "Handed the callback over",
    "support_callback.close": "Closed the callback",
    "support_call.create": "Logged a call",
    "campaign.create": "Created the campaign",
    "campaign.start": "Started the campaign",
    "campaign.pause": "Paused the campaign",
    "campaign.resume": "Resumed the campaign",
    "campaign.cancel": "Cancelled the campaign",
    "campaign.test_send": "Sent themselves a test of the campaign",
    "technician.create": "Added the technician",
    "technician.update": "Changed the technician",
    "user.update": "Changed the account",
}

LABELS = {
    "name": "Name",
    "current_version.name": "Name",
    "slug": "Slug",
    "status": "Status",
    "display_order": "Place in the list",
    "badge": "Badge",
    "description": "Description",
    "current_version.description": "Description",
    "current_version.number": "Version",
    "current_version.price.amount_minor": "Price",
    "current_version.price.tax_rate_bps": "Tax rate",
    "current_version.price.includes_tax": "Price includes tax",
    "current_version.validity_days": "Valid for",
    "current_version.visit_cap": "Visits",
    "current_version.categories": "Categories",
    "current_version.inclusions": "What is covered",
    "icon": "Icon",
    "is_active": "Active",
    "role": "Role",
    "technician_id": "Technician",
    "taken_by_id": "Held by",
    "outcome": "Outcome",
    "notes": "Notes",
    "ends_at": "Ends",
    "window_start": "Visit from",
    "window_end": "Visit until",
    "amount_minor": "Amount",
    "refund_minor": "Refund",
    "title": "Title",
    "audience": "Audience",
    "phone": "Phone",
    "number": "Number",
    "direction": "Direction",
    "purpose": "About",
    "called_at": "Called at",
    "skills": "Skills",
    "zones": "Areas",
    "working_hours": "Working hours",
    "timezone": "Time zone",
    "channels": "Sent by",
    "to": "Sent to",
    "sent": "Sent",
    "total": "Audience size",
    "days": "Days",
}
# Recorded, but not what a person reads: ids of rows, derived figures, bookkeeping.
HIDDEN = {
    "id",
    "reason",  # shown as the entry's reason
    "currency",
    "sold",
    "created_at",
    "updated_at",
    "current_version.id",
    "current_version.created_at",
    "current_version.sold_at",
    "current_version.price.currency",
    "current_version.price.minor_units",
    "current_version.price.tax_minor",
    "current_version.price.total_minor",
}
NAMED_IDS = {"technician_id", "taken_by_id", "plan_id", "category_id"}
WORDS = {
    "in_progress": "In progress",
    "not_needed": "No longer needed",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "outbound": "We called them",
    "inbound": "They called us",
}


class Change(BaseModel):
    field: str
    before: str | None = Field(description="What it was; null when the entry did not record it")
    after: str


def phrase(action: str) -> str:
    """What was done, in words; an action not listed is said as recorded, in words."""
    if action in PHRASES:
        return PHRASES[action]
    what, _, verb = action.partition(".")
    return f"{verb.replace('_', ' ').capitalize()}: {what.replace('_', ' ')}".strip(": ")


def _flat(values: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in ("audience", "working_hours"):
            out |= _flat(value, f"{path}.")
        else:
            out[path] = value
    return out


def _label(path: str) -> str | None:
    if path in LABELS:
        return LABELS[path]
    last = path.rsplit(".", 1)[-1]
    if path in HIDDEN or last in HIDDEN or last.endswith("_id") or last == "id":
        return None
    return last.replace("_", " ").capitalize()


def _choice(value: str) -> str:
    return WORDS.get(value, value.replace("_", " ").capitalize())


def _time(value: str) -> str | None:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return timefmt.moment(at) if at.tzinfo is not None else None


def _list(value: list[Any]) -> str:
    if not value:
        return NONE
    if all(isinstance(v, dict) for v in value):
        if all("name" in v for v in value):
            return ", ".join(str(v["name"]) for v in value)
        if all("category" in v and "visits" in v for v in value):
            return ", ".join(f"{v['category']} ({v['visits']} visits)" for v in value)
        return f"{len(value)} items"
    return ", ".join(_choice(str(v)) if isinstance(v, str) else str(v) for v in value)


def _audience(value: Mapping[str, Any], names: Mapping[str, str]) -> str:
    kind = value.get("kind")
    if kind == "all":
        return "All customers"
    if kind == "plan":
        return f"Holders of {names.get(str(value.get('plan_id')), 'a plan')}"
    if kind == "category":
        return f"Holders of a {names.get(str(value.get('category_id')), 'category')} plan"
    if kind == "expiring":
        return f"Plans ending within {value.get('within_days')} days"
    return "Customers"


def value_words(
    path: str, value: Any, record: Mapping[str, Any], names: Mapping[str, str]
) -> str | None:
    """One recorded value as a person reads it; None when it cannot be shown (an unnamed id)."""
    last = path.rsplit(".", 1)[-1]
    if value is None or value == "":
        return NONE
    if last in NAMED_IDS:
        return names.get(str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if last.endswith("_minor") and value == 0:
        return "Nothing"
    if last.endswith("_minor") and isinstance(value, int):
        currency = record.get(path.rsplit(".", 1)[0] + ".currency") or record.get("currency")
        return format_money(value, str(currency)) if currency else f"{value:,}"
    if last == "tax_rate_bps" and isinstance(value, int):
        return f"{value / 100:g}%"
    if last == "validity_days" and isinstance(value, int):
        return f"{value} days"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, list):
        return _list(value)
    if isinstance(value, dict):
        return _audience(value, names) if last == "audience" else "changed"
    text = str(value)
    if last in ("status", "outcome", "role", "direction", "purpose"):
        return _choice(text)
    shown = _time(text) if len(text) >= 19 and text[4] == "-" else None
    if shown is not None:
        return shown
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1].rstrip() + "…"


def changes(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    names: Mapping[str, str],
) -> list[Change]:
    """Each field the entry set, in words: for a change, what it was (null when the entry did not
    record it) and what it became; for an entry that made something (no before), its first few
    fields; for one that removed something (no after), none: its summary says so."""
    if after is None:
        return []
    old, new = _flat(before), _flat(after)
    out: list[Change] = []
    for path, value in new.items():
        label = _label(path)
        if label is None or (path in old and old[path] == value):
            continue
        now = value_words(path, value, new, names)
        if path in old:
            was = value_words(path, old[path], old, names)
            if was is None or was == now:
                continue
        else:
            was = None
            if now == NONE:
                continue
        if now is None:
            continue
        out.append(Change(field=label, before=was, after=now))
    return out[:CREATED_MAX] if before is None else out


def ids_named(*records: Mapping[str, Any] | None) -> set[uuid.UUID]:
    """The ids these records refer to that a person knows by name (a technician, a customer)."""
    found: set[uuid.UUID] = set()
    for record in records:
        for path, value in _flat(record).items():
            last = path.rsplit(".", 1)[-1]
            if last == "audience" and isinstance(value, dict):
                value = value.get("plan_id") or value.get("category_id")
                last = "plan_id"
            if last in NAMED_IDS and isinstance(value, str):
                try:
                    found.add(uuid.UUID(value))
                except ValueError:
                    continue
    return found
