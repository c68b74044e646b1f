"""Settling an order's payment: paid (everything it buys, in one transaction), failed, or expired,
and what an ended checkout answers from the database.

Receipt numbers are gap-free: the number comes from a one-row counter updated (and so row-locked)
in the settling transaction; a rollback gives the number back. Settlements therefore queue on
that row for the few milliseconds of their transaction, which is the price of no gaps.
Settlement locks the order row; a second call finds it completed and returns the same result.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Conflict
from domain.accounts import service as accounts
from domain.accounts.models import User
from domain.actors import WORKFLOW
from domain.catalog import service as catalog
from domain.contracts import CheckoutState, CheckoutStatus
from domain.money import format_money
from domain.orders import ledger
from domain.orders import service as orders
from domain.orders.models import (
    CartItem,
    LedgerKind,
    Order,
    OrderItem,
    OrderStatus,
    Receipt,
    ReceiptCounter,
)
from domain.orders.schemas import SettleResult
from domain.orders.service import lock_order, transition
from domain.payments import PaymentState, PaymentStatus
from domain.reports import rollups
from domain.subscriptions import service as subscriptions


def _check_paid(order: Order, status: PaymentStatus) -> None:
    if status.state != PaymentState.succeeded:
        raise Conflict(f"payment {status.provider_ref} is {status.state.value}, not succeeded")
    if status.provider_ref != order.provider_ref:
        raise Conflict(
            f"payment {status.provider_ref} is not order {order.id}'s session "
            f"({order.provider_ref})"
        )
    if (status.amount_minor, status.currency) != (order.total_minor, order.currency):
        raise Conflict(
            f"paid {format_money(status.amount_minor, status.currency)} but order {order.id} "
            f"totals {format_money(order.total_minor, order.currency)}; not settled"
        )


async def _next_receipt_number(db: AsyncSession) -> int:
    """The next receipt number. The counter row stays locked until the caller's transaction ends,
    so numbers are issued in commit order and a rollback returns its number."""
    stmt = (
        pg_insert(ReceiptCounter)
        .values(id=1, last_number=1)
        .on_conflict_do_update(
            index_elements=[ReceiptCounter.id],
            set_={"last_number": ReceiptCounter.last_number + 1},
        )
        .returning(ReceiptCounter.last_number)
    )
    return int((await db.execute(stmt)).scalar_one())


def _tax_breakdown(items: Sequence[OrderItem]) -> list[dict[str, int]]:
    by_rate: dict[int, dict[str, int]] = {}
    for item in items:
        row = by_rate.setdefault(
            item.tax_rate_bps,
            {"rate_bps": item.tax_rate_bps, "net_minor": 0, "tax_minor": 0, "total_minor": 0},
        )
        row["net_minor"] += item.total_minor - item.tax_minor
        row["tax_minor"] += item.tax_minor
        row["total_minor"] += item.total_minor
    return [by_rate[rate] for rate in sorted(by_rate)]


async def _remove_bought_from_cart(db: AsyncSession, *, order: Order) -> None:
    bought = [
        and_(
            CartItem.plan_id == item.plan_id,
            CartItem.address_id.is_not_distinct_from(item.address_id),
        )
        for item in order.items
    ]
    await db.execute(
        delete(CartItem)
        .where(CartItem.user_id == order.user_id, or_(*bought))
        .execution_options(synchronize_session=False)
    )


async def settle_paid_order(
    db: AsyncSession, *, order_id: uuid.UUID, status: PaymentStatus, keep_method: bool = True
) -> SettleResult:
    """Record a captured payment and everything it buys, in the caller's one transaction: the
    `captured` ledger entry, each bought version locked as sold, one subscription per item, the
    gap-free receipt number and receipt, the saved payment method, the bought items out of the
    cart, and the order completed. A second call returns the same result, newly_settled=False.

    Refused (Conflict, nothing written) when `status` is not a success of this order's session
    or its amount or currency differs from the order total: the workflow must flag the order for
    a person (and usually refund), since settling it would grant what was not paid for.
    """
    order = await lock_order(db, order_id=order_id)
    _check_paid(order, status)
    if order.status == OrderStatus.completed.value:
        assert order.receipt_number is not None
        return SettleResult(
            order_id=order.id,
            receipt_number=order.receipt_number,
            subscription_ids=await orders.subscription_ids(db, order_id=order.id),
            newly_settled=False,
        )

    now = utcnow()
    await ledger.append(
        db,
        order=order,
        kind=LedgerKind.captured,
        key=f"order:{order.id}:captured",
        amount_minor=status.amount_minor,
        currency=status.currency,
        payment_id=status.payment_id,
        data={"method": status.method} if status.method else None,
    )
    # An order holds its versions (the foreign key restricts deleting them), so a version replaced
    # in the catalog since the order was placed still exists and is the one bought.
    await catalog.mark_versions_sold(db, version_ids=[item.plan_version_id for item in order.items])

    subscription_ids = await subscriptions.create_for_order(db, order=order, starts_at=now)

    number = await _next_receipt_number(db)
    user = await db.get(User, order.user_id)
    assert user is not None
    db.add(
        Receipt(
            number=number,
            order_id=order.id,
            issued_at=now,
            currency=order.currency,
            subtotal_minor=order.subtotal_minor,
            tax_minor=order.tax_minor,
            total_minor=order.total_minor,
            tax_breakdown=_tax_breakdown(order.items),
            billed_to={"name": user.name, "email": user.email, "phone": user.phone},
        )
    )
    # An automatic renewal charges a method already saved (keep_method=False): one the customer
    # deleted since must not come back.
    if keep_method and status.saved_method is not None:
        await accounts.keep_provider_method(
            db, user_id=order.user_id, provider=order.provider, saved=status.saved_method
        )
    await _remove_bought_from_cart(db, order=order)

    transition(db, order, OrderStatus.paid, actor=WORKFLOW)
    transition(db, order, OrderStatus.completed, actor=WORKFLOW)
    order.paid_at = order.completed_at = now
    order.receipt_number = number
    order.provider_payment_id = status.payment_id
    # Counted here, once: only the call that completes the order gets this far.
    await rollups.count_sale(
        db,
        items=order.items,
        currency=order.currency,
        total_minor=order.total_minor,
        method=status.method,
        at=now,
    )
    await db.flush()
    return SettleResult(
        order_id=order.id,
        receipt_number=number,
        subscription_ids=subscription_ids,
        newly_settled=True,
    )


# --- unhappy endings ----------------------------------------------------------------------------

_FINAL_UNPAID = (OrderStatus.failed.value, OrderStatus.expired.value)


def _refuse_completed(order: Order, what: str) -> None:
    if order.status == OrderStatus.completed.value:
        raise Conflict(f"order {order.id} has been paid and completed; it cannot be {what}")


async def mark_order_failed(
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    reason: str,
    status: PaymentStatus | None,
    actor: str = WORKFLOW,
) -> Order:
    """The payment failed: order failed with the reason and a `failed` ledger entry. Idempotent;
    an order already failed or expired keeps its first outcome; a completed one is a Conflict."""
    order = await lock_order(db, order_id=order_id, items=False)
    _refuse_completed(order, "marked failed")
    if order.status in _FINAL_UNPAID:
        return order
    data: dict[str, Any] = {"reason": reason}
    if status is not None:
        data.update(state=status.state.value, provider_reason=status.failure_reason)
    await ledger.append(
        db,
        order=order,
        kind=LedgerKind.failed,
        key=f"order:{order.id}:failed",
        amount_minor=status.amount_minor if status is not None else order.total_minor,
        currency=status.currency if status is not None else order.currency,
        payment_id=status.payment_id if status is not None else None,
        data=data,
    )
    transition(db, order, OrderStatus.failed, actor=actor, reason=reason)
    order.failure_reason = reason
    await db.flush()
    return order


async def mark_order_expired(
    db: AsyncSession, *, order_id: uuid.UUID, actor: str = WORKFLOW
) -> Order:
    """Nobody paid in time: order expired with a `cancelled` ledger entry. Idempotent; an order
    already failed or expired keeps its first outcome; a completed one is a Conflict."""
    order = await lock_order(db, order_id=order_id, items=False)
    _refuse_completed(order, "expired")
    if order.status in _FINAL_UNPAID:
        return order
    await ledger.append(
        db,
        order=order,
        kind=LedgerKind.cancelled,
        key=f"order:{order.id}:cancelled",
        amount_minor=order.total_minor,
        currency=order.currency,
        data={"reason": "payment window ended"},
    )
    transition(db, order, OrderStatus.expired, actor=actor, reason="payment window ended")
    await db.flush()
    return order


async def ended_checkout(db: AsyncSession, *, order: Order) -> CheckoutState:
    """A checkout that has ended, as the database records it: what the API answers once the
    order's CheckoutWorkflow has closed (asking a closed workflow would replay its history).
    Expiry time and the payment session are not kept here: None."""
    outcome = {
        OrderStatus.completed.value: (CheckoutStatus.completed, "succeeded"),
        OrderStatus.paid.value: (CheckoutStatus.completed, "succeeded"),
        OrderStatus.failed.value: (CheckoutStatus.failed, "failed"),
        OrderStatus.expired.value: (CheckoutStatus.expired, "cancelled"),
    }
    if order.status not in outcome:
        raise Conflict(f"order {order.id} is {order.status}: its checkout has not ended")
    status, payment_state = outcome[order.status]
    return CheckoutState(
        order_id=order.id,
        status=status,
        payment_state=payment_state,
        failure_reason=order.failure_reason
        or ("the payment was not completed in time" if status == CheckoutStatus.expired else None),
        receipt_number=order.receipt_number,
        subscription_ids=await orders.subscription_ids(db, order_id=order.id),
        expires_at=None,
    )
