"""Reading the audit log: entries the newest first, filtered by who, what and when, each with the
actor's name, the reason the change gave, and in words: what was done, what changed (`summary`)
and what it was about, by name (`entities`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.audit import entities, summary
from domain.audit.entities import EntityRef
from domain.audit.models import AuditEntry
from domain.audit.summary import Change


class AuditEntryOut(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None = Field(description="Null when the account was deleted since")
    actor_name: str | None = Field(description="The actor's name, or email when they have none")
    action: str = Field(description="What was done, e.g. `plan.publish`, `order.refund`")
    entity_type: str
    entity_id: str
    reason: str | None = Field(description="The reason given with the change, if any")
    detail: dict[str, Any] = Field(description="`before` and `after`: the fields that changed")
    summary: str = Field(description="What was done, in words: `Changed the plan`")
    changes: list[Change] = Field(
        description="Each field that changed, in words: Price, 2,999.00 INR, 3,499.00 INR"
    )
    entity: EntityRef = Field(description="What it was about, by name, and which screen shows it")


async def list_entries(
    db: AsyncSession,
    *,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEntryOut], int]:
    """Entries the newest first (`since` inclusive, `until` exclusive) and the total."""
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.action, action),
        (AuditEntry.entity_type, entity_type),
        (AuditEntry.entity_id, entity_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    page = (
        stmt.add_columns(func.coalesce(User.name, User.email))
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await db.execute(page)).all()
    named = summary.ids_named(*(r for entry, _ in rows for r in (entry.before, entry.after)))
    refs, names = await entities.describe(db, [entry for entry, _ in rows], named)
    return [_out(entry, name, refs[entry.id], names) for entry, name in rows], int(total)


def _out(
    entry: AuditEntry, actor_name: str | None, entity: EntityRef, names: dict[str, str]
) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_name=actor_name,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        reason=_reason(entry.after) or _reason(entry.before),
        detail={"before": entry.before, "after": entry.after},
        summary=summary.phrase(entry.action),
        changes=summary.changes(entry.before, entry.after, names),
        entity=entity,
    )


def _reason(values: dict[str, Any] | None) -> str | None:
    reason = (values or {}).get("reason")
    return reason if isinstance(reason, str) else None
