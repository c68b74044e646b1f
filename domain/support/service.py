"""Support: the line's number and hours, and callbacks.

- A customer asks for a callback (a reason, a note, a number: theirs by default, and when they
  would like it). They may have `SUPPORT_MAX_OPEN_CALLBACKS` waiting (open or taken) at once, a
  409; and ask for `SUPPORT_CALLBACKS_PER_ACCOUNT` in `SUPPORT_CALLBACK_WINDOW_SECONDS`, a 429 with
  Retry-After (the throttle of domain.accounts.throttle, counted in PostgreSQL). The customer's
  row is locked while counting, so two requests at once cannot both take the last place.
- Staff take one (it is theirs to call: taking one someone else has is a 409 naming them) and
  close it with an outcome, optionally logging the call on the customer's record. Each move is one
  conditional UPDATE, so concurrent moves cannot both win. Admins may close a callback someone
  else holds (they left, they are away).
- The customer may cancel theirs until it is closed. Another customer's callback is a 404, as
  for a missing one.

Staff moves are written to the audit log. Keyword-only functions, the session first; the caller
commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidField, NotFound
from core.settings import WEEKDAYS, Settings
from domain import timefmt
from domain.accounts import throttle
from domain.accounts.models import Role, User
from domain.audit import service as audit
from domain.support import calls
from domain.support.hours import opening_state
from domain.support.models import WAITING, CallbackStatus, SupportCall, SupportCallback
from domain.support.schemas import (
    AdminCallbackOut,
    CallbackIn,
    CallbackOut,
    CloseIn,
    OpeningHours,
    StaffRef,
    SupportInfo,
    tel,
)

# How far ahead a customer may ask to be called.
MAX_DAYS_AHEAD = 14


# --- the line -------------------------------------------------------------------------------------


def support_info(settings: Settings, *, now: datetime) -> SupportInfo:
    """The number to call and when it answers, as of `now`."""
    week = settings.support_week
    state = opening_state(week, ZoneInfo(settings.support_timezone), now)
    return SupportInfo(
        phone=settings.support_phone,
        tel=tel(settings.support_phone),
        timezone=settings.support_timezone,
        hours=[
            OpeningHours(day=day, opens=opens, closes=closes)
            for day in WEEKDAYS
            for opens, closes in week.get(day, [])
        ],
        open_now=state.open_now,
        closes_at=state.closes_at,
        opens_at=state.opens_at,
    )


# --- a customer's callbacks -----------------------------------------------------------------------


def callback_limit(settings: Settings) -> throttle.Limit:
    return throttle.Limit(
        "support:callback:account",
        settings.support_callbacks_per_account,
        timedelta(seconds=settings.support_callback_window_seconds),
        "too many callbacks were asked for from this account",
    )


def _check_window(data: CallbackIn, *, now: datetime) -> None:
    if data.preferred_to is not None and data.preferred_to <= now:
        raise InvalidField(("preferred_to",), "is in the past; give a time still to come")
    if data.preferred_from is not None and data.preferred_from > now + timedelta(
        days=MAX_DAYS_AHEAD
    ):
        raise InvalidField(
            ("preferred_from",), f"is more than {MAX_DAYS_AHEAD} days ahead; ask nearer the time"
        )


async def ask_callback(
    db: AsyncSession, *, user: User, data: CallbackIn, settings: Settings, now: datetime
) -> SupportCallback:
    """A new callback of `user`, or 422 (no number to call, a window past or too far), 409 (too
    many waiting) or 429 (too many asked for lately)."""
    phone = data.phone or user.phone
    if phone is None:
        raise InvalidField(
            ("phone",), "your account has no phone number; give the number to call you on"
        )
    _check_window(data, now=now)
    # Held to the commit: a second request of this customer waits here, then counts this one.
    await db.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    waiting = (
        await db.execute(
            select(func.count())
            .select_from(SupportCallback)
            .where(SupportCallback.user_id == user.id, SupportCallback.status.in_(WAITING))
        )
    ).scalar_one()
    cap = settings.support_max_open_callbacks
    if waiting >= cap:
        raise Conflict(
            f"you already have {waiting} callbacks waiting (at most {cap}); "
            "cancel one you no longer need, or wait for our call"
        )
    await throttle.spend(db, [callback_limit(settings).on(str(user.id))])
    callback = SupportCallback(
        user_id=user.id,
        reason=data.reason.value,
        note=data.note,
        phone=phone,
        preferred_from=data.preferred_from,
        preferred_to=data.preferred_to,
        status=CallbackStatus.open.value,
        created_at=now,
        updated_at=now,
    )
    db.add(callback)
    await db.flush()
    return callback


async def get_callback(
    db: AsyncSession, *, callback_id: uuid.UUID, user_id: uuid.UUID | None
) -> SupportCallback:
    """One callback (of `user_id` when given: anyone else's is not found, like a missing one)."""
    stmt = select(SupportCallback).where(SupportCallback.id == callback_id)
    if user_id is not None:
        stmt = stmt.where(SupportCallback.user_id == user_id)
    found = (await db.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound("no such callback")
    return found


async def list_callbacks(
    db: AsyncSession,
    *,
    user_id: uuid.UUID | None = None,
    status: CallbackStatus | None = None,
    taken_by_id: uuid.UUID | None = None,
    waiting: bool = False,
    limit: int,
    offset: int,
) -> tuple[Sequence[SupportCallback], int]:
    """Callbacks, filtered (`waiting`: open or taken). Those still to do come oldest first: the
    queue; the others, and a customer's own list, newest first."""
    where: list[ColumnElement[bool]] = []
    if user_id is not None:
        where.append(SupportCallback.user_id == user_id)
    if status is not None:
        where.append(SupportCallback.status == status.value)
    if taken_by_id is not None:
        where.append(SupportCallback.taken_by_id == taken_by_id)
    if waiting:
        where.append(SupportCallback.status.in_(WAITING))
    queue = waiting or (status is not None and status.value in WAITING)
    order = SupportCallback.created_at.asc() if queue else SupportCallback.created_at.desc()
    rows = (
        await db.execute(
            select(SupportCallback)
            .where(*where)
            .order_by(order, SupportCallback.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    total = (
        await db.execute(select(func.count()).select_from(SupportCallback).where(*where))
    ).scalar_one()
    return list(rows), total


async def cancel_callback(
    db: AsyncSession, *, callback_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> SupportCallback:
    """The customer no longer wants it: cancelled until it is closed (again: no change)."""
    moved = await db.execute(
        update(SupportCallback)
        .where(
            SupportCallback.id == callback_id,
            SupportCallback.user_id == user_id,
            SupportCallback.status.in_(WAITING),
        )
        .values(status=CallbackStatus.cancelled.value, cancelled_at=now, updated_at=now)
        .returning(SupportCallback.id)
    )
    callback = await get_callback(db, callback_id=callback_id, user_id=user_id)
    if moved.scalar_one_or_none() is None and callback.status == CallbackStatus.closed.value:
        raise Conflict("this callback is already closed; ask for a new one if you need us again")
    return callback


# --- staff ----------------------------------------------------------------------------------------


def snapshot(callback: SupportCallback) -> dict[str, Any]:
    return {
        "status": callback.status,
        "taken_by_id": str(callback.taken_by_id) if callback.taken_by_id else None,
        "outcome": callback.outcome,
    }


async def _name(db: AsyncSession, user_id: uuid.UUID | None) -> str:
    name = (await db.execute(select(User.name).where(User.id == user_id))).scalar_one_or_none()
    return name or "another staff member"


async def refusal(db: AsyncSession, callback: SupportCallback) -> Conflict:
    """Why a staff member cannot move `callback` on from where it is."""
    if callback.status == CallbackStatus.taken.value:
        who = await _name(db, callback.taken_by_id)
        when = timefmt.moment(callback.taken_at) if callback.taken_at else "earlier"
        return Conflict(f"{who} took this callback at {when}; it is theirs to call")
    if callback.status == CallbackStatus.closed.value:
        return Conflict(f"this callback is closed ({callback.outcome})")
    return Conflict("the customer cancelled this callback")


async def take_callback(
    db: AsyncSession, *, callback_id: uuid.UUID, staff: User, now: datetime
) -> SupportCallback:
    """`staff` takes an open callback: theirs to call. Taking one they have is no change; one
    someone else has, or one closed or cancelled, is a 409 saying so."""
    moved = await db.execute(
        update(SupportCallback)
        .where(
            SupportCallback.id == callback_id,
            SupportCallback.status == CallbackStatus.open.value,
        )
        .values(
            status=CallbackStatus.taken.value, taken_by_id=staff.id, taken_at=now, updated_at=now
        )
        .returning(SupportCallback.id)
    )
    took = moved.scalar_one_or_none() is not None
    callback = await get_callback(db, callback_id=callback_id, user_id=None)
    if not took:
        if callback.status == CallbackStatus.taken.value and callback.taken_by_id == staff.id:
            return callback
        raise await refusal(db, callback)
    audit.record(
        db,
        actor_id=staff.id,
        action="support_callback.take",
        entity_type="support_callback",
        entity_id=callback.id,
        before={"status": CallbackStatus.open.value, "taken_by_id": None, "outcome": None},
        after=snapshot(callback),
        at=now,
    )
    return callback


async def close_callback(
    db: AsyncSession, *, callback_id: uuid.UUID, staff: User, data: CloseIn, now: datetime
) -> tuple[SupportCallback, SupportCall | None]:
    """Close a callback with its outcome: one that is open (`staff` takes it as they close it) or
    that `staff` took (an admin: or anyone took). With `data.call`, the call is logged on the
    customer's record, linked to the callback."""
    callback = await get_callback(db, callback_id=callback_id, user_id=None)
    before = snapshot(callback)
    taken = SupportCallback.status == CallbackStatus.taken.value
    may_close = or_(
        SupportCallback.status == CallbackStatus.open.value,
        taken
        if staff.role == Role.admin.value
        else and_(taken, SupportCallback.taken_by_id == staff.id),
    )
    moved = await db.execute(
        update(SupportCallback)
        .where(SupportCallback.id == callback_id, may_close)
        .values(
            status=CallbackStatus.closed.value,
            taken_by_id=func.coalesce(SupportCallback.taken_by_id, staff.id),
            taken_at=func.coalesce(SupportCallback.taken_at, now),
            closed_by_id=staff.id,
            closed_at=now,
            outcome=data.outcome.value,
            close_notes=data.notes,
            updated_at=now,
        )
        .returning(SupportCallback.id)
    )
    closed = moved.scalar_one_or_none() is not None
    callback = await get_callback(db, callback_id=callback_id, user_id=None)
    if not closed:
        raise await refusal(db, callback)
    call = None
    if data.call is not None:
        customer = await db.get(User, callback.user_id)
        assert customer is not None  # the foreign key keeps it
        call = await calls.log_call(
            db,
            customer=customer,
            staff=staff,
            entry=calls.Entry.for_callback(callback, data.call),
            now=now,
            loc=("call",),
        )
    audit.record(
        db,
        actor_id=staff.id,
        action="support_callback.close",
        entity_type="support_callback",
        entity_id=callback.id,
        before=before,
        after={
            **snapshot(callback),
            "notes": callback.close_notes,
            "call_id": str(call.id) if call else None,
        },
        at=now,
    )
    return callback, call


# --- outputs --------------------------------------------------------------------------------------


def callback_out(callback: SupportCallback) -> CallbackOut:
    return CallbackOut.model_validate(callback)


async def admin_outs(
    db: AsyncSession, callbacks: Sequence[SupportCallback]
) -> list[AdminCallbackOut]:
    """Callbacks as staff see them, with the names of the customer and of who took and closed
    each (read in one query)."""
    ids = {
        user_id
        for c in callbacks
        for user_id in (c.user_id, c.taken_by_id, c.closed_by_id)
        if user_id is not None
    }
    names: dict[uuid.UUID, str | None] = {}
    if ids:
        rows = await db.execute(select(User.id, User.name).where(User.id.in_(ids)))
        names = {user_id: name for user_id, name in rows.all()}

    def ref(user_id: uuid.UUID | None) -> StaffRef | None:
        return StaffRef(id=user_id, name=names.get(user_id)) if user_id else None

    return [
        AdminCallbackOut(
            **callback_out(c).model_dump(),
            user_id=c.user_id,
            customer_name=names.get(c.user_id),
            tel=tel(c.phone),
            taken_by=ref(c.taken_by_id),
            closed_by=ref(c.closed_by_id),
            close_notes=c.close_notes,
        )
        for c in callbacks
    ]
