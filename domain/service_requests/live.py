"""What a live stream of one service request reads: its state as a viewer may see it, its timeline
after a position, and whether the viewer may still follow it.

Who may follow a request: its customer, staff (support or admin), and the technician assigned to
it (the user whose technician is the request's `technician_id`). Anyone else is told nothing,
exactly as if it did not exist.

Timeline ids are global and increasing, so a position (the last event id a client saw) works for
any request. Reading "after a position" finds every entry as long as the writers of one request
commit its entries in id order, which they do when an entry is written in the same transaction as
the change of the request it records, after that request's row is updated (the update locks the
row, so a second writer of the same request waits and takes a later id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from domain import actors
from domain.accounts.models import Role, User
from domain.actors import Actor
from domain.service_requests.models import RequestEvent, RequestStatus, ServiceRequest
from domain.technicians.models import Technician

# A stream ends with the change into one of these.
TERMINAL = frozenset({RequestStatus.completed.value, RequestStatus.cancelled.value})
STAFF_ROLES = frozenset({Role.support.value, Role.admin.value})


class TechnicianRef(BaseModel):
    id: uuid.UUID
    name: str


class Window(BaseModel):
    start: datetime
    end: datetime


class LiveState(BaseModel):
    """The `data` of a stream's `state` event: the request as it is now."""

    request_id: uuid.UUID
    status: str = Field(description="pending, assigned, in_progress, completed or cancelled")
    technician: TechnicianRef | None = Field(description="Who was assigned, once someone is")
    window: Window = Field(description="When the visit was asked for")
    escalated: bool = Field(description="It was not assigned in time")
    overdue: bool = Field(description="It was not completed by the end of its window")
    updated_at: datetime = Field(description="Its last change")


class LiveChange(BaseModel):
    """The `data` of a stream's `change` event: one entry of the request's timeline."""

    id: int = Field(description="The entry's id, also the event's `id:`")
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    actor: Actor = Field(description="Who acted, named for the viewer (never an internal id)")

    @property
    def ends(self) -> bool:
        return self.to_status in TERMINAL


def followable_by(user_id: uuid.UUID, role: str) -> ColumnElement[bool]:
    """The requests this user may follow (a condition on `ServiceRequest`)."""
    if role in STAFF_ROLES:
        return true()
    # technicians.user_id is unique: at most one technician is this user.
    # An inactive technician (off the roster) no longer follows their jobs, as on the job routes.
    technician = (
        select(Technician.id)
        .where(Technician.user_id == user_id, Technician.is_active)
        .scalar_subquery()
    )
    return or_(ServiceRequest.user_id == user_id, ServiceRequest.technician_id == technician)


@dataclass(frozen=True)
class Followed:
    state: LiveState
    customer_id: uuid.UUID  # never sent: whether a viewer's access can change (it is not theirs)
    last_event_id: int  # the newest entry of this request's timeline, 0 if none
    newest_event_id: int  # the newest entry of any request's timeline, 0 if none

    @property
    def ended(self) -> bool:
        return self.state.status in TERMINAL


async def follow(db: AsyncSession, *, request_id: uuid.UUID, user: User) -> Followed | None:
    """The request's state and the position it is at, if `user` may follow it (one statement,
    so the state and the position are one snapshot)."""
    mine = (
        select(func.max(RequestEvent.id))
        .where(RequestEvent.request_id == ServiceRequest.id)
        .correlate(ServiceRequest)
        .scalar_subquery()
    )
    anyone = select(func.max(RequestEvent.id)).scalar_subquery()
    stmt = (
        select(
            ServiceRequest.id,
            ServiceRequest.user_id,
            ServiceRequest.status,
            ServiceRequest.technician_id,
            Technician.name,
            ServiceRequest.window_start,
            ServiceRequest.window_end,
            ServiceRequest.escalated,
            ServiceRequest.overdue,
            ServiceRequest.updated_at,
            func.coalesce(mine, 0),
            func.coalesce(anyone, 0),
        )
        .outerjoin(Technician, Technician.id == ServiceRequest.technician_id)
        .where(ServiceRequest.id == request_id, followable_by(user.id, user.role))
    )
    row = (await db.execute(stmt)).first()
    if row is None:
        return None
    (rid, customer, status, tech_id, tech_name, start, end, escalated, overdue, updated) = row[:10]
    mine_id, any_id = row[10:]
    technician = None
    if tech_id is not None:
        technician = TechnicianRef(id=tech_id, name=tech_name or "")
    state = LiveState(
        request_id=rid,
        status=status,
        technician=technician,
        window=Window(start=start, end=end),
        escalated=escalated,
        overdue=overdue,
        updated_at=updated,
    )
    return Followed(
        state=state,
        customer_id=customer,
        last_event_id=int(mine_id),
        newest_event_id=int(any_id),
    )


def audience(role: str, user_id: uuid.UUID, customer_id: uuid.UUID) -> actors.Audience:
    """Who is watching, for naming the actors: staff, the request's customer, or its technician."""
    if role in STAFF_ROLES:
        return "staff"
    return "customer" if user_id == customer_id else "technician"


async def changes_after(
    db: AsyncSession,
    *,
    request_id: uuid.UUID,
    after: int,
    viewer: actors.Audience,
    customer_id: uuid.UUID,
    limit: int = 200,
) -> list[LiveChange]:
    """The request's timeline entries after position `after`, in id order, at most `limit`,
    their actors named for `viewer`."""
    stmt = (
        select(
            RequestEvent.id,
            RequestEvent.at,
            RequestEvent.kind,
            RequestEvent.from_status,
            RequestEvent.to_status,
            RequestEvent.note,
            RequestEvent.actor,
        )
        .where(RequestEvent.request_id == request_id, RequestEvent.id > after)
        .order_by(RequestEvent.id)
        .limit(limit)
    )
    rows = (await db.execute(stmt)).all()
    named = await actors.name_all(
        db, (row.actor for row in rows), audience=viewer, customer_id=customer_id
    )
    return [
        LiveChange(
            id=id_,
            at=at,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
            actor=named[actor],
        )
        for id_, at, kind, from_status, to_status, note, actor in rows
    ]


async def ends_after(db: AsyncSession, *, request_id: uuid.UUID, after: int) -> bool:
    """Whether the change that ended the request comes after position `after` (a client that
    resumes from there has not seen the end yet)."""
    stmt = select(
        exists().where(
            RequestEvent.request_id == request_id,
            RequestEvent.id > after,
            RequestEvent.to_status.in_(TERMINAL),
        )
    )
    return bool((await db.execute(stmt)).scalar_one())


async def may_follow(
    db: AsyncSession, *, request_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> bool:
    """Whether this user (with this role, as it is now) may still follow the request."""
    stmt = select(exists().where(ServiceRequest.id == request_id, followable_by(user_id, role)))
    return bool((await db.execute(stmt)).scalar_one())
