"""Service requests: what ServiceRequestWorkflow's activities write (the request, its timeline,
the dispatch log) and the checks the API makes before a request is asked for.

Keyword-only functions, the session first; they raise `core.errors` exceptions and never commit.
Every write an activity makes is keyed (`service_requests.id`, `service_request_events.event_key`,
`dispatch_decisions.decision_key`), so a retried activity writes nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidField, NotFound
from core.settings import Settings
from domain import actors, timefmt
from domain.audit import service as audit
from domain.reports import rollups
from domain.service_requests.contracts import Change, RequestInput, Suggested
from domain.service_requests.models import (
    DispatchDecision,
    RequestEvent,
    RequestStatus,
    ServiceRequest,
)

# Change fields whose value "now" means the change's own time.
TIMES = ("assigned_at", "started_at", "completed_at", "cancelled_at", "rated_at")
FIELDS = {
    "status",
    "technician_id",
    "escalated",
    "overdue",
    "window_start",
    "window_end",
    "completion_notes",
    "parts_used",
    "rating",
    "rating_comment",
    *TIMES,
}


def check_window(start: datetime, end: datetime, *, now: datetime, settings: Settings) -> None:
    """The window a customer may ask for: ahead enough, not too far, neither too short nor too
    long (InvalidField naming the field)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidField(("window_start",), "give a time zone (e.g. 2026-12-05T10:00:00+05:30)")
    notice = timedelta(minutes=settings.request_min_notice_minutes)
    if start < now + notice:
        raise InvalidField(
            ("window_start",),
            f"must be at least {settings.request_min_notice_minutes} minutes from now",
        )
    if start > now + timedelta(days=settings.request_max_days_ahead):
        raise InvalidField(
            ("window_start",), f"must be within {settings.request_max_days_ahead} days"
        )
    length = end - start
    if length <= timedelta(0):
        raise InvalidField(
            ("window_end",), "the window is reversed: window_end must be after window_start"
        )
    if length < timedelta(minutes=settings.request_window_min_minutes):
        raise InvalidField(
            ("window_end",),
            f"the window must be at least {settings.request_window_min_minutes} minutes long",
        )
    if length > timedelta(hours=settings.request_window_max_hours):
        raise InvalidField(
            ("window_end",), f"the window must be at most {settings.request_window_max_hours} hours"
        )


