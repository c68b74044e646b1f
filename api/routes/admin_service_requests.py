"""Staff: every service request, filtered (status, category, zone, date, technician, SLA flags),
one with its customer, subscription, timeline and dispatch log; the suggested technicians with
their reasons; and the moves (assign, reassign, start, complete, cancel), each a Workflow Update
refused at once with the reason when wrong.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api import service_requests as lifecycle
from api.deps import AdminUser, NowDep, SessionDep, SettingsDep, StaffUser, TemporalDep
from api.pagination import StaffPage, at_most
from api.periods import IsoDateTime
from api.problems import problems
from api.workflow_links import LinksDep, WorkflowLinks
from core.errors import Conflict
from domain import actors
from domain.service_requests import queries
from domain.service_requests import service as requests
from domain.service_requests.contracts import Assign, Cancel, Complete, PartUsed, Start, Suggested
from domain.service_requests.models import RequestStatus, ServiceRequest
from domain.service_requests.schemas import (
    AdminCancelIn,
    AdminRequestDetail,
    AdminRequestOut,
    AdminStartIn,
    AssignIn,
    CompleteIn,
)
from domain.technicians import dispatch
from domain.technicians.schemas import normalize_postal_code
from domain.types import Page

router = APIRouter(prefix="/admin/service-requests", tags=["admin: service requests"])

SUGGESTED = 10


def facts_of(request: ServiceRequest) -> dispatch.RequestFacts:
    return dispatch.RequestFacts(
        request_id=request.id,
        category_id=request.category_id,
        postal_code=request.postal_code,
        window_start=request.window_start,
        window_end=request.window_end,
    )


def suggested(fit: dispatch.Fit) -> Suggested:
    return Suggested.model_validate(fit.model_dump())


@router.get("", response_model=Page[AdminRequestOut])
async def list_requests(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    links: LinksDep,
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
    category_id: uuid.UUID | None = None,
    zone: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=12,
            description="A postal code or its beginning: 5600 finds 560001 and 560034",
        ),
    ] = None,
    starts_from: Annotated[IsoDateTime | None, Query(description="Window from (inclusive)")] = None,
    starts_before: Annotated[IsoDateTime | None, Query(description="Window before")] = None,
    technician_id: uuid.UUID | None = None,
    escalated: bool | None = None,
    overdue: bool | None = None,
) -> Page[AdminRequestOut]:
    """Requests by their window, the soonest first, filtered."""
    items, total = await queries.admin_list(
        db,
        status=request_status,
        category_id=category_id,
        postal_code=normalize_postal_code(zone) if zone else None,
        starts_from=starts_from,
        starts_before=starts_before,
        technician_id=technician_id,
        escalated=escalated,
        overdue=overdue,
        limit=page.limit,
        offset=page.offset,
        workflow_url=links.url,
    )
    # Returned as the model, not as a pre-serialized Response: FastAPI (0.165) hands an instance
    # of the response_model's own class through its validation untouched and dumps it to JSON
    # once, in pydantic-core, as model_dump_json() would (measured: nothing to gain).
    return Page[AdminRequestOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{request_id}", response_model=AdminRequestDetail, responses=problems(404))
async def read_request(
    request_id: uuid.UUID, _staff: StaffUser, db: SessionDep, links: LinksDep
) -> AdminRequestDetail:
    """One request with its customer, subscription, timeline and dispatch log."""
    return await _detail(db, request_id, links)


@router.get(
    "/{request_id}/suggestions",
    response_model=at_most(Suggested, SUGGESTED),
    responses=problems(404),
)
async def suggestions(request_id: uuid.UUID, _staff: StaffUser, db: SessionDep) -> list[Suggested]:
    """Technicians for this request, the best first (skill, zone, free in the window, load),
    each with why they fit or why not; never the technician it is assigned to already (a
    reassignment offers the others)."""
    request = await queries.get_request(db, request_id=request_id)
    fits = await dispatch.suggest(
        db, facts=facts_of(request), limit=SUGGESTED, excluding=request.technician_id
    )
    return [suggested(f) for f in fits]


async def _detail(
    db: SessionDep, request_id: uuid.UUID, links: WorkflowLinks
) -> AdminRequestDetail:
    """The request as it is now (after a move: as the workflow's activity wrote it)."""
    return links.add(
        await queries.admin_detail(db, request=await queries.get_request(db, request_id=request_id))
    )


async def _assign(
    request_id: uuid.UUID,
    body: AssignIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: WorkflowLinks,
    *,
    reassign: bool,
) -> AdminRequestDetail:
    request = await queries.get_request(db, request_id=request_id)
    facts = facts_of(request)
    fit = await dispatch.fitness(db, technician_id=body.technician_id, facts=facts)
    shown = await dispatch.suggest(db, facts=facts, limit=SUGGESTED)
    await db.commit()  # ends the read: the workflow's activity writes the assignment
    await lifecycle.assign(
        temporal,
        request.id,
        Assign(
            technician_id=body.technician_id,
            actor=actors.staff(admin.id),
            reassign=reassign,
            reason=body.reason,
            fit=suggested(fit),
            suggested=[suggested(f) for f in shown],
        ),
    )
    return await _detail(db, request.id, links)


@router.post(
    "/{request_id}/assign", response_model=AdminRequestDetail, responses=problems(404, 409)
)
async def assign(
    request_id: uuid.UUID,
    body: AssignIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: LinksDep,
) -> AdminRequestDetail:
    """Give a pending request to a technician (the dispatch log keeps who was suggested, who
    chose whom and why); refused with the reason when they cannot take it, or when someone
    assigned it meanwhile."""
    return await _assign(request_id, body, admin, db, temporal, links, reassign=False)


@router.post(
    "/{request_id}/reassign", response_model=AdminRequestDetail, responses=problems(404, 409)
)
async def reassign(
    request_id: uuid.UUID,
    body: AssignIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: LinksDep,
) -> AdminRequestDetail:
    """Give an assigned request to another technician before work starts."""
    return await _assign(request_id, body, admin, db, temporal, links, reassign=True)


@router.post("/{request_id}/start", response_model=AdminRequestDetail, responses=problems(404, 409))
async def start(
    request_id: uuid.UUID,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: LinksDep,
    settings: SettingsDep,
    now: NowDep,
    body: AdminStartIn | None = None,
) -> AdminRequestDetail:
    """Record that work has started (the technician usually does this from their app); before
    the visit's window allows it, only with an `early_reason` (in the timeline and audit log)."""
    request = await queries.get_request(db, request_id=request_id)
    early = requests.too_early_to_start(request.window_start, now=now, settings=settings)
    reason = body.early_reason if body else None
    if early and reason is None:
        raise Conflict(f"{early}; give early_reason to start it now")
    note = f"started early: {reason}" if early and reason else None
    await lifecycle.start(temporal, request.id, Start(actor=actors.staff(admin.id), note=note))
    return await _detail(db, request.id, links)


@router.post(
    "/{request_id}/complete", response_model=AdminRequestDetail, responses=problems(404, 409)
)
async def complete(
    request_id: uuid.UUID,
    body: CompleteIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: LinksDep,
) -> AdminRequestDetail:
    """Record the visit as done, with notes and the parts used: the visit is used up."""
    request = await queries.get_request(db, request_id=request_id)
    await lifecycle.complete(
        temporal,
        request.id,
        Complete(
            actor=actors.staff(admin.id),
            notes=body.notes,
            parts_used=[PartUsed.model_validate(p.model_dump()) for p in body.parts_used],
        ),
    )
    return await _detail(db, request.id, links)


@router.post(
    "/{request_id}/cancel", response_model=AdminRequestDetail, responses=problems(404, 409)
)
async def cancel(
    request_id: uuid.UUID,
    body: AdminCancelIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    links: LinksDep,
) -> AdminRequestDetail:
    """Cancel before work starts, with a reason: the visit goes back to the customer's plan."""
    request = await queries.get_request(db, request_id=request_id)
    await lifecycle.cancel(
        temporal, request.id, Cancel(actor=actors.staff(admin.id), reason=body.reason)
    )
    return await _detail(db, request.id, links)
