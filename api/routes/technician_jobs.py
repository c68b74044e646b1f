"""A technician's own jobs: the visits assigned to them, and starting and completing them (the
same updates and validators as staff use). Another technician's job is a 404. Each job carries
its customer's name and phone when `jobs.may_reach_customer` allows."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from api import service_requests as lifecycle
from api.deps import NowDep, SessionDep, SettingsDep, TemporalDep, require_roles
from api.pagination import CustomerPage
from api.problems import answers, problems
from core.errors import Conflict, Forbidden
from domain import actors
from domain.accounts.models import Role, User
from domain.service_requests import jobs, queries
from domain.service_requests import service as requests
from domain.service_requests.contracts import Complete, PartUsed, Start
from domain.service_requests.models import RequestStatus
from domain.service_requests.schemas import CompleteIn, JobDetail, JobOut
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


async def _job(db: AsyncSession, request_id: uuid.UUID, technician: Technician) -> JobDetail:
    """The job as the move left it (read again: the workflow's activity wrote it)."""
    request = await queries.get_request(db, request_id=request_id)
    return await jobs.job_detail(db, request=request, technician_id=technician.id)


@router.get("", response_model=Page[JobOut])
async def my_jobs(
    technician: TechnicianDep,
    db: SessionDep,
    page: CustomerPage,
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> Page[JobOut]:
    """Your visits, the soonest first; the customer's contact on those still to be done."""
    rows, total = await queries.list_requests(
        db,
        technician_id=technician.id,
        status=request_status,
        limit=page.limit,
        offset=page.offset,
    )
    items = await jobs.job_outs(db, rows, technician_id=technician.id)
    return Page[JobOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{request_id}", response_model=JobDetail, responses=problems(404))
async def my_job(request_id: uuid.UUID, technician: TechnicianDep, db: SessionDep) -> JobDetail:
    """One of your visits, with its timeline, and the customer's name and phone while the visit
    is still to be done."""
    request = await queries.get_request(db, request_id=request_id, technician_id=technician.id)
    return await jobs.job_detail(db, request=request, technician_id=technician.id)


@router.post("/{request_id}/start", response_model=JobDetail, responses=problems(404, 409))
async def start(
    request_id: uuid.UUID,
    technician: TechnicianDep,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    now: NowDep,
) -> JobDetail:
    """You have arrived and work starts (from a while before the visit's window: see
    JOB_START_EARLY_MINUTES)."""
    request = await queries.get_request(db, request_id=request_id, technician_id=technician.id)
    if problem := requests.too_early_to_start(request.window_start, now=now, settings=settings):
        raise Conflict(problem)
    await lifecycle.start(
        temporal,
        request.id,
        Start(actor=actors.technician(technician.id), technician_id=technician.id),
    )
    return await _job(db, request.id, technician)


@router.post("/{request_id}/complete", response_model=JobDetail, responses=problems(404, 409))
async def complete(
    request_id: uuid.UUID,
    body: CompleteIn,
    technician: TechnicianDep,
    db: SessionDep,
    temporal: TemporalDep,
) -> JobDetail:
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
    return await _job(db, request.id, technician)
