"""What a technician sees of their jobs: each request as its customer sees it, and how to reach
the customer while there is a visit to make.

`may_reach_customer` is the one rule of who sees a customer's name and phone, and when; the
technician's API views and the job messages (`domain.notifications.facts`) both ask it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.service_requests import queries
from domain.service_requests.models import RequestStatus, ServiceRequest
from domain.service_requests.schemas import CustomerContact, JobDetail, JobOut

# The visit is still to be made: the technician may need to call ahead or from the door.
OPEN = frozenset({RequestStatus.assigned, RequestStatus.in_progress})


def may_reach_customer(request: ServiceRequest, *, technician_id: uuid.UUID) -> bool:
    """Whether this technician may see the request's customer's name and phone now: only the one
    assigned to it, and only until the visit is completed or cancelled. A customer's number is
    theirs: a technician who no longer has a visit to make keeps no way to call them."""
    return request.technician_id == technician_id and request.status in OPEN


async def customer_contacts(
    db: AsyncSession, *, requests: Sequence[ServiceRequest], technician_id: uuid.UUID
) -> dict[uuid.UUID, CustomerContact]:
    """By request id, the contact of each request's customer this technician may see now (the
    others are left out), in one query."""
    shown = [r for r in requests if may_reach_customer(r, technician_id=technician_id)]
    if not shown:
        return {}
    people = {
        user_id: CustomerContact(name=name, phone=phone)
        for user_id, name, phone in await db.execute(
            select(User.id, User.name, User.phone).where(User.id.in_({r.user_id for r in shown}))
        )
    }
    return {r.id: people[r.user_id] for r in shown}


async def customer_contact(
    db: AsyncSession, *, request: ServiceRequest, technician_id: uuid.UUID
) -> CustomerContact | None:
    """The request's customer's contact if this technician may see it now, else None."""
    found = await customer_contacts(db, requests=[request], technician_id=technician_id)
    return found.get(request.id)


async def job_outs(
    db: AsyncSession, rows: Sequence[ServiceRequest], *, technician_id: uuid.UUID
) -> list[JobOut]:
    """The technician's view of each of their requests (a few queries for the whole page)."""
    views = await queries.request_outs(db, rows)
    contacts = await customer_contacts(db, requests=rows, technician_id=technician_id)
    return [JobOut(**view.model_dump(), customer=contacts.get(view.id)) for view in views]


async def job_detail(
    db: AsyncSession, *, request: ServiceRequest, technician_id: uuid.UUID
) -> JobDetail:
    (view,) = await job_outs(db, [request], technician_id=technician_id)
    return JobDetail(
        **view.model_dump(),
        timeline=await queries.timeline(db, request=request, audience="technician"),
    )
