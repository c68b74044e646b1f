"""Orders: reading them, and placing one from the cart.

Keyword-only functions, the session first; they raise `core.errors` exceptions and never commit:
the caller (a route, or a checkout activity) commits, so each function's writes land together.
The rest of an order's life is in the modules beside this one: `ledger` (the payment session and
every fact about money), `settlement` (paid, failed, expired), `refunds`, `receipts`.

Every write is idempotent, because the checkout activities that call these run at least once:
`create_order_from_cart` makes one order per (user, Idempotency-Key), INSERT ... ON CONFLICT DO
NOTHING then SELECT, so concurrent requests with one key make one order.

Order statuses: pending_payment -> completed (through paid, in the settling transaction) | failed |
expired. A captured payment always wins: an order that failed or expired and is then reported paid
by the provider (cancel_session may answer `succeeded`) is settled, since the money is ours.
A completed order never goes back to failed or expired.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import small_page
from core.errors import Conflict, InvalidField, NotFound
from domain import actors
from domain.accounts.models import User
from domain.actors import CUSTOMER
from domain.orders import refund_views
from domain.orders.cart import address_snapshot, cart_problems, load_cart
from domain.orders.models import (
    PROVIDERS,
    LedgerEntry,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusHistory,
)
from domain.orders.schemas import (
    AdminOrderDetailOut,
    AdminOrderOut,
    LedgerEntryOut,
    StatusChangeOut,
)
from domain.subscriptions.models import Subscription


class CartNotReady(Conflict):
    """The cart cannot become an order; `reasons` lists every problem (also in the detail)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the cart cannot be ordered: " + "; ".join(reasons))
        self.reasons = reasons


# --- reading ------------------------------------------------------------------------------------


def _with_items(stmt: Any, items: bool = True) -> Any:
    """Load the items too (a second query), unless the caller needs only the order's own columns:
    `Order.items` is `lazy="raise"`, so reading items that were not loaded fails loudly."""
    if items:
        stmt = stmt.options(selectinload(Order.items))
    return stmt.execution_options(populate_existing=True)


async def get_order(
    db: AsyncSession, *, order_id: uuid.UUID, user_id: uuid.UUID | None, items: bool = True
) -> Order:
    """An order (with its items unless `items=False`). `user_id` scopes it to a customer (another
    customer's order is NotFound, like a missing one); None is staff, who see any order."""
    stmt = select(Order).where(Order.id == order_id)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    order = (await db.execute(_with_items(stmt, items))).scalar_one_or_none()
    if order is None:
        raise NotFound("order not found")
    return order


async def order_and_buyer(db: AsyncSession, *, order_id: uuid.UUID) -> tuple[Order, User]:
    """An order (without items) and the user who placed it, from the session's identity map when
    they are already loaded there (e.g. right after settling), else from the database."""
    order = await db.get(Order, order_id)
    if order is None:
        raise NotFound("order not found")
    user = await db.get(User, order.user_id)
    assert user is not None  # users.id is the order's foreign key, ON DELETE RESTRICT
    return order, user


async def list_orders(
    db: AsyncSession,
    *,
    user_id: uuid.UUID | None,
    limit: int,
    offset: int,
    status: OrderStatus | None = None,
) -> tuple[list[Order], int]:
    """Orders newest first with their items, and the total: one customer's, or everyone's (None)."""
    stmt = select(Order)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    if status is not None:
        stmt = stmt.where(Order.status == status.value)
    ordered = stmt.order_by(Order.created_at.desc(), Order.id)
    if user_id is not None:  # one customer's: few, the page and its total in one statement
        return await small_page(db, _with_items(ordered), limit=limit, offset=offset)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await db.execute(_with_items(ordered.limit(limit).offset(offset)))).scalars().all()
    return list(rows), total


async def find_order_by_provider_ref(
    db: AsyncSession, *, provider: str, provider_ref: str
) -> Order | None:
    """The order whose payment session this is, if any (without its items)."""
    stmt = select(Order).where(Order.provider == provider, Order.provider_ref == provider_ref)
    return (await db.execute(_with_items(stmt, items=False))).scalar_one_or_none()


async def lock_order(db: AsyncSession, *, order_id: uuid.UUID, items: bool = True) -> Order:
    """The order, row-locked until the caller's transaction ends (serialises its writes)."""
    stmt = select(Order).where(Order.id == order_id).with_for_update()
    order = (await db.execute(_with_items(stmt, items))).scalar_one_or_none()
    if order is None:
        raise NotFound("order not found")
    return order


# --- placing an order ---------------------------------------------------------------------------


async def _order_by_key(
    db: AsyncSession, *, user_id: uuid.UUID, idempotency_key: str
) -> Order | None:
    stmt = select(Order).where(Order.user_id == user_id, Order.idempotency_key == idempotency_key)
    return (await db.execute(_with_items(stmt))).scalar_one_or_none()


def _same_request(order: Order, request_hash: str) -> Order:
    if order.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was used for a different request")
    return order


def transition(
    db: AsyncSession, order: Order, to: OrderStatus, *, actor: str, reason: str | None = None
) -> None:
    db.add(
        OrderStatusHistory(
            order_id=order.id,
            from_status=order.status,
            to_status=to.value,
            actor=actor,
            reason=reason,
        )
    )
    order.status = to.value


