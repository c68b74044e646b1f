"""What an audit entry is about, by name, and the screen that shows it: a plan is its name, a
visit its category and customer, a payment its customer; a call or a callback is on a customer's
record. Looked up for a page of entries at once (a query per kind of thing named), with the
names of the people and things the entries' before and after refer to by id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import Role, User
from domain.audit.models import AuditEntry
from domain.campaigns.models import Campaign
from domain.catalog.models import Plan, PlanVersion, ServiceCategory
from domain.orders.models import Order
from domain.service_requests.models import ServiceRequest
from domain.subscriptions.models import Subscription
from domain.support.models import SupportCall, SupportCallback
from domain.technicians.models import Technician

_SHOWN = func.coalesce(User.name, User.email, User.phone)


class EntityRef(BaseModel):
    """What an entry is about: its kind (the screen that shows it), its id and its name."""

    kind: str = Field(
        description="request, payment, plan, category, customer, staff, technician, campaign, "
        "callback, call or subscription; another entity type as recorded"
    )
    id: str
    name: str | None = Field(description="What people call it; null when it no longer exists")
    customer_id: uuid.UUID | None = Field(
        default=None, description="Whose record it is on (a call, a callback, a plan held)"
    )


KINDS = {
    "service_request": "request",
    "order": "payment",
    "plan": "plan",
    "category": "category",
    "technician": "technician",
    "campaign": "campaign",
    "support_callback": "callback",
    "support_call": "call",
    "subscription": "subscription",
}


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _people(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, _SHOWN, User.role).where(User.id.in_(wanted)))
    return {i: (name or "Someone", role) for i, name, role in rows.all()}


async def _plans(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(
        select(Plan.id, PlanVersion.name)
        .join(PlanVersion, PlanVersion.id == Plan.current_version_id)
        .where(Plan.id.in_(wanted))
    )
    return {i: n for i, n in rows.all()}


async def _named(db: AsyncSession, column: Any, name: Any, ids: set[uuid.UUID]) -> dict[Any, Any]:
    if not ids:
        return {}
    return {i: n for i, n in (await db.execute(select(column, name).where(column.in_(ids))))}


async def _owned(db: AsyncSession, model: Any, ids: set[uuid.UUID], *extra: Any) -> list[Any]:
    if not ids:
        return []
    return list(await db.execute(select(model.id, model.user_id, *extra).where(model.id.in_(ids))))


async def describe(
    db: AsyncSession, entries: Sequence[AuditEntry], named_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, EntityRef], dict[str, str]]:
    """Each entry's entity (by entry id), and the names of `named_ids` (by id as text)."""
    by_type: dict[str, set[uuid.UUID]] = {}
    for entry in entries:
        found = _uuid(entry.entity_id)
        if found is not None:
            by_type.setdefault(entry.entity_type, set()).add(found)
    requests = await _owned(
        db, ServiceRequest, by_type.get("service_request", set()), ServiceRequest.category_id
    )
    orders = await _owned(db, Order, by_type.get("order", set()))
    subscriptions = await _owned(
        db, Subscription, by_type.get("subscription", set()), Subscription.plan_id
    )
    callbacks = await _owned(db, SupportCallback, by_type.get("support_callback", set()))
    calls = await _owned(db, SupportCall, by_type.get("support_call", set()))
    owners = [row[1] for row in (*requests, *orders, *subscriptions, *callbacks, *calls)]
    people = await _people(db, [*by_type.get("user", set()), *owners, *named_ids])
    plan_ids = {*by_type.get("plan", set()), *named_ids, *(row[2] for row in subscriptions)}
    plans = await _plans(db, plan_ids)
    category_ids = {*by_type.get("category", set()), *named_ids, *(row[2] for row in requests)}
    categories = await _named(db, ServiceCategory.id, ServiceCategory.name, category_ids)
    technicians = await _named(
        db, Technician.id, Technician.name, {*by_type.get("technician", set()), *named_ids}
    )
    campaigns = await _named(db, Campaign.id, Campaign.title, by_type.get("campaign", set()))

    def person(user_id: uuid.UUID) -> str:
        return people.get(user_id, ("A customer", Role.customer.value))[0]

    names: dict[uuid.UUID, tuple[str, uuid.UUID | None]] = {}
    for rid, owner, category_id in requests:
        names[rid] = (f"{categories.get(category_id, 'Service')} visit of {person(owner)}", owner)
    for oid, owner in orders:
        names[oid] = (f"Payment by {person(owner)}", owner)
    for sid, owner, plan_id in subscriptions:
        names[sid] = (f"{plans.get(plan_id, 'A plan')} held by {person(owner)}", owner)
    for cid, owner in callbacks:
        names[cid] = (f"Callback for {person(owner)}", owner)
    for cid, owner in calls:
        names[cid] = (f"Call with {person(owner)}", owner)
    simple = {**plans, **categories, **technicians, **campaigns}

    refs: dict[uuid.UUID, EntityRef] = {}
    for entry in entries:
        found = _uuid(entry.entity_id)
        kind = KINDS.get(entry.entity_type, entry.entity_type)
        name, customer = names.get(found, (simple.get(found), None)) if found else (None, None)
        if entry.entity_type == "user" and found in people:
            name, role = people[found]
            kind = "customer" if role == Role.customer.value else "staff"
        if name is None:  # gone since: the name it had, when the entry recorded one
            name = _recorded_name(entry)
        refs[entry.id] = EntityRef(kind=kind, id=entry.entity_id, name=name, customer_id=customer)
    ids = {str(i): n for i, (n, _) in people.items()}
    ids |= {str(i): str(n) for i, n in simple.items()}
    return refs, ids


def _recorded_name(entry: AuditEntry) -> str | None:
    for record in (entry.before, entry.after):
        if not record:
            continue
        version = record.get("current_version")
        for value in (
            record.get("name"),
            record.get("title"),
            version.get("name") if isinstance(version, dict) else None,
        ):
            if isinstance(value, str) and value:
                return value
    return None
