"""The catalog's revision token: one row replaced by every admin change, so the public API keys
its response cache by it and answers an unchanged catalog without loading it."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

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
