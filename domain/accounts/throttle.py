"""Failure-based throttling of sign-in and code endpoints.

At most N failures per key (the caller's IP, and the account tried) in a sliding window; past that
the caller gets 429 with Retry-After until the oldest failure leaves the window. Successful
attempts cost nothing. The count lives in PostgreSQL so every API replica enforces the same limit.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import TooManyRequests
from domain.accounts.models import AuthFailure


async def ensure_allowed(
    db: AsyncSession, *, keys: list[str], max_failures: int, window: timedelta
) -> None:
    """TooManyRequests when any key has reached its failure budget in the window."""
    since = utcnow() - window
    stmt = (
        select(AuthFailure.key, func.count(), func.min(AuthFailure.created_at))
        .where(AuthFailure.key.in_(keys), AuthFailure.created_at > since)
        .group_by(AuthFailure.key)
    )
    for _key, count, oldest in (await db.execute(stmt)).all():
        if count >= max_failures:
            retry_after = math.ceil((oldest + window - utcnow()).total_seconds())
            raise TooManyRequests(
                "too many failed attempts; try again later", retry_after=retry_after
            )


async def record_failure(db: AsyncSession, *, keys: list[str], window: timedelta) -> None:
    """Count one failure against each key, and drop that key's failures older than the window."""
    cutoff = utcnow() - window
    await db.execute(
        delete(AuthFailure).where(AuthFailure.key.in_(keys), AuthFailure.created_at <= cutoff)
    )
    db.add_all([AuthFailure(key=key, created_at=utcnow()) for key in keys])
    await db.flush()
