"""The support inbox beyond taking and closing (`service`): handing a waiting callback to a staff
member, logging a call made for a callback, and a callback's history in words.

- Any staff member may hand an open callback, or one they hold, to an active staff member
  (themselves included); an admin may hand over one someone else holds. A closed or cancelled
  callback is a 409, a target who is not active staff a 422 on `staff_id`.
- A call for a callback is logged on the customer's record (`calls.log_call`, audited) linked to
  it; logging a call on an open callback takes it for whoever called (audited too). One someone
  else holds is theirs to call (409) unless an admin logs it; a closed one is a 409.
- The history is read from what is already written: the callback's row (asked, cancelled), the
  audit log (taken, assigned, closed: who and when) and the call log (each call, by whom).

Keyword-only functions, the session first; the caller commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidField
from domain import actors
from domain.accounts.models import Role, User
from domain.audit import service as audit
from domain.audit.models import AuditEntry
from domain.support import calls
from domain.support import service as support
from domain.support.models import (
    WAITING,
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
    CallOutcome,
    SupportCall,
    SupportCallback,
)
from domain.support.schemas import CallbackCallIn, CallbackEventOut

STAFF_ROLES = (Role.admin.value, Role.support.value)

CALL_WORDS = {
    CallOutcome.reached: "reached them",
    CallOutcome.no_answer: "no answer",
    CallOutcome.busy: "the line was busy",
    CallOutcome.voicemail: "left a voicemail",
    CallOutcome.wrong_number: "wrong number",
    CallOutcome.failed: "the call did not go through",
}
CLOSE_WORDS = {
    CallbackOutcome.resolved: "resolved",
    CallbackOutcome.unreachable: "could not reach them",
    CallbackOutcome.not_needed: "no longer needed",
    CallbackOutcome.duplicate: "a duplicate of another callback",
}
REASON_WORDS = {
    CallbackReason.billing: "billing",
    CallbackReason.service: "a visit",
    CallbackReason.plan: "a plan",
    CallbackReason.account: "their account",
    CallbackReason.other: "something else",
}


async def _active_staff(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES or not user.is_active:
        raise InvalidField(("staff_id",), "is not an active staff member; pick one from the list")
    return user


async def assign_callback(
    db: AsyncSession, *, callback_id: uuid.UUID, staff: User, to_id: uuid.UUID, now: datetime
) -> SupportCallback:
    """Hand a waiting callback to `to_id` (see the module's rules); to its holder: no change."""
    target = await _active_staff(db, to_id)
    callback = await support.get_callback(db, callback_id=callback_id, user_id=None)
    before = support.snapshot(callback)
    if callback.status == CallbackStatus.taken.value and callback.taken_by_id == target.id:
        return callback
    holder_ok = (
        SupportCallback.status.in_(WAITING)
        if staff.role == Role.admin.value
        else or_(
            SupportCallback.status == CallbackStatus.open.value,
            and_(
                SupportCallback.status == CallbackStatus.taken.value,
                SupportCallback.taken_by_id == staff.id,
            ),
        )
    )
    moved = await db.execute(
        update(SupportCallback)
        .where(
            SupportCallback.id == callback_id,
            holder_ok,
            # As it was read: a move made meanwhile by someone else wins, and this one is refused.
            SupportCallback.status == callback.status,
            SupportCallback.taken_by_id.is_not_distinct_from(callback.taken_by_id),
        )
        .values(
            status=CallbackStatus.taken.value, taken_by_id=target.id, taken_at=now, updated_at=now
        )
        .returning(SupportCallback.id)
    )
    assigned = moved.scalar_one_or_none() is not None
    callback = await support.get_callback(db, callback_id=callback_id, user_id=None)
    if not assigned:
        raise await support.refusal(db, callback)
    audit.record(
        db,
        actor_id=staff.id,
        action="support_callback.assign",
        entity_type="support_callback",
        entity_id=callback.id,
        before=before,
        after=support.snapshot(callback),
        at=now,
    )
    return callback


async def log_callback_call(
    db: AsyncSession,
    *,
    callback_id: uuid.UUID,
    staff: User,
    data: CallbackCallIn,
    now: datetime,
) -> tuple[SupportCallback, SupportCall]:
    """A call `staff` made for a callback, logged on the customer's record (see the module)."""
    callback = await support.get_callback(db, callback_id=callback_id, user_id=None)
    if callback.status == CallbackStatus.open.value:
        callback = await support.take_callback(db, callback_id=callback_id, staff=staff, now=now)
    elif callback.status == CallbackStatus.taken.value:
        if callback.taken_by_id != staff.id and staff.role != Role.admin.value:
            raise await support.refusal(db, callback)
    else:
        closed = await support.refusal(db, callback)
        raise Conflict(f"{closed.detail}; log a later call on the customer's record instead")
    customer = await db.get(User, callback.user_id)
    assert customer is not None  # the foreign key keeps it
    call = await calls.log_call(
        db,
        customer=customer,
        staff=staff,
        entry=calls.Entry.for_callback(callback, data),
        now=now,
    )
    return callback, call


# --- the history ----------------------------------------------------------------------------------


def _outcome(value: object) -> str:
    try:
        return CLOSE_WORDS[CallbackOutcome(str(value))]
    except ValueError:
        return str(value)


# A callback's history is answered whole: its newest this many steps.
MAX_HISTORY = 200


async def history(db: AsyncSession, *, callback: SupportCallback) -> list[CallbackEventOut]:
    """What happened to `callback`, the oldest first (the newest MAX_HISTORY steps), each step
    with who took it, by name."""
    entries = list(
        (
            await db.execute(
                select(AuditEntry)
                .where(
                    AuditEntry.entity_type == "support_callback",
                    AuditEntry.entity_id == str(callback.id),
                )
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        ).scalars()
    )
    made = list(
        (
            await db.execute(
                select(SupportCall)
                .where(SupportCall.callback_id == callback.id)
                .order_by(SupportCall.called_at, SupportCall.created_at)
            )
        ).scalars()
    )
    staff_ids = {e.actor_id for e in entries if e.actor_id} | {c.staff_id for c in made}
    staff_ids |= {
        uuid.UUID(str(e.after["taken_by_id"]))
        for e in entries
        if e.after and e.after.get("taken_by_id")
    }
    recorded = [actors.staff(i) for i in staff_ids] + [actors.CUSTOMER]
    named = await actors.name_all(db, recorded, audience="staff", customer_id=callback.user_id)

    def staff_name(user_id: uuid.UUID | str | None) -> str:
        if user_id is None:
            return "System"
        return named[actors.staff(uuid.UUID(str(user_id)))].name

    customer = named[actors.CUSTOMER].name
    reason = REASON_WORDS.get(CallbackReason(callback.reason), callback.reason)
    events = [
        CallbackEventOut(
            at=callback.created_at,
            kind="asked",
            text=f"Asked to be called about {reason}",
            actor=customer,
            notes=callback.note,
        )
    ]
    for entry in entries:
        after = entry.after or {}
        who = staff_name(entry.actor_id)
        if entry.action == "support_callback.take":
            events.append(CallbackEventOut(at=entry.at, kind="taken", text="Took it", actor=who))
        elif entry.action == "support_callback.assign":
            to = staff_name(after.get("taken_by_id"))
            text = "Took it" if to == who else f"Handed it to {to}"
            events.append(CallbackEventOut(at=entry.at, kind="assigned", text=text, actor=who))
        elif entry.action == "support_callback.close":
            events.append(
                CallbackEventOut(
                    at=entry.at,
                    kind="closed",
                    text=f"Closed it: {_outcome(after.get('outcome'))}",
                    actor=who,
                    notes=after.get("notes") if isinstance(after.get("notes"), str) else None,
                )
            )
    for call in made:
        events.append(
            CallbackEventOut(
                at=call.called_at,
                kind="call",
                text=f"Called {call.number}: {CALL_WORDS[CallOutcome(call.outcome)]}",
                actor=staff_name(call.staff_id),
                notes=call.notes,
            )
        )
    if callback.cancelled_at is not None:
        events.append(
            CallbackEventOut(
                at=callback.cancelled_at, kind="cancelled", text="Cancelled it", actor=customer
            )
        )
    return sorted(events, key=lambda e: e.at)[-MAX_HISTORY:]
