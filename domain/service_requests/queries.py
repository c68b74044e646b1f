"""Reading service requests for the API, from the read model the workflow's activities keep:
the customer's, the technician's and the staff's lists (filters on indexed columns, so they stay
fast at a hundred thousand requests), one request with its timeline and dispatch log.

Scoping: a customer passes `user_id`, a technician `technician_id`; another's request is
NotFound, exactly like a missing one. Staff pass neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnExpressionArgument, Select, Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import LIKE_ESCAPE, contains, small_page
from core.errors import NotFound
from domain import actors
from domain.accounts.models import User
from domain.catalog.models import ServiceCategory
from domain.orders.cart import address_line
from domain.service_requests.contracts import service_request_workflow_id
from domain.service_requests.models import (
    DispatchDecision,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)
from domain.service_requests.schemas import (
    AdminRequestDetail,
    AdminRequestOut,
    CategoryRef,
    CustomerRef,
    DispatchOut,
    EventOut,
    RequestDetail,
    RequestOut,
    TechnicianRef,
)
from domain.subscriptions.models import Subscription
from domain.technicians.models import Technician


async def get_request(
    db: AsyncSession,
    *,
    request_id: uuid.UUID,
    user_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
) -> ServiceRequest:
    stmt = select(ServiceRequest).where(ServiceRequest.id == request_id)
    if user_id is not None:
        stmt = stmt.where(ServiceRequest.user_id == user_id)
    if technician_id is not None:
        stmt = stmt.where(ServiceRequest.technician_id == technician_id)
    found = (await db.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound("service request not found")
    return found


def _filtered(
    *,
    user_id: uuid.UUID | None,
    technician_id: uuid.UUID | None,
    status: RequestStatus | None,
    category_id: uuid.UUID | None,
    postal_code: str | None,
    starts_from: datetime | None,
    starts_before: datetime | None,
    escalated: bool | None,
    overdue: bool | None,
) -> Select[ServiceRequest]:
    stmt = select(ServiceRequest)
    for column, value in (
        (ServiceRequest.user_id, user_id),
        (ServiceRequest.technician_id, technician_id),
        (ServiceRequest.status, status.value if status else None),
        (ServiceRequest.category_id, category_id),
        (ServiceRequest.escalated, escalated),
        (ServiceRequest.overdue, overdue),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if postal_code:  # a code or its beginning: 5600 finds 560001 and 560034
        prefix = contains(postal_code)[1:]  # "%560%" less its first %: begins with 560
        stmt = stmt.where(ServiceRequest.postal_code.like(prefix, escape=LIKE_ESCAPE))
    if starts_from is not None:
        stmt = stmt.where(ServiceRequest.window_start >= starts_from)
    if starts_before is not None:
        stmt = stmt.where(ServiceRequest.window_start < starts_before)
    return stmt


async def _total(db: AsyncSession, filtered: Select[ServiceRequest]) -> int:
    return int(
        (await db.execute(select(func.count()).select_from(filtered.subquery()))).scalar_one()
    )


def _page(
    filtered: Select[ServiceRequest], *, newest_first: bool, limit: int, offset: int
) -> tuple[Subquery, tuple[ColumnExpressionArgument[Any], ...]]:
    """The ids of one page (to join its rows to) and its order.

    The page's ids first (walked along the index, the rows it skips never read whole), then
    those rows: a deep offset costs index entries, not table rows."""
    order: tuple[ColumnExpressionArgument[Any], ...] = (
        (ServiceRequest.created_at.desc(), ServiceRequest.id)
        if newest_first
        else (ServiceRequest.window_start, ServiceRequest.id)
    )
    page = filtered.with_only_columns(ServiceRequest.id).order_by(*order)
    return page.limit(limit).offset(offset).subquery(), order


async def list_requests(
    db: AsyncSession,
    *,
    limit: int,
    offset: int,
    user_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
    status: RequestStatus | None = None,
    category_id: uuid.UUID | None = None,
    postal_code: str | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    escalated: bool | None = None,
    overdue: bool | None = None,
    newest_first: bool = False,
) -> tuple[list[ServiceRequest], int]:
    """Requests by their window (soonest first; a customer's newest first) and the total."""
    stmt = _filtered(
        user_id=user_id,
        technician_id=technician_id,
        status=status,
        category_id=category_id,
        postal_code=postal_code,
        starts_from=starts_from,
        starts_before=starts_before,
        escalated=escalated,
        overdue=overdue,
    )
    ids, order = _page(stmt, newest_first=newest_first, limit=limit, offset=offset)
    if user_id is not None:  # one customer's: few, the page and its total in one statement
        return await small_page(db, stmt.order_by(*order), limit=limit, offset=offset)
    total = await _total(db, stmt)
    rows = (
        await db.execute(
            select(ServiceRequest).join(ids, ServiceRequest.id == ids.c.id).order_by(*order)
        )
    ).scalars()
    return list(rows.all()), total


async def admin_list(
    db: AsyncSession,
    *,
    limit: int,
    offset: int,
    technician_id: uuid.UUID | None = None,
    status: RequestStatus | None = None,
    category_id: uuid.UUID | None = None,
    postal_code: str | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    escalated: bool | None = None,
    overdue: bool | None = None,
    workflow_url: Callable[[str], str] | None = None,
) -> tuple[list[AdminRequestOut], int]:
    """The staff's list, ordered and filtered as `list_requests` does, and the total: the page's
    requests with their category, technician and customer (only the columns shown) in one query,
    each view built once. `workflow_url` (the API's `WorkflowLinks.url`: a link is the edge's
    business, not the domain's) gives each its link."""
    stmt = _filtered(
        user_id=None,
        technician_id=technician_id,
        status=status,
        category_id=category_id,
        postal_code=postal_code,
        starts_from=starts_from,
        starts_before=starts_before,
        escalated=escalated,
        overdue=overdue,
    )
    total = await _total(db, stmt)
    ids, order = _page(stmt, newest_first=False, limit=limit, offset=offset)
    found = await db.execute(
        select(
            ServiceRequest,
            ServiceCategory.slug,
            ServiceCategory.name,
            Technician.name,
            Technician.phone,
            User.name,
            User.email,
            User.phone,
        )
        .join(ids, ServiceRequest.id == ids.c.id)
        .join(ServiceCategory, ServiceCategory.id == ServiceRequest.category_id)
        .outerjoin(Technician, Technician.id == ServiceRequest.technician_id)
        .join(User, User.id == ServiceRequest.user_id)
        .order_by(*order)
    )
    items = [
        _admin_out(
            r,
            CategoryRef(id=r.category_id, slug=slug, name=category),
            TechnicianRef(id=r.technician_id, name=technician, phone=technician_phone)
            if r.technician_id
            else None,
            CustomerRef(id=r.user_id, name=name, email=email, phone=phone),
            workflow_url,
        )
        for r, slug, category, technician, technician_phone, name, email, phone in found
    ]
    return items, total


async def _refs(
    db: AsyncSession, rows: Sequence[ServiceRequest]
) -> tuple[dict[uuid.UUID, CategoryRef], dict[uuid.UUID, TechnicianRef]]:
    """The categories and technicians of these requests, by id: only the columns shown."""
    categories = {
        c.id: CategoryRef(id=c.id, slug=c.slug, name=c.name)
        for c in await db.execute(
            select(ServiceCategory.id, ServiceCategory.slug, ServiceCategory.name).where(
                ServiceCategory.id.in_({r.category_id for r in rows})
            )
        )
    }
    technician_ids = {r.technician_id for r in rows if r.technician_id}
    technicians = (
        {
            t.id: TechnicianRef(id=t.id, name=t.name, phone=t.phone)
            for t in await db.execute(
                select(Technician.id, Technician.name, Technician.phone).where(
                    Technician.id.in_(technician_ids)
                )
            )
        }
        if technician_ids
        else {}
    )
    return categories, technicians


def _fields(
    r: ServiceRequest, category: CategoryRef, technician: TechnicianRef | None
) -> dict[str, Any]:
    """One request as the fields of RequestOut, which every other view of it extends."""
    return {
        "id": r.id,
        "number": r.number,
        "status": RequestStatus(r.status),
        "subscription_id": r.subscription_id,
        "category": category,
        "address": address_line(r.address) or r.postal_code,
        "postal_code": r.postal_code,
        "description": r.description,
        "window_start": r.window_start,
        "window_end": r.window_end,
        "technician": technician,
        "escalated": r.escalated,
        "overdue": r.overdue,
        "completion_notes": r.completion_notes,
        "parts_used": r.parts_used,
        "rating": r.rating,
        "rating_comment": r.rating_comment,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def _admin_out(
    r: ServiceRequest,
    category: CategoryRef,
    technician: TechnicianRef | None,
    customer: CustomerRef,
    workflow_url: Callable[[str], str] | None,
) -> AdminRequestOut:
    workflow_id = service_request_workflow_id(r.id)
    return AdminRequestOut(
        **_fields(r, category, technician),
        customer=customer,
        workflow_id=workflow_id,
        workflow_url=workflow_url(workflow_id) if workflow_url else None,
    )


async def request_outs(db: AsyncSession, rows: Sequence[ServiceRequest]) -> list[RequestOut]:
    """The API's view of each request (a few queries for the whole page)."""
    if not rows:
        return []
    categories, technicians = await _refs(db, rows)
    return [
        RequestOut(
            **_fields(
                r,
                categories[r.category_id],
                technicians.get(r.technician_id) if r.technician_id else None,
            )
        )
        for r in rows
    ]


async def admin_outs(db: AsyncSession, rows: Sequence[ServiceRequest]) -> list[AdminRequestOut]:
    """The staff's view of each request (without its link: see `admin_list`)."""
    if not rows:
        return []
    categories, technicians = await _refs(db, rows)
    customers = {
        u.id: CustomerRef(id=u.id, name=u.name, email=u.email, phone=u.phone)
        for u in await db.execute(
            select(User.id, User.name, User.email, User.phone).where(
                User.id.in_({r.user_id for r in rows})
            )
        )
    }
    return [
        _admin_out(
            r,
            categories[r.category_id],
            technicians.get(r.technician_id) if r.technician_id else None,
            customers[r.user_id],
            None,
        )
        for r in rows
    ]


async def timeline(
    db: AsyncSession, *, request: ServiceRequest, audience: actors.Audience
) -> list[EventOut]:
    """The request's timeline as `audience` reads it (actors named for them)."""
    events = (
        (
            await db.execute(
                select(RequestEvent)
                .where(RequestEvent.request_id == request.id)
                .order_by(RequestEvent.id)
            )
        )
        .scalars()
        .all()
    )
    named = await actors.name_all(
        db, (e.actor for e in events), audience=audience, customer_id=request.user_id
    )
    return [
        EventOut(
            id=e.id,
            at=e.at,
            actor=named[e.actor],
            kind=e.kind,
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
        )
        for e in events
    ]


async def detail(
    db: AsyncSession, *, request: ServiceRequest, audience: actors.Audience = "customer"
) -> RequestDetail:
    """One request for its customer, or for the technician it is assigned to."""
    (view,) = await request_outs(db, [request])
    return RequestDetail(
        **view.model_dump(), timeline=await timeline(db, request=request, audience=audience)
    )


async def admin_detail(db: AsyncSession, *, request: ServiceRequest) -> AdminRequestDetail:
    (view,) = await admin_outs(db, [request])
    log = (
        (
            await db.execute(
                select(DispatchDecision)
                .where(DispatchDecision.request_id == request.id)
                .order_by(DispatchDecision.id)
            )
        )
        .scalars()
        .all()
    )
    named = await actors.name_all(db, (d.actor for d in log), audience="staff")
    chosen = {d.technician_id for d in log}
    names: dict[uuid.UUID, str] = {}
    if chosen:
        found = select(Technician.id, Technician.name).where(Technician.id.in_(chosen))
        names = {technician_id: name for technician_id, name in await db.execute(found)}
    subscription = await db.get(Subscription, request.subscription_id)
    assert subscription is not None
    return AdminRequestDetail(
        **view.model_dump(),
        timeline=await timeline(db, request=request, audience="staff"),
        dispatch_log=[
            DispatchOut(
                at=d.at,
                actor=named[d.actor],
                technician_id=d.technician_id,
                technician_name=names.get(d.technician_id),
                reason=d.reason,
                suggested=d.suggested,
            )
            for d in log
        ],
        subscription_status=subscription.status,
        subscription_ends_at=subscription.ends_at,
    )
