"""Places in the catalog. Every plan and every category has a position (1 first; the column is
still called `display_order`): a new one takes the next position, so it goes last; an admin moves
one a place up or down, or puts several first (reorder). The public catalog lists in this order.

The admin's lists show each kind in shelves: plans on sale, then drafts, then archived ones;
categories shown, then hidden ones. A move passes the next item of the same shelf (what the admin
sees beside it), and then the whole table is renumbered 1..N; every row whose position changed
is audited, and the catalog's revision moves so public caches drop the old order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidField, NotFound
from domain.audit import service as audit
from domain.catalog.models import Plan, PlanStatus, ServiceCategory
from domain.catalog.revision import touch_revision

Direction = Literal["up", "down"]

_PLAN_SHELF = case(
    {PlanStatus.active.value: 0, PlanStatus.draft.value: 1}, value=Plan.status, else_=2
)
# The admin's lists: shelf first, then position.
ADMIN_PLAN_ORDER = (_PLAN_SHELF, Plan.display_order, Plan.slug, Plan.id)
ADMIN_CATEGORY_ORDER = (
    ServiceCategory.is_active.desc(),
    ServiceCategory.display_order,
    ServiceCategory.name,
    ServiceCategory.id,
)
# The whole table in position order (the order every renumbering starts from).
_PLAN_ORDER = (Plan.display_order, Plan.slug, Plan.id)
_CATEGORY_ORDER = (ServiceCategory.display_order, ServiceCategory.name, ServiceCategory.id)


async def next_position(db: AsyncSession, model: type[Plan] | type[ServiceCategory]) -> int:
    """The position after the last one: where a new plan or category goes."""
    last = select(func.coalesce(func.max(model.display_order), 0) + 1)
    return int((await db.execute(last)).scalar_one())


class _Placed(Protocol):
    id: Any
    display_order: int


_T = TypeVar("_T", bound=_Placed)


async def _all_plans(db: AsyncSession) -> list[Plan]:
    stmt = select(Plan).order_by(*_PLAN_ORDER).with_for_update()
    return list((await db.execute(stmt)).scalars().all())


async def _all_categories(db: AsyncSession) -> list[ServiceCategory]:
    stmt = select(ServiceCategory).order_by(*_CATEGORY_ORDER).with_for_update()
    return list((await db.execute(stmt)).scalars().all())


async def move_plan(
    db: AsyncSession, *, plan_id: uuid.UUID, direction: Direction, actor_id: uuid.UUID | None
) -> bool:
    """Move a plan one place, past the next plan of the same status; False when it is already
    first (or last) of them, which changes nothing."""
    rows = await _all_plans(db)
    return await _move(
        db, rows, plan_id, direction, shelf=lambda p: p.status, kind="plan", actor_id=actor_id
    )


async def move_category(
    db: AsyncSession, *, category_id: uuid.UUID, direction: Direction, actor_id: uuid.UUID | None
) -> bool:
    """Move a category one place, past the next one shown (or hidden) like it."""
    rows = await _all_categories(db)
    return await _move(
        db,
        rows,
        category_id,
        direction,
        shelf=lambda c: c.is_active,
        kind="category",
        actor_id=actor_id,
    )


async def _move(
    db: AsyncSession,
    rows: list[_T],
    item_id: uuid.UUID,
    direction: Direction,
    *,
    shelf: Callable[[_T], Hashable],
    kind: str,
    actor_id: uuid.UUID | None,
) -> bool:
    index = next((i for i, row in enumerate(rows) if row.id == item_id), None)
    if index is None:
        raise NotFound(f"{kind} not found")
    item = rows[index]
    step = -1 if direction == "up" else 1
    other = index + step
    while 0 <= other < len(rows) and shelf(rows[other]) != shelf(item):
        other += step
    if not 0 <= other < len(rows):
        return False
    # Up: before the neighbour (its index is unchanged by taking the item out). Down: after it
    # (its index dropped by one when the item was taken out, so after it is `other` again).
    del rows[index]
    rows.insert(other, item)
    await _renumber(db, rows, action=f"{kind}.move", kind=kind, actor_id=actor_id)
    return True


async def reorder_plans(
    db: AsyncSession, *, ids: Sequence[uuid.UUID], actor_id: uuid.UUID | None
) -> int:
    """Put the given plans first, in that order; the rest follow in their old order. Returns
    how many plans there are."""
    rows = await _all_plans(db)
    await _renumber(
        db, _listed_first(rows, ids), action="plan.reorder", kind="plan", actor_id=actor_id
    )
    return len(rows)


async def reorder_categories(
    db: AsyncSession, *, ids: Sequence[uuid.UUID], actor_id: uuid.UUID | None
) -> None:
    """Put the given categories first, in that order; the rest follow in their old order."""
    rows = await _all_categories(db)
    await _renumber(
        db, _listed_first(rows, ids), action="category.reorder", kind="category", actor_id=actor_id
    )


def _listed_first(rows: list[_T], ids: Sequence[uuid.UUID]) -> list[_T]:
    by_id = {row.id: row for row in rows}
    for index, row_id in enumerate(ids):
        if row_id not in by_id:
            raise InvalidField(("ids", index), f"no such id: {row_id}")
    wanted = set(ids)
    return [by_id[i] for i in ids] + [row for row in rows if row.id not in wanted]


async def _renumber(
    db: AsyncSession, rows: list[_T], *, action: str, kind: str, actor_id: uuid.UUID | None
) -> None:
    """Positions 1..N in the order given; each row whose position changed is audited."""
    moved = False
    for position, row in enumerate(rows, start=1):
        if row.display_order == position:
            continue
        audit.record(
            db,
            actor_id=actor_id,
            action=action,
            entity_type=kind,
            entity_id=row.id,
            before={"position": row.display_order},
            after={"position": position},
        )
        row.display_order = position
        moved = True
    if moved:
        await db.flush()
        await touch_revision(db)
