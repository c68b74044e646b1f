"""Support for the app: the line's number and hours (public: the app shows them before sign-in
too, as to someone locked out of their account), and the signed-in user's callbacks: ask for one,
follow it, cancel it. Another customer's callback is a 404, exactly like a missing one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from api.pagination import CustomerPage
from api.problems import problems
from domain.support import service as support
from domain.support.models import CallbackStatus
from domain.support.schemas import CallbackIn, CallbackOut, SupportInfo
from domain.types import Page

router = APIRouter(prefix="/support", tags=["support"])

# The answer changes when the line opens or closes: a client may reuse it for a minute.
INFO_MAX_AGE_S = 60


@router.get("", response_model=SupportInfo)
async def support_line(settings: SettingsDep, now: NowDep, response: Response) -> SupportInfo:
    """The support number (E.164 and a `tel:` link for a one-tap call), its hours in its time
    zone, and whether it answers now (else when it opens: the app may offer a callback)."""
    response.headers["Cache-Control"] = f"public, max-age={INFO_MAX_AGE_S}"
    return support.support_info(settings, now=now)


@router.post(
    "/callbacks",
    response_model=CallbackOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "Too many callbacks already waiting; the detail says how many"},
        **problems(429),
    },
)
async def ask_callback(
    body: CallbackIn, user: CurrentUser, db: SessionDep, settings: SettingsDep, now: NowDep
) -> CallbackOut:
    """Ask support to call back, with a reason and, if you like, a note, a number (default:
    your account's) and when suits you."""
    callback = await support.ask_callback(db, user=user, data=body, settings=settings, now=now)
    await db.commit()
    return support.callback_out(callback)


@router.get("/callbacks", response_model=Page[CallbackOut])
async def list_callbacks(
    user: CurrentUser,
    db: SessionDep,
    page: CustomerPage,
    callback_status: Annotated[CallbackStatus | None, Query(alias="status")] = None,
) -> Page[CallbackOut]:
    """Your callbacks, the newest first."""
    rows, total = await support.list_callbacks(
        db, user_id=user.id, status=callback_status, limit=page.limit, offset=page.offset
    )
    return Page[CallbackOut](
        items=[support.callback_out(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/callbacks/{callback_id}", response_model=CallbackOut, responses=problems(404))
async def read_callback(callback_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> CallbackOut:
    """One of your callbacks."""
    callback = await support.get_callback(db, callback_id=callback_id, user_id=user.id)
    return support.callback_out(callback)


@router.post(
    "/callbacks/{callback_id}/cancel", response_model=CallbackOut, responses=problems(404, 409)
)
async def cancel_callback(
    callback_id: uuid.UUID, user: CurrentUser, db: SessionDep, now: NowDep
) -> CallbackOut:
    """You no longer need the call: cancelled, until it is closed (again: no change)."""
    callback = await support.cancel_callback(db, callback_id=callback_id, user_id=user.id, now=now)
    await db.commit()
    return support.callback_out(callback)
