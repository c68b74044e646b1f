"""The call log on a customer's record: every call staff made to them or took from them, for
"call users for verification or support", with the number (a tel: link), direction, outcome,
purpose and notes, who logged it and when the call was.

Append-only: entries are never changed or removed (the database refuses it too: a trigger on
`support_calls`). A correction is a new entry naming the one it corrects. Each entry is in the
audit log. Keyword-only functions, the session first; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidField
from domain.accounts.models import User
from domain.audit import service as audit
from domain.support.models import (
    CallDirection,
    CallOutcome,
    CallPurpose,
    SupportCall,
    SupportCallback,
)
from domain.support.schemas import CallbackCallIn, CallIn, CallOut, StaffRef, tel

# When a call may be logged as having been: not in the future (a little clock skew aside), and
# not so long ago that the entry is not a record of a call anyone remembers.
FUTURE_SLACK = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)


@dataclass(frozen=True)
class Entry:
    """What one new entry says, from the call log's own form or from a callback being closed."""

    number: str | None
    direction: CallDirection
    outcome: CallOutcome
    purpose: CallPurpose
    notes: str | None
    callback_id: uuid.UUID | None
    corrects_id: uuid.UUID | None
    called_at: datetime | None

    @classmethod
    def from_input(cls, data: CallIn) -> Entry:
        return cls(
            number=data.number,
            direction=data.direction,
            outcome=data.outcome,
            purpose=data.purpose,
            notes=data.notes,
            callback_id=data.callback_id,
            corrects_id=data.corrects_id,
            called_at=data.called_at,
        )

    @classmethod
    def for_callback(cls, callback: SupportCallback, data: CallbackCallIn) -> Entry:
        """The call made for `callback`: outbound, to the number asked for unless another."""
        return cls(
            number=data.number or callback.phone,
            direction=CallDirection.outbound,
            outcome=data.outcome,
            purpose=CallPurpose.callback,
            notes=data.notes,
            callback_id=callback.id,
            corrects_id=None,
            called_at=data.called_at,
        )


async def log_call(
    db: AsyncSession,
    *,
    customer: User,
    staff: User,
    entry: Entry,
    now: datetime,
    loc: tuple[str, ...] = (),
) -> SupportCall:
    """A new entry on `customer`'s record, logged by `staff`; 422 on the field (under `loc`) that
    is wrong: no number to give, a time out of bounds, a callback or entry not of this customer."""
    number = entry.number or customer.phone
    if number is None:
        raise InvalidField((*loc, "number"), "this account has no phone; give the number dialled")
    called_at = entry.called_at or now
    if called_at > now + FUTURE_SLACK:
        raise InvalidField((*loc, "called_at"), "is in the future; log a call once it was made")
    if called_at < now - MAX_AGE:
        raise InvalidField((*loc, "called_at"), f"is more than {MAX_AGE.days} days ago")
    if entry.callback_id is not None:
        owner = await db.scalar(
            select(SupportCallback.user_id).where(SupportCallback.id == entry.callback_id)
        )
        if owner != customer.id:
            raise InvalidField((*loc, "callback_id"), "this customer has no callback with this id")
    if entry.corrects_id is not None:
        owner = await db.scalar(
            select(SupportCall.user_id).where(SupportCall.id == entry.corrects_id)
        )
        if owner != customer.id:
            raise InvalidField(
                (*loc, "corrects_id"), "this customer's log has no entry with this id"
            )
    call = SupportCall(
        id=uuid.uuid4(),
        user_id=customer.id,
        staff_id=staff.id,
        number=number,
        direction=entry.direction.value,
        outcome=entry.outcome.value,
        purpose=entry.purpose.value,
        notes=entry.notes,
        callback_id=entry.callback_id,
        corrects_id=entry.corrects_id,
        called_at=called_at,
        created_at=now,
    )
    db.add(call)
    await db.flush()
    audit.record(
        db,
        actor_id=staff.id,
        action="support_call.create",
        entity_type="support_call",
        entity_id=call.id,
        after={
            "user_id": str(customer.id),
            "number": number,
            "direction": call.direction,
            "outcome": call.outcome,
            "purpose": call.purpose,
            "callback_id": str(call.callback_id) if call.callback_id else None,
            "corrects_id": str(call.corrects_id) if call.corrects_id else None,
            "called_at": called_at.isoformat(),
        },
    )
    return call


async def list_calls(
    db: AsyncSession, *, user_id: uuid.UUID, limit: int, offset: int
) -> tuple[Sequence[SupportCall], int]:
    """A customer's calls, the latest first (by when they were, then when logged)."""
    rows = (
        await db.execute(
            select(SupportCall)
            .where(SupportCall.user_id == user_id)
            .order_by(SupportCall.called_at.desc(), SupportCall.created_at.desc(), SupportCall.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    total = (
        await db.execute(
            select(func.count()).select_from(SupportCall).where(SupportCall.user_id == user_id)
        )
    ).scalar_one()
    return list(rows), total


async def call_outs(db: AsyncSession, rows: Sequence[SupportCall]) -> list[CallOut]:
    """Entries as staff read them, with the name of who logged each (one query)."""
    staff_ids = {row.staff_id for row in rows}
    names: dict[uuid.UUID, str | None] = {}
    if staff_ids:
        found = await db.execute(select(User.id, User.name).where(User.id.in_(staff_ids)))
        names = {user_id: name for user_id, name in found.all()}
    return [
        CallOut(
            id=row.id,
            user_id=row.user_id,
            number=row.number,
            tel=tel(row.number),
            direction=CallDirection(row.direction),
            outcome=CallOutcome(row.outcome),
            purpose=CallPurpose(row.purpose),
            notes=row.notes,
            callback_id=row.callback_id,
            corrects_id=row.corrects_id,
            staff=StaffRef(id=row.staff_id, name=names.get(row.staff_id)),
            called_at=row.called_at,
            created_at=row.created_at,
        )
        for row in rows
    ]