async def create_order_from_cart(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    idempotency_key: str,
    request_hash: str,
    provider: str,
    item_ids: Sequence[uuid.UUID] | None = None,
) -> tuple[Order, bool]:
    """Place an order for the cart (or the listed cart items), at the terms the customer was shown;
    returns the order and whether this call created it.

    The same key with the same request returns the order made the first time (also while that
    first request is still running: the insert waits for it), a different request is a Conflict.
    A cart that is empty, has an item with issues, mixes currencies or totals zero is refused
    (CartNotReady, a Conflict listing every reason). The cart is not emptied: paid items leave it
    at settlement, so a failed payment leaves the cart as it was.
    """
    existing = await _order_by_key(db, user_id=user_id, idempotency_key=idempotency_key)
    if existing is not None:
        return _same_request(existing, request_hash), False
    if provider not in PROVIDERS:
        raise InvalidField(("provider",), f"unknown payment provider {provider!r}")

    lines = await load_cart(db, user_id=user_id)
    if item_ids is not None:
        in_cart = {line.item.id for line in lines}
        for index, item_id in enumerate(item_ids):
            if item_id not in in_cart:
                raise InvalidField(("item_ids", index), "no item of your cart has this id")
        chosen = set(item_ids)
        lines = [line for line in lines if line.item.id in chosen]
    problems = cart_problems(lines)
    if problems:
        raise CartNotReady(problems)

    priced = [(line, *line.price()) for line in lines]
    tax_total = sum(tax for _, tax, _ in priced)
    grand_total = sum(total for _, _, total in priced)
    if grand_total <= 0:
        raise CartNotReady(["nothing to pay: the order total is zero"])

    order_id = uuid.uuid4()
    inserted = (
        await db.execute(
            pg_insert(Order)
            .values(
                id=order_id,
                user_id=user_id,
                status=OrderStatus.pending_payment.value,
                provider=provider,
                currency=lines[0].version.currency,
                subtotal_minor=grand_total - tax_total,
                tax_minor=tax_total,
                total_minor=grand_total,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
            .returning(Order.id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        # A concurrent request with this key committed its order while we waited on the insert.
        existing = await _order_by_key(db, user_id=user_id, idempotency_key=idempotency_key)
        assert existing is not None
        return _same_request(existing, request_hash), False

    for position, (line, tax, total) in enumerate(priced):
        version, address = line.version, line.address
        assert address is not None  # an item without an address has an issue
        db.add(
            OrderItem(
                order_id=order_id,
                position=position,
                plan_id=line.plan.id,
                plan_version_id=version.id,
                address_id=address.id,
                address=address_snapshot(address),
                plan_name=version.name,
                amount_minor=version.price_minor,
                tax_minor=tax,
                total_minor=total,
                tax_rate_bps=version.tax_rate_bps,
                includes_tax=version.prices_include_tax,
                validity_days=version.validity_days,
                visit_cap=version.visit_cap,
            )
        )
    db.add(
        OrderStatusHistory(
            order_id=order_id,
            from_status=None,
            to_status=OrderStatus.pending_payment.value,
            actor=CUSTOMER,
        )
    )
    try:
        await db.flush()
    except IntegrityError as exc:
        # The version was replaced and deleted by an admin edit between reading and inserting.
        raise Conflict("a plan in the cart changed while ordering; review the cart") from exc
    return await get_order(db, order_id=order_id, user_id=user_id), True


async def admin_order_detail(db: AsyncSession, *, order_id: uuid.UUID) -> AdminOrderDetailOut:
    """One order for staff: items, status history, ledger, refunds and its subscriptions."""
    order = await get_order(db, order_id=order_id, user_id=None)
    history = (
        (
            await db.execute(
                select(OrderStatusHistory)
                .where(OrderStatusHistory.order_id == order.id)
                .order_by(OrderStatusHistory.id)
            )
        )
        .scalars()
        .all()
    )
    named = await actors.name_all(
        db, (h.actor for h in history), audience="staff", customer_id=order.user_id
    )
    ledger = (
        await db.execute(
            select(LedgerEntry)
            .where(LedgerEntry.order_id == order.id)
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
        )
    ).scalars()
    refunds = (await refund_views.refunds_of(db, orders=[order]))[order.id]
    return AdminOrderDetailOut(
        **AdminOrderOut.model_validate(order).model_dump(),
        **refund_views.totals(order, refunds).model_dump(),
        history=[
            StatusChangeOut(
                from_status=h.from_status,
                to_status=h.to_status,
                at=h.at,
                actor=named[h.actor],
                reason=h.reason,
            )
            for h in history
        ],
        ledger=[LedgerEntryOut.model_validate(e) for e in ledger],
        refunds=[refund_views.staff_refund(r, reason) for r, reason in refunds],
        subscription_ids=await subscription_ids(db, order_id=order.id),
    )


async def subscription_ids(db: AsyncSession, *, order_id: uuid.UUID) -> list[uuid.UUID]:
    """The subscriptions an order created, in the order of its items."""
    stmt = (
        select(Subscription.id)
        .join(OrderItem, OrderItem.id == Subscription.order_item_id)
        .where(Subscription.order_id == order_id)
        .order_by(OrderItem.position)
    )
    return list((await db.execute(stmt)).scalars().all())
