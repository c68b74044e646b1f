"""Staff (support and admin): the callback queue (list, take, hand to a staff member, log the calls
made for one, close with an outcome, each one's history) and the call log on a customer's record
(append-only; a correction is a new entry). Every move and every entry is in the audit log;
customers and technicians are refused with 403."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import NowDep, SessionDep, StaffUser
from api.pagination import StaffPage, at_most
from api.problems import problems
from domain.accounts import service as accounts
from domain.support import calls, queue
from domain.support import service as support
from domain.support.models import CallbackStatus
from domain.support.schemas import (
    AdminCallbackOut,
    AssignIn,
    CallbackCallIn,
    CallbackEventOut,
    CallIn,
    CallOut,
    ClosedCallbackOut,
    CloseIn,
)
from domain.types import Page

router = APIRouter(tags=["admin: support"])


@router.get("/admin/callbacks", response_model=Page[AdminCallbackOut])
async def list_callbacks(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    callback_status: Annotated[CallbackStatus | None, Query(alias="status")] = None,
    user_id: Annotated[uuid.UUID | None, Query(description="One customer's")] = None,
    taken_by: Annotated[uuid.UUID | None, Query(description="Taken by this staff member")] = None,
    waiting: Annotated[bool, Query(description="Only those still to do: open or taken")] = False,
) -> Page[AdminCallbackOut]:
    """Callbacks, filtered. Open and taken ones (the queue) come oldest first; otherwise the
    newest first."""
    rows, total = await support.list_callbacks(
        db,
        user_id=user_id,
        status=callback_status,
        taken_by_id=taken_by,
        waiting=waiting,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[AdminCallbackOut](
        items=await support.admin_outs(db, rows),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/admin/callbacks/{callback_id}", response_model=AdminCallbackOut, responses=problems(404)
)
async def read_callback(
    callback_id: uuid.UUID, _staff: StaffUser, db: SessionDep
) -> AdminCallbackOut:
    """One callback."""
    callback = await support.get_callback(db, callback_id=callback_id, user_id=None)
    return (await support.admin_outs(db, [callback]))[0]


@router.post(
    "/admin/callbacks/{callback_id}/take",
    response_model=AdminCallbackOut,
    responses={
        **problems(404),
        409: {"description": "Someone else took it, or it is closed or cancelled: the detail says"},
    },
)
async def take_callback(
    callback_id: uuid.UUID, staff: StaffUser, db: SessionDep, now: NowDep
) -> AdminCallbackOut:
    """Take an open callback: it is yours to call. Taking one you have is no change."""
    callback = await support.take_callback(db, callback_id=callback_id, staff=staff, now=now)
    await db.commit()
    return (await support.admin_outs(db, [callback]))[0]


@router.post(
    "/admin/callbacks/{callback_id}/assign",
    response_model=AdminCallbackOut,
    responses={
        **problems(404),
        409: {"description": "Someone else holds it, or it is closed or cancelled (the detail)"},
    },
)
async def assign_callback(
    callback_id: uuid.UUID, body: AssignIn, staff: StaffUser, db: SessionDep, now: NowDep
) -> AdminCallbackOut:
    """Hand a waiting callback to a staff member (yourself included): an open one, or one you
    hold; admins may hand over one someone else holds. To its holder: no change."""
    callback = await queue.assign_callback(
        db, callback_id=callback_id, staff=staff, to_id=body.staff_id, now=now
    )
    await db.commit()
    return (await support.admin_outs(db, [callback]))[0]


@router.post(
    "/admin/callbacks/{callback_id}/calls",
    response_model=CallOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **problems(404),
        409: {"description": "Someone else holds it, or it is closed or cancelled (the detail)"},
    },
)
async def log_callback_call(
    callback_id: uuid.UUID, body: CallbackCallIn, staff: StaffUser, db: SessionDep, now: NowDep
) -> CallOut:
    """Log the call you made for a callback (its tel: link dialled): on the customer's record,
    in the callback's history. An open callback becomes yours as you log it."""
    _, call = await queue.log_callback_call(
        db, callback_id=callback_id, staff=staff, data=body, now=now
    )
    await db.commit()
    return (await calls.call_outs(db, [call]))[0]


@router.get(
    "/admin/callbacks/{callback_id}/history",
    response_model=at_most(CallbackEventOut, queue.MAX_HISTORY),
    responses=problems(404),
)
async def callback_history(
    callback_id: uuid.UUID, _staff: StaffUser, db: SessionDep
) -> list[CallbackEventOut]:
    """What happened to a callback, the oldest first: asked, taken, handed over, each call made,
    closed or cancelled; each step with who took it, by name."""
    callback = await support.get_callback(db, callback_id=callback_id, user_id=None)
    return await queue.history(db, callback=callback)


@router.post(
    "/admin/callbacks/{callback_id}/close",
    response_model=ClosedCallbackOut,
    responses=problems(404, 409),
)
async def close_callback(
    callback_id: uuid.UUID, body: CloseIn, staff: StaffUser, db: SessionDep, now: NowDep
) -> ClosedCallbackOut:
    """Close a callback you took (or an open one: you take it as you close it; admins may close
    one someone else has) with its outcome and notes; with `call`, the call you made is logged on
    the customer's record."""
    callback, call = await support.close_callback(
        db, callback_id=callback_id, staff=staff, data=body, now=now
    )
    await db.commit()
    out = (await support.admin_outs(db, [callback]))[0]
    logged = (await calls.call_outs(db, [call]))[0] if call is not None else None
    return ClosedCallbackOut(**out.model_dump(), call=logged)


@router.get("/admin/users/{user_id}/calls", response_model=Page[CallOut], responses=problems(404))
async def list_calls(
    user_id: uuid.UUID, _staff: StaffUser, db: SessionDep, page: StaffPage
) -> Page[CallOut]:
    """The calls on a customer's record, the latest first."""
    customer = await accounts.get_user(db, user_id=user_id)
    rows, total = await calls.list_calls(
        db, user_id=customer.id, limit=page.limit, offset=page.offset
    )
    return Page[CallOut](
        items=await calls.call_outs(db, rows), total=total, limit=page.limit, offset=page.offset
    )


@router.post(
    "/admin/users/{user_id}/calls",
    response_model=CallOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404),
)
async def log_call(
    user_id: uuid.UUID, body: CallIn, staff: StaffUser, db: SessionDep, now: NowDep
) -> CallOut:
    """Log a call on a customer's record (number: theirs unless given). Entries are never changed;
    to correct one, log a new entry with `corrects_id`."""
    customer = await accounts.get_user(db, user_id=user_id)
    call = await calls.log_call(
        db, customer=customer, staff=staff, entry=calls.Entry.from_input(body), now=now
    )
    await db.commit()
    return (await calls.call_outs(db, [call]))[0]