async def record_opened_request(db: AsyncSession, *, inp: RequestInput, at: datetime) -> None:
    """The request as asked for (its visit reserved), with the first entry of its timeline;
    once: a second call finds it."""
    opened = await db.execute(
        pg_insert(ServiceRequest)
        .values(
            id=inp.request_id,
            user_id=inp.user_id,
            subscription_id=inp.subscription_id,
            category_id=inp.category_id,
            address_id=inp.address_id,
            address=inp.address,
            postal_code=inp.postal_code,
            description=inp.description,
            window_start=inp.window_start,
            window_end=inp.window_end,
            status=RequestStatus.pending.value,
            parts_used=[],
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(ServiceRequest.id)
    )
    if opened.scalar_one_or_none() is not None:  # counted once: a second call inserts nothing
        await rollups.count_request_opened(db, at=at)
    await _event(
        db,
        request_id=inp.request_id,
        key=f"request:{inp.request_id}:0:created",
        at=at,
        actor="customer",
        kind="created",
        from_status=None,
        to_status=RequestStatus.pending.value,
        note=inp.description[:500],
    )
    await db.flush()


async def record_change(db: AsyncSession, *, change: Change) -> bool:
    """A change to the request's row and an entry in its timeline, once per key (a retried
    activity finds the entry and changes nothing); True if new."""
    written = await _event(
        db,
        request_id=change.request_id,
        key=change.key,
        at=change.at,
        actor=change.actor,
        kind=change.kind,
        from_status=change.from_status.value if change.from_status else None,
        to_status=change.to_status.value if change.to_status else None,
        note=_note(change),
        data=change.data,
    )
    if not written:
        return False
    request = await db.get(ServiceRequest, change.request_id, with_for_update=True)
    if request is None:
        raise NotFound("service request not found")
    for name, value in change.fields.items():
        if name not in FIELDS:
            raise ValueError(f"a change cannot set {name!r}")
        if name in TIMES and value == "now":
            value = change.at
        elif name in ("window_start", "window_end") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif name == "technician_id" and isinstance(value, str):
            value = uuid.UUID(value)
        setattr(request, name, value)
    await rollups.count_request_moved(
        db,
        from_status=change.from_status.value if change.from_status else None,
        to_status=change.to_status.value if change.to_status else None,
        at=change.at,
    )
    _audit(db, change)
    await db.flush()
    return True


# A staff member's move, as the audit log names it.
AUDITED = {
    "assigned": "service_request.assign",
    "reassigned": "service_request.reassign",
    "started": "service_request.start",
    "completed": "service_request.complete",
    "cancelled": "service_request.cancel",
    "rescheduled": "service_request.reschedule",
}


def _audit(db: AsyncSession, change: Change) -> None:
    """A staff member's move is in the audit log, written with the change (one transaction, and
    once: a retried activity finds its timeline entry and writes neither again)."""
    staff_id = actors.staff_id(change.actor)
    if staff_id is None or change.kind not in AUDITED:
        return
    after = {k: v for k, v in change.fields.items() if v != "now"}
    if change.to_status is not None:
        after["status"] = change.to_status.value
    if change.note:
        after["reason"] = change.note
    audit.record(
        db,
        actor_id=staff_id,
        action=AUDITED[change.kind],
        entity_type="service_request",
        entity_id=change.request_id,
        before={"status": change.from_status.value} if change.from_status else None,
        after=after,
    )


def too_early_to_start(window_start: datetime, *, now: datetime, settings: Settings) -> str | None:
    """Why a visit cannot start yet (more than `job_start_early_minutes` before its window), or
    None when it can."""
    earliest = window_start - timedelta(minutes=settings.job_start_early_minutes)
    if now >= earliest:
        return None
    return (
        f"this visit's window starts {timefmt.when(window_start)}: "
        f"it can be started from {timefmt.when(earliest)}"
    )


def _note(change: Change) -> str | None:
    """The timeline's words for a change; a move of the window says where to, in the business's
    zone (the workflow passes the window, never words for a time)."""
    start, end = change.fields.get("window_start"), change.fields.get("window_end")
    if change.kind != "rescheduled" or not isinstance(start, str) or not isinstance(end, str):
        return change.note
    moved = f"moved to {timefmt.window(datetime.fromisoformat(start), datetime.fromisoformat(end))}"
    return f"{moved}; {change.note}" if change.note else moved


async def log_dispatch(
    db: AsyncSession,
    *,
    request_id: uuid.UUID,
    key: str,
    at: datetime,
    actor: str,
    technician_id: uuid.UUID,
    reason: str | None,
    suggested: list[Suggested],
) -> None:
    """Who was suggested, who chose whom, and why; once per assignment."""
    await db.execute(
        pg_insert(DispatchDecision)
        .values(
            request_id=request_id,
            decision_key=key,
            at=at,
            actor=actor,
            technician_id=technician_id,
            reason=reason,
            suggested=[s.model_dump(mode="json") for s in suggested],
        )
        .on_conflict_do_nothing(index_elements=["decision_key"])
    )


async def _event(db: AsyncSession, *, request_id: uuid.UUID, key: str, **values: Any) -> bool:
    written = (
        await db.execute(
            pg_insert(RequestEvent)
            .values(
                request_id=request_id, event_key=key, data=values.pop("data", None) or {}, **values
            )
            .on_conflict_do_nothing(index_elements=["event_key"])
            .returning(RequestEvent.id)
        )
    ).scalar_one_or_none()
    return written is not None
