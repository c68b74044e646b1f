"""Selling plans: what a price comes to with its tax, and marking versions sold.

"Sold" means `plan_versions.sold_at` is set, by `lock_version_for_sale` or `mark_versions_sold`
(which the checkout calls in the transaction that records the purchase). A sold version never
changes, and a plan with a sold version cannot be deleted (archive).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.errors import NotFound
from domain.catalog.models import PlanVersion


def price_breakdown(*, amount_minor: int, tax_rate_bps: int, includes_tax: bool) -> tuple[int, int]:
    """(tax_minor, total_minor) of a price, rounded half up to the minor unit (GST style: an
    inclusive price contains the tax; an exclusive one has it added)."""
    if includes_tax:
        divisor = 10_000 + tax_rate_bps
        net = (2 * amount_minor * 10_000 + divisor) // (2 * divisor)
        return amount_minor - net, amount_minor
    tax = (2 * amount_minor * tax_rate_bps + 10_000) // 20_000
    return tax, amount_minor + tax


async def lock_version_for_sale(db: AsyncSession, *, version_id: uuid.UUID) -> PlanVersion:
    """Mark a version sold and return it with its terms; from then on it never changes and its
    plan can only be archived, not deleted. Idempotent (a retried checkout activity keeps the first
    `sold_at`). It does not check that the plan is still on sale: the checkout decides that before
    calling (a version superseded since it was shown is kept if it was published: the cart
    compares the version it holds with the plan's current one). NotFound for a version that
    does not exist.
    """
    # The UPDATE locks an unsold version until commit; a sold one can no longer be deleted.
    await mark_versions_sold(db, version_ids=[version_id])
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.id == version_id)
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
        .execution_options(populate_existing=True)
    )
    version = (await db.execute(stmt)).scalar_one_or_none()
    if version is None:
        raise NotFound("plan version not found")
    return version


async def mark_versions_sold(db: AsyncSession, *, version_ids: Sequence[uuid.UUID]) -> None:
    """Mark versions sold in one statement, without loading their terms (what settling an order
    needs: its foreign keys guarantee the versions exist). Versions already sold keep their first
    `sold_at`; the database refuses any other change to them."""
    await db.execute(
        update(PlanVersion)
        .where(PlanVersion.id.in_(set(version_ids)), PlanVersion.sold_at.is_(None))
        .values(sold_at=func.now())
        .execution_options(synchronize_session=False)
    )
