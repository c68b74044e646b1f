"""A technician's own jobs: the visits assigned to them, and starting and completing them (the
same updates and validators as staff use). Another technician's job is a 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import service_requests as lifecycle
from api.deps import SessionDep, TemporalDep, require_roles
from api.pagination import CustomerPage
from api.problems import answers, problems
from core.errors import Forbidden
from domain import actors
from domain.accounts.models import Role, User
from domain.service_requests import queries
from domain.service_requests.contracts import Complete, PartUsed, Start
from domain.service_requests.models import RequestStatus
from domain.service_requests.schemas import CompleteIn, RequestDetail, RequestOut
from domain.technicians import service as technicians
from domain.technicians.models import Technician
from domain.types import Page

router = APIRouter(prefix="/technician/jobs", tags=["technician"])


@answers(403)
async def current_technician(
    user: Annotated[User, Depends(require_roles(Role.technician))], db: SessionDep
) -> Technician:
    technician = await technicians.technician_for_user(db, user_id=user.id)
    if technician is None or not technician.is_active:
        raise Forbidden("this account is not an active technician")
    return technician


TechnicianDep = Annotated[Technician, Depends(current_technician)]


@router.get("", response_model=Page[RequestOut])
async def my_jobs(
    technician: TechnicianDep,
    db: SessionDep,
    page: CustomerPage,
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> Page[RequestOut]:
    """Your visits, the soonest first."""
    rows, total = await queries.list_requests(
        db,
        technician_id=technician.id,
        status=request_status,
        limit=page.limit,
        offset=page.offset,
    )
    items = await queries.request_outs(db, rows)
    return Page[RequestOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{request_id}", response_model=RequestDetail, responses=problems(404))
async def my_job(request_id: uuid.UUID, technician: TechnicianDep, db: SessionDep) -> RequestDetail:
    """One of your visits, with its timeline."""
    request = await queries.get_request(db, request_id=request_id, technician_id=technician.id)
    return await queries.detail(db, request=request, audience="technician")


@router.post("/{request_id}/start", response_model=RequestDetail, responses=problems(404, 409))
async def start(
    request_id: uuid.UUID, technician: TechnicianDep, db: SessionDep, temporal: TemporalDep
) -> RequestDetail:
    """You have arrived and work starts."""
    request = await queries.get_request(db, request_id=request_id, technician_id=technician.id)
    await lifecycle.start(
        temporal,
        request.id,
        Start(actor=actors.technician(technician.id), technician_id=technician.id),
    )
    return await queries.detail(
        db, request=await queries.get_request(db, request_id=request.id), audience="technician"
    )


@router.post("/{request_id}/complete", response_model=RequestDetail, responses=problems(404, 409))
async def complete(
    request_id: uuid.UUID,
    body: CompleteIn,
    technician: TechnicianDep,
    db: SessionDep,
    temporal: TemporalDep,
) -> RequestDetail:
    """The work is done: notes and the parts used."""
    request = await queries.get_request(db, request_id=request_id, technician_id=technician.id)
    await lifecycle.complete(
        temporal,
        request.id,
        Complete(
            actor=actors.technician(technician.id),
            technician_id=technician.id,
            notes=body.notes,
            parts_used=[PartUsed.model_validate(p.model_dump()) for p in body.parts_used],
        ),
    )
    return await queries.detail(
        db, request=await queries.get_request(db, request_id=request.id), audience="technician"
    )
