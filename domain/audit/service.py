"""Writing the audit log. Callers pass plain dicts of the fields that matter."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit.models import AuditEntry


def record(
    db: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: str | uuid.UUID,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction (it commits with the change it describes),
    at `at` (the caller's clock, so it sorts with the times the change wrote) or the database's
    now."""
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    if at is not None:
        entry.at = at
    db.add(entry)
    return entry
