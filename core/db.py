"""SQLAlchemy 2 engine, session factory and the declarative base shared by every domain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Select, func, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.settings import Settings

# Stable constraint names, so Alembic autogenerate and downgrades can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UUIDPk:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


# The escape character of every LIKE made from what someone typed (`contains(...)`).
LIKE_ESCAPE = "\\"


def contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own `%`, `_` and `\\` taken literally: use
    with `escape=LIKE_ESCAPE`. A search for "50%" finds "50%", not every row with "50"."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def make_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # No pre-ping: it costs a round trip on every checkout; stale connections are recycled
        # instead and a failed one surfaces as a retryable error.
        pool_recycle=1800,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def sync_url(url: str) -> str:
    """The same database URL for a synchronous driver (Alembic runs synchronously)."""
    return url.replace("+asyncpg", "+psycopg")


async def small_page(
    db: AsyncSession, stmt: Select[Any], *, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of `stmt` (an ordered select of one entity) and the number of all its rows, in ONE
    statement: `count(*) OVER ()` beside each row (a window is computed before LIMIT and OFFSET).
    For lists that are small whatever the page (one customer's own orders or plans): the window
    reads every match, where a separate count and a top-N page would read only the page from an
    index, so never for a list that can be long (the admin lists). A page past the end has no row
    to carry the count: then, and only then, a second statement counts."""
    rows = (
        await db.execute(stmt.add_columns(func.count().over()).limit(limit).offset(offset))
    ).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][-1])
    if offset == 0:
        return [], 0
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return [], int((await db.execute(counted)).scalar_one())
