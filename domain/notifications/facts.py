"""What a message's words are made of, read from the business ids its sender passed.

One loader per family of kinds (`kinds.Kind.family`). The loaders only read: they run inside the
send, after the business change was committed, so a message says what is true when it goes.
A loader is also told whom the message is to (`To`): what a technician may be told depends on
whether the job is still theirs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain import timefmt
from domain.catalog.models import PlanVersion, ServiceCategory
from domain.notifications.contracts import Ref, To
from domain.orders.cart import address_line
from domain.orders.models import Order
from domain.service_requests import jobs
from domain.service_requests.models import ServiceRequest
from domain.subscriptions.models import Subscription
from domain.technicians.models import Technician

Facts = dict[str, Any]
Loader = Callable[[AsyncSession, Mapping[str, Ref], To, str], Awaitable[Facts]]


class Gone(LookupError):
    """The thing the message is about no longer exists: nothing to say."""


def _id(refs: Mapping[str, Ref], name: str) -> uuid.UUID:
    value = refs.get(name)
    if not isinstance(value, str):
        raise ValueError(f"the message needs {name}")
    return uuid.UUID(value)


def _at(refs: Mapping[str, Ref], name: str) -> datetime | None:
    value = refs.get(name)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def _given(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    """Codes: the sender (an activity, never a workflow) passes the facts themselves."""
    return dict(refs)


async def _order(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    order = await db.get(Order, _id(refs, "order_id"))
    if order is None:
        raise Gone("order")
    return {
        "order_id": str(order.id),
        "receipt_number": order.receipt_number,
        "total_minor": order.total_minor,
        "currency": order.currency,
        "receipt_url": f"{base_url}/api/v1/orders/{order.id}/receipt",
    }


async def _subscription(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    subscription = await db.get(Subscription, _id(refs, "subscription_id"))
    if subscription is None:
        raise Gone("subscription")
    version = await db.get(PlanVersion, subscription.plan_version_id)
    assert version is not None
    days = refs.get("days")
    return {
        "subscription_id": str(subscription.id),
        "plan": version.name,
        # The period the notice is about (the workflow's), which the row may have moved past.
        "ends_at": _at(refs, "ends_at") or subscription.ends_at,
        "grace_ends_at": subscription.grace_ends_at,
        "auto_renew": subscription.auto_renew,
        "price_minor": version.total_minor,
        "currency": version.currency,
        "days": days if isinstance(days, int) else 0,
        "detail": refs.get("detail"),
        "retry_at": _at(refs, "retry_at"),  # a declined renewal's next try, if there is one
    }


async def _service_request(db: AsyncSession, refs: Mapping[str, Ref]) -> ServiceRequest:
    request = await db.get(ServiceRequest, _id(refs, "request_id"))
    if request is None:
        raise Gone("service request")
    return request


async def _request_facts(
    db: AsyncSession, request: ServiceRequest, refs: Mapping[str, Ref]
) -> Facts:
    category = await db.get(ServiceCategory, request.category_id)
    technician = await db.get(Technician, request.technician_id) if request.technician_id else None
    return {
        "request_id": str(request.id),
        "category": category.name if category else "service",
        "window_start": request.window_start,
        "window_end": request.window_end,
        "address": address_line(request.address) or request.postal_code,
        "technician": technician.name if technician else "A technician",
        "note": refs.get("note"),
    }


async def _request(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    return await _request_facts(db, await _service_request(db, refs), refs)


async def _job(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    """The request's facts, and its customer's name and phone (`customer`, or None) when the
    technician told may reach them now (`jobs.may_reach_customer`): a message that goes after
    the job was completed, cancelled or given to another carries no contact."""
    request = await _service_request(db, refs)
    contact = (
        await jobs.customer_contact(db, request=request, technician_id=to.technician_id)
        if to.technician_id is not None
        else None
    )
    return {
        **await _request_facts(db, request, refs),
        "customer": contact.model_dump() if contact is not None else None,
    }


async def _campaign(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    """A campaign's batch passes its words (read once per batch); a test send passes only the
    campaign's id, and its words are read here."""
    if "title" in refs:
        return dict(refs)
    from domain.campaigns.models import Campaign  # campaigns send through here: imported late

    campaign = await db.get(Campaign, _id(refs, "campaign_id"))
    if campaign is None:
        raise Gone("campaign")
    return {"campaign_id": str(campaign.id), "title": campaign.title, "body": campaign.body}


async def _report(db: AsyncSession, refs: Mapping[str, Ref], to: To, base_url: str) -> Facts:
    """The stored daily report of `day`: its headline figures and where to download it."""
    from domain.reports import daily  # reports read the orders' tables: imported when needed

    day = refs.get("day")
    if not isinstance(day, str):
        raise ValueError("the message needs day")
    try:
        report = await daily.get(db, day=date.fromisoformat(day))
    except NotFound:
        raise Gone("daily report") from None
    totals = report.revenue.totals
    activity = report.activity
    return {
        "day": timefmt.day(report.day),
        "report_day": day,
        "time_zone": report.time_zone,
        "orders": sum(t.orders for t in totals),
        "sales": [(t.amount.amount_minor, t.currency) for t in totals],
        "refunds": [(t.refunds.amount_minor, t.currency) for t in totals if t.refund_count],
        "new_users": sum(d.count for d in activity.new_users_by_day),
        "requests_created": activity.transitions.get("created", 0),
        "requests_completed": activity.transitions.get("completed", 0),
        "requests_cancelled": activity.transitions.get("cancelled", 0),
        "download_url": f"{base_url}/api/v1/admin/reports/daily/{day}?format=csv",
    }


LOADERS: dict[str, Loader] = {
    "account": _given,
    "order": _order,
    "subscription": _subscription,
    "request": _request,
    "job": _job,
    "campaign": _campaign,
    "report": _report,
}

# What the app gets with a message (push data, the inbox item) to open the right screen.
LINKS = ("order_id", "subscription_id", "request_id", "campaign_id")


def links(facts: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(facts[name]) for name in LINKS if facts.get(name) is not None}
