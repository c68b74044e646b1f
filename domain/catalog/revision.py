"""What every admin change to the catalog does in its transaction: flush (a slug taken meanwhile is
a Conflict), and replace the catalog's revision token: one row replaced by every admin change, so
the public API keys its response cache by it and answers an unchanged catalog without loading it."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from domain.catalog.models import CatalogState


async def read_revision(db: AsyncSession) -> str:
    """Start a REPEATABLE READ snapshot and return the catalog's revision token in it, so what the
    caller reads next in this session is exactly the catalog that token names. Call first."""
    await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    token = (await db.execute(select(CatalogState.revision))).scalar_one_or_none()
    return token.hex if token is not None else "empty"


async def touch_revision(db: AsyncSession) -> None:
    """Replace the token in the caller's transaction: the caches drop what they hold at commit."""
    stmt = pg_insert(CatalogState).values(id=1, revision=uuid.uuid4(), changed_at=func.now())
    stmt = stmt.on_conflict_do_update(
        index_elements=[CatalogState.id],
        set_={"revision": stmt.excluded.revision, "changed_at": stmt.excluded.changed_at},
    )
    await db.execute(stmt)


async def flush_or_conflict(db: AsyncSession, message: str) -> None:
    """Flush; a unique violation (a slug taken meanwhile) is a Conflict with `message`."""
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc
