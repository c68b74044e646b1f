"""The cart: plans a customer means to buy, each for one of their addresses.

An item remembers the plan version the customer saw. When the catalog moves on (a new version, the
plan archived) or the address is deleted, the item stays and lists its `issues`; an order is only
placed from a cart without issues, so nobody pays a price they were not shown. `refresh` takes the
plan's current terms.

Keyword-only functions, the session first; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.errors import Conflict, InvalidField, NotFound
from domain.accounts.models import Address
from domain.catalog.models import Plan, PlanStatus, PlanVersion
from domain.catalog.service import price_breakdown
from domain.money import format_money, minor_units
from domain.orders.models import CartItem
from domain.orders.schemas import (
    CartItemIn,
    CartItemOut,
    CartItemUpdate,
    CartOut,
    CartTotal,
    PriceLine,
)

MAX_CART_ITEMS = 20

ISSUE_ARCHIVED = "plan archived: it is no longer on sale"
ISSUE_ADDRESS_REMOVED = "address removed: choose another address for this plan"


@dataclass
class CartLine:
    """One cart item with what it refers to, as loaded for the cart and for ordering."""

    item: CartItem
    plan: Plan
    # The terms the item shows: the version the customer saw, or the current one when that
    # version no longer exists.
    version: PlanVersion
    current: PlanVersion
    address: Address | None
    issues: list[str] = field(default_factory=list)

    def price(self) -> tuple[int, int]:
        """(tax_minor, total_minor) of the shown terms."""
        return price_breakdown(
            amount_minor=self.version.price_minor,
            tax_rate_bps=self.version.tax_rate_bps,
            includes_tax=self.version.prices_include_tax,
        )


def address_line(address: Mapping[str, Any] | None) -> str | None:
    """An address in one line, for lists and receipts."""
    if not address:
        return None
    parts = [
        address.get("line1"),
        address.get("line2"),
        address.get("city"),
        address.get("region"),
        address.get("postal_code"),
        address.get("country"),
    ]
    return ", ".join(str(p) for p in parts if p)


def address_snapshot(address: Address) -> dict[str, str | None]:
    return {
        "label": address.label,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _issues(line: CartLine) -> list[str]:
    issues: list[str] = []
    if line.plan.status != PlanStatus.active.value:
        issues.append(ISSUE_ARCHIVED)
    elif line.item.plan_version_id != line.current.id:
        now = format_money(line.current.total_minor, line.current.currency)
        issues.append(f"price or terms changed since added: now {now}")
    if line.address is None:
        issues.append(ISSUE_ADDRESS_REMOVED)
    return issues


# Built once: making the aliases and the statement is most of what reading a cart costs in Python.
_SHOWN = aliased(PlanVersion, name="shown")
_CURRENT = aliased(PlanVersion, name="current")
_CART = (
    select(CartItem, Plan, _SHOWN, _CURRENT, Address)
    .join(Plan, Plan.id == CartItem.plan_id)
    .join(_CURRENT, _CURRENT.id == Plan.current_version_id)
    .outerjoin(_SHOWN, _SHOWN.id == CartItem.plan_version_id)
    .outerjoin(Address, (Address.id == CartItem.address_id) & (Address.user_id == CartItem.user_id))
    .where(CartItem.user_id == bindparam("user_id"))
    .order_by(CartItem.added_at, CartItem.id)
)


async def load_cart(db: AsyncSession, *, user_id: uuid.UUID) -> list[CartLine]:
    """The user's cart items, oldest first, each with its plan, terms, address and issues."""
    rows = (await db.execute(_CART, {"user_id": user_id})).all()
    lines = []
    for item, plan, shown_version, current_version, address in rows:
        line = CartLine(
            item=item,
            plan=plan,
            version=shown_version or current_version,
            current=current_version,
            address=address,
        )
        line.issues = _issues(line)
        lines.append(line)
    return lines


def cart_problems(lines: list[CartLine]) -> list[str]:
    """Why an order cannot be placed from these lines (empty when it can)."""
    if not lines:
        return ["the cart is empty"]
    problems = [f"{line.version.name}: {issue}" for line in lines for issue in line.issues]
    currencies = sorted({line.version.currency for line in lines})
    if len(currencies) > 1:
        problems.append(
            f"the cart mixes currencies ({', '.join(currencies)}): order each currency separately"
        )
    return problems


def cart_out(lines: list[CartLine]) -> CartOut:
    items: list[CartItemOut] = []
    totals: dict[str, list[int]] = {}
    for line in lines:
        v = line.version
        tax, total = line.price()
        items.append(
            CartItemOut(
                id=line.item.id,
                plan_id=line.plan.id,
                plan_slug=line.plan.slug,
                plan_name=v.name,
                plan_version_id=line.item.plan_version_id,
                version=v.number if line.item.plan_version_id is not None else None,
                address_id=line.address.id if line.address is not None else None,
                address=(
                    address_line(address_snapshot(line.address))
                    if line.address is not None
                    else None
                ),
                price=PriceLine(
                    amount_minor=v.price_minor,
                    currency=v.currency,
                    minor_units=minor_units(v.currency),
                    tax_rate_bps=v.tax_rate_bps,
                    includes_tax=v.prices_include_tax,
                    tax_minor=tax,
                    total_minor=total,
                ),
                validity_days=v.validity_days,
                visit_cap=v.visit_cap,
                added_at=line.item.added_at,
                issues=line.issues,
            )
        )
        sums = totals.setdefault(v.currency, [0, 0, 0])
        sums[0] += 1
        sums[1] += tax
        sums[2] += total
    problems = cart_problems(lines)
    return CartOut(
        items=items,
        totals=[
            CartTotal(
                currency=currency,
                minor_units=minor_units(currency),
                items=count,
                subtotal_minor=total - tax,
                tax_minor=tax,
                total_minor=total,
            )
            for currency, (count, tax, total) in sorted(totals.items())
        ],
        ready=not problems,
        problems=problems,
    )


async def get_cart(db: AsyncSession, *, user_id: uuid.UUID) -> CartOut:
    """The user's cart with prices, totals per currency and each item's issues."""
    return cart_out(await load_cart(db, user_id=user_id))


async def _own_address(
    db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID | None
) -> Address:
    """The user's address by id, or their default when None; 422 on address_id otherwise (another
    user's address answers exactly like a missing one)."""
    stmt = select(Address).where(Address.user_id == user_id)
    if address_id is None:
        address = (await db.execute(stmt.where(Address.is_default))).scalar_one_or_none()
        if address is None:
            raise InvalidField(("address_id",), "you have no address yet: add one first")
        return address
    address = (await db.execute(stmt.where(Address.id == address_id))).scalar_one_or_none()
    if address is None:
        raise InvalidField(("address_id",), "no address of yours has this id")
    return address


async def _plan_on_sale(db: AsyncSession, *, plan_id: uuid.UUID) -> tuple[Plan, PlanVersion]:
    row = (
        await db.execute(
            select(Plan, PlanVersion)
            .join(PlanVersion, PlanVersion.id == Plan.current_version_id)
            .where(Plan.id == plan_id)
        )
    ).first()
    # A draft is not public: it answers like a plan that does not exist.
    if row is None or row[0].status == PlanStatus.draft.value:
        raise InvalidField(("plan_id",), "no plan on sale has this id")
    plan, version = row[0], row[1]
    if plan.status != PlanStatus.active.value:
        raise Conflict(f"{version.name} is no longer on sale")
    return plan, version


async def _get_item(
    db: AsyncSession, *, user_id: uuid.UUID, item_id: uuid.UUID, for_update: bool = False
) -> CartItem:
    stmt = select(CartItem).where(CartItem.id == item_id, CartItem.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    item = (await db.execute(stmt)).scalar_one_or_none()
    if item is None:
        raise NotFound("cart item not found")
    return item


async def add_to_cart(db: AsyncSession, *, user_id: uuid.UUID, data: CartItemIn) -> CartItem:
    """Add a plan's current terms for one of the user's addresses. Adding the same plan for the
    same address again keeps one item and takes the current terms (idempotent)."""
    plan, version = await _plan_on_sale(db, plan_id=data.plan_id)
    address = await _own_address(db, user_id=user_id, address_id=data.address_id)
    count = (await db.execute(select(func.count()).where(CartItem.user_id == user_id))).scalar_one()
    if count >= MAX_CART_ITEMS:
        exists = (
            await db.execute(
                select(CartItem.id).where(
                    CartItem.user_id == user_id,
                    CartItem.plan_id == plan.id,
                    CartItem.address_id == address.id,
                )
            )
        ).first()
        if exists is None:
            raise Conflict(f"a cart holds at most {MAX_CART_ITEMS} items")
    stmt = pg_insert(CartItem).values(
        id=uuid.uuid4(),
        user_id=user_id,
        plan_id=plan.id,
        plan_version_id=version.id,
        address_id=address.id,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[CartItem.user_id, CartItem.plan_id, CartItem.address_id],
        set_={"plan_version_id": stmt.excluded.plan_version_id},
    ).returning(CartItem.id)
    item_id = (await db.execute(upsert)).scalar_one()
    return await _get_item(db, user_id=user_id, item_id=item_id)


async def update_cart_item(
    db: AsyncSession, *, user_id: uuid.UUID, item_id: uuid.UUID, data: CartItemUpdate
) -> CartItem:
    """Move an item to another of the user's addresses, and/or take the plan's current terms."""
    item = await _get_item(db, user_id=user_id, item_id=item_id, for_update=True)
    if data.address_id is not None and data.address_id != item.address_id:
        address = await _own_address(db, user_id=user_id, address_id=data.address_id)
        taken = (
            await db.execute(
                select(CartItem.id).where(
                    CartItem.user_id == user_id,
                    CartItem.plan_id == item.plan_id,
                    CartItem.address_id == address.id,
                )
            )
        ).first()
        if taken is not None:
            raise Conflict("this plan is already in your cart for that address")
        item.address_id = address.id
    if data.refresh:
        _, version = await _plan_on_sale(db, plan_id=item.plan_id)
        item.plan_version_id = version.id
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict("this plan is already in your cart for that address") from exc
    await db.refresh(item)
    return item


async def remove_cart_item(db: AsyncSession, *, user_id: uuid.UUID, item_id: uuid.UUID) -> None:
    """Take an item out of the user's cart."""
    item = await _get_item(db, user_id=user_id, item_id=item_id)
    await db.delete(item)
    await db.flush()
