"""Orders: placing an order from the cart, recording its payment session and outcome, settling it
(ledger, sold versions, subscriptions, receipt, saved method, cart), refunds, and receipts.

Keyword-only functions, the session first; they raise `core.errors` exceptions and never commit:
the caller (a route, or a checkout activity) commits, so each function's writes land together.

Every write is idempotent, because the checkout activities that call these run at least once:
- `create_order_from_cart`: one order per (user, Idempotency-Key), INSERT ... ON CONFLICT DO
  NOTHING then SELECT, so concurrent requests with one key make one order;
- ledger entries carry a unique `entry_key` (`order:{id}:created|captured|failed|cancelled`,
  `refund:{id}`) and are inserted ON CONFLICT DO NOTHING;
- settlement locks the order row; a second call finds it completed and returns the same result.

Order statuses: pending_payment -> completed (through paid, in the settling transaction) | failed |
expired. A captured payment always wins: an order that failed or expired and is then reported paid
by the provider (cancel_session may answer `succeeded`) is settled, since the money is ours.
A completed order never goes back to failed or expired.

Receipt numbers are gap-free: the number comes from a one-row counter updated (and so row-locked)
in the settling transaction; a rollback gives the number back. Settlements therefore queue on
that row for the few milliseconds of their transaction, which is the price of no gaps.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.errors import Conflict, InvalidField, NotFound
from domain.accounts.models import PaymentMethod, User
from domain.accounts.schemas import PaymentMethodIn
from domain.audit import service as audit
from domain.catalog import service as catalog
from domain.contracts import CheckoutState, CheckoutStatus
from domain.money import format_money
from domain.orders.cart import (
    add_to_cart,
    address_snapshot,
    cart_problems,
    get_cart,
    load_cart,
    remove_cart_item,
    update_cart_item,
)
from domain.orders.models import (
    PROVIDERS,
    CartItem,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusHistory,
    Receipt,
    ReceiptCounter,
    Refund,
    RefundStatus,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
)
from domain.orders.receipts import render_receipt
from domain.orders.schemas import (
    AdminOrderDetailOut,
    AdminOrderOut,
    LedgerEntryOut,
    RefundOut,
    SettleResult,
    StatusChangeOut,
)
from providers.payments.base import PaymentState, PaymentStatus, RefundResult

__all__ = [
    "CartNotReady",
    "add_to_cart",
    "admin_order_detail",
    "find_order_by_provider_ref",
    "get_cart",
    "get_order",
    "list_ledger",
    "list_orders",
    "mark_order_expired",
    "mark_order_failed",
    "mark_webhook_processed",
    "receipt_document",
    "record_refund_result",
    "record_session",
    "record_webhook_event",
    "refund_to_issue",
    "refundable_amount",
    "remove_cart_item",
    "request_refund",
    "settle_paid_order",
    "update_cart_item",
]

log = logging.getLogger(__name__)

WORKFLOW = "workflow"
CUSTOMER = "customer"


class CartNotReady(Conflict):
    """The cart cannot become an order; `reasons` lists every problem (also in the detail)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the cart cannot be ordered: " + "; ".join(reasons))
        self.reasons = reasons


def admin_actor(user_id: uuid.UUID) -> str:
    """The actor recorded in an order's history for a staff member's action."""
    return f"admin:{user_id}"


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
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    page = stmt.order_by(Order.created_at.desc(), Order.id).limit(limit).offset(offset)
    rows = (await db.execute(_with_items(page))).scalars().all()
    return list(rows), total


async def find_order_by_provider_ref(
    db: AsyncSession, *, provider: str, provider_ref: str
) -> Order | None:
    """The order whose payment session this is, if any (without its items)."""
    stmt = select(Order).where(Order.provider == provider, Order.provider_ref == provider_ref)
    return (await db.execute(_with_items(stmt, items=False))).scalar_one_or_none()


async def _lock_order(db: AsyncSession, *, order_id: uuid.UUID, items: bool = True) -> Order:
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


def _transition(
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


# --- the payment ledger -------------------------------------------------------------------------


async def _ledger(
    db: AsyncSession,
    *,
    order: Order,
    kind: LedgerKind,
    key: str,
    amount_minor: int,
    currency: str,
    payment_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append a ledger entry once per key; True if written now."""
    written = (
        await db.execute(
            pg_insert(LedgerEntry)
            .values(
                id=uuid.uuid4(),
                order_id=order.id,
                kind=kind.value,
                provider=order.provider,
                provider_ref=order.provider_ref,
                provider_payment_id=payment_id,
                amount_minor=amount_minor,
                currency=currency,
                entry_key=key,
                data=data or {},
            )
            .on_conflict_do_nothing(index_elements=["entry_key"])
            .returning(LedgerEntry.id)
        )
    ).scalar_one_or_none()
    return written is not None


async def record_session(
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    provider: str,
    provider_ref: str,
    amount_minor: int,
    currency: str,
) -> Order:
    """Store the payment session made for an order, with a `created` ledger entry. Idempotent;
    an order has one session: a different one for the same order is a Conflict (a new attempt
    after a failure is a new order from the same cart)."""
    order = await _lock_order(db, order_id=order_id, items=False)
    if order.provider_ref is not None and order.provider_ref != provider_ref:
        raise Conflict(f"order {order.id} already has payment session {order.provider_ref}")
    if provider != order.provider:
        raise Conflict(f"order {order.id} is to be paid with {order.provider}, not {provider}")
    if (amount_minor, currency) != (order.total_minor, order.currency):
        raise Conflict(
            f"session amount {format_money(amount_minor, currency)} differs from the order total "
            f"{format_money(order.total_minor, order.currency)}"
        )
    if order.provider_ref is None:
        if order.status != OrderStatus.pending_payment.value:
            raise Conflict(f"order {order.id} is {order.status}; it takes no payment session")
        order.provider_ref = provider_ref
        try:
            await db.flush()
        except IntegrityError as exc:
            raise Conflict(f"payment session {provider_ref} belongs to another order") from exc
    await _ledger(
        db,
        order=order,
        kind=LedgerKind.created,
        key=f"order:{order.id}:created",
        amount_minor=amount_minor,
        currency=currency,
    )
    return order


async def record_authorised(
    db: AsyncSession, *, order_id: uuid.UUID, status: PaymentStatus
) -> None:
    """The provider holds the customer's money but has not settled yet: a ledger entry, once."""
    order = await get_order(db, order_id=order_id, user_id=None, items=False)
    await _ledger(
        db,
        order=order,
        kind=LedgerKind.authorised,
        key=f"order:{order.id}:authorised",
        amount_minor=status.amount_minor,
        currency=status.currency,
        payment_id=status.payment_id,
        data={"method": status.method},
    )


async def record_webhook_event(
    db: AsyncSession, *, provider: str, event_id: str, event_type: str, provider_ref: str | None
) -> bool:
    """Remember a provider's webhook delivery; True the first time, False for a redelivery."""
    written = (
        await db.execute(
            pg_insert(WebhookEvent)
            .values(
                id=uuid.uuid4(),
                provider=provider,
                event_id=event_id,
                event_type=event_type,
                provider_ref=provider_ref,
            )
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(WebhookEvent.id)
        )
    ).scalar_one_or_none()
    return written is not None


async def mark_webhook_processed(db: AsyncSession, *, provider: str, event_id: str) -> None:
    """Note that a webhook delivery has been acted on (the first time only)."""
    event = (
        await db.execute(
            select(WebhookEvent).where(
                WebhookEvent.provider == provider, WebhookEvent.event_id == event_id
            )
        )
    ).scalar_one_or_none()
    if event is not None and event.processed_at is None:
        event.processed_at = utcnow()
        await db.flush()


# --- settling a paid order ----------------------------------------------------------------------


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


async def _subscription_ids(db: AsyncSession, *, order_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = (
        select(Subscription.id)
        .join(OrderItem, OrderItem.id == Subscription.order_item_id)
        .where(Subscription.order_id == order_id)
        .order_by(OrderItem.position)
    )
    return list((await db.execute(stmt)).scalars().all())


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


async def _save_method(db: AsyncSession, *, order: Order, status: PaymentStatus) -> None:
    """Keep the provider's reusable method for renewals: its tokens and display hints only. Never
    fails the settlement: a method that is already saved (on any account), or does not pass the
    accounts rules (a token that looks like a card number), is skipped."""
    saved = status.saved_method
    if saved is None:
        return
    try:
        method = PaymentMethodIn(
            provider=order.provider,
            provider_method_id=saved.provider_method_id,
            provider_customer_id=saved.provider_customer_id,
            kind=saved.kind,
            brand=saved.brand,
            last4=saved.last4,
            exp_month=saved.exp_month,
            exp_year=saved.exp_year,
        )
    except ValidationError as exc:
        log.warning("order %s: saved payment method not kept: %s", order.id, exc)
        return
    has_default = (
        await db.execute(
            select(PaymentMethod.id).where(
                PaymentMethod.user_id == order.user_id, PaymentMethod.is_default
            )
        )
    ).first() is not None
    # No conflict target: skips on (provider, provider_method_id) and on the one-default index.
    await db.execute(
        pg_insert(PaymentMethod)
        .values(
            id=uuid.uuid4(),
            user_id=order.user_id,
            **method.model_dump(exclude={"is_default"}),
            is_default=not has_default,
        )
        .on_conflict_do_nothing()
    )


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
    db: AsyncSession, *, order_id: uuid.UUID, status: PaymentStatus
) -> SettleResult:
    """Record a captured payment and everything it buys, in the caller's one transaction: the
    `captured` ledger entry, each bought version locked as sold, one subscription per item, the
    gap-free receipt number and receipt, the saved payment method, the bought items out of the
    cart, and the order completed. A second call returns the same result, newly_settled=False.

    Refused (Conflict, nothing written) when `status` is not a success of this order's session
    or its amount or currency differs from the order total: the workflow must flag the order for
    a person (and usually refund), since settling it would grant what was not paid for.
    """
    order = await _lock_order(db, order_id=order_id)
    _check_paid(order, status)
    if order.status == OrderStatus.completed.value:
        assert order.receipt_number is not None
        return SettleResult(
            order_id=order.id,
            receipt_number=order.receipt_number,
            subscription_ids=await _subscription_ids(db, order_id=order.id),
            newly_settled=False,
        )

    now = utcnow()
    await _ledger(
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

    # One transaction writes all of them, so on this path none existed before: their ids are the
    # ones made here, in the order of the items.
    subscription_ids = [uuid.uuid4() for _ in order.items]
    await db.execute(
        pg_insert(Subscription)
        .values(
            [
                {
                    "id": subscription_id,
                    "user_id": order.user_id,
                    "order_id": order.id,
                    "order_item_id": item.id,
                    "plan_id": item.plan_id,
                    "plan_version_id": item.plan_version_id,
                    "address_id": item.address_id,
                    "status": SubscriptionStatus.active.value,
                    "starts_at": now,
                    "ends_at": now + timedelta(days=item.validity_days),
                    "visits_allowed": item.visit_cap,
                    "visits_used": 0,
                }
                for item, subscription_id in zip(order.items, subscription_ids, strict=True)
            ]
        )
        .on_conflict_do_nothing(index_elements=["order_item_id"])
    )

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
    await _save_method(db, order=order, status=status)
    await _remove_bought_from_cart(db, order=order)

    _transition(db, order, OrderStatus.paid, actor=WORKFLOW)
    _transition(db, order, OrderStatus.completed, actor=WORKFLOW)
    order.paid_at = order.completed_at = now
    order.receipt_number = number
    order.provider_payment_id = status.payment_id
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
    order = await _lock_order(db, order_id=order_id, items=False)
    _refuse_completed(order, "marked failed")
    if order.status in _FINAL_UNPAID:
        return order
    data: dict[str, Any] = {"reason": reason}
    if status is not None:
        data.update(state=status.state.value, provider_reason=status.failure_reason)
    await _ledger(
        db,
        order=order,
        kind=LedgerKind.failed,
        key=f"order:{order.id}:failed",
        amount_minor=status.amount_minor if status is not None else order.total_minor,
        currency=status.currency if status is not None else order.currency,
        payment_id=status.payment_id if status is not None else None,
        data=data,
    )
    _transition(db, order, OrderStatus.failed, actor=actor, reason=reason)
    order.failure_reason = reason
    await db.flush()
    return order


async def mark_order_expired(
    db: AsyncSession, *, order_id: uuid.UUID, actor: str = WORKFLOW
) -> Order:
    """Nobody paid in time: order expired with a `cancelled` ledger entry. Idempotent; an order
    already failed or expired keeps its first outcome; a completed one is a Conflict."""
    order = await _lock_order(db, order_id=order_id, items=False)
    _refuse_completed(order, "expired")
    if order.status in _FINAL_UNPAID:
        return order
    await _ledger(
        db,
        order=order,
        kind=LedgerKind.cancelled,
        key=f"order:{order.id}:cancelled",
        amount_minor=order.total_minor,
        currency=order.currency,
        data={"reason": "payment window ended"},
    )
    _transition(db, order, OrderStatus.expired, actor=actor, reason="payment window ended")
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
        subscription_ids=await _subscription_ids(db, order_id=order.id),
        expires_at=None,
    )


# --- refunds ------------------------------------------------------------------------------------


async def refundable_amount(db: AsyncSession, *, order_id: uuid.UUID) -> int:
    """Captured minus refunds that succeeded or are still pending (a failed refund frees its
    amount again)."""
    captured = (
        await db.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
                LedgerEntry.order_id == order_id, LedgerEntry.kind == LedgerKind.captured.value
            )
        )
    ).scalar_one()
    refunded = (
        await db.execute(
            select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
                Refund.order_id == order_id,
                Refund.status.in_([RefundStatus.pending.value, RefundStatus.succeeded.value]),
            )
        )
    ).scalar_one()
    return int(captured) - int(refunded)


async def refund_to_issue(db: AsyncSession, *, refund_id: uuid.UUID) -> tuple[Refund, str]:
    """A recorded refund and the captured payment it goes back to (the provider's payment id)."""
    refund = await db.get(Refund, refund_id)
    if refund is None:
        raise NotFound("refund not found")
    payment_id = (
        await db.execute(select(Order.provider_payment_id).where(Order.id == refund.order_id))
    ).scalar_one()
    if payment_id is None:
        raise Conflict(f"order {refund.order_id} has no captured payment to refund")
    return refund, payment_id


def _refund_snapshot(refund: Refund) -> dict[str, Any]:
    return {
        "refund_id": str(refund.id),
        "amount_minor": refund.amount_minor,
        "currency": refund.currency,
        "reason": refund.reason,
        "status": refund.status,
    }


async def request_refund(
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    amount_minor: int,
    reason: str,
    actor_id: uuid.UUID | None,
    refund_id: uuid.UUID | None = None,
) -> Refund:
    """Record a refund to be made (pending) and audit it. The amount must be at most what is
    still refundable (422 on amount_minor); the order must be completed. Pass `refund_id` (made
    once by the caller) to make a retried request return the refund recorded the first time."""
    order = await _lock_order(db, order_id=order_id)  # serialises refunds of one order
    if refund_id is not None:
        # Looked up under the lock, so concurrent retries of one request find the first one's
        # refund instead of inserting it again.
        existing = (
            await db.execute(
                select(Refund)
                .where(Refund.id == refund_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if existing is not None:
            if existing.order_id != order_id:
                raise Conflict(f"refund {refund_id} belongs to another order")
            return existing
    if order.status != OrderStatus.completed.value:
        raise Conflict(f"only a paid order can be refunded; order {order.id} is {order.status}")
    if amount_minor <= 0:
        raise InvalidField(("amount_minor",), "must be more than 0")
    reason = reason.strip()
    if not reason:
        raise InvalidField(("reason",), "say why the refund is made")
    refundable = await refundable_amount(db, order_id=order.id)
    if amount_minor > refundable:
        raise InvalidField(
            ("amount_minor",),
            f"at most {format_money(refundable, order.currency)} can be refunded "
            f"(captured less refunds made or pending)",
        )
    refund = Refund(
        id=refund_id or uuid.uuid4(),
        order_id=order.id,
        amount_minor=amount_minor,
        currency=order.currency,
        reason=reason,
        status=RefundStatus.pending.value,
        requested_by=actor_id,
    )
    db.add(refund)
    await db.flush()
    await db.refresh(refund)
    audit.record(
        db,
        actor_id=actor_id,
        action="order.refund",
        entity_type="order",
        entity_id=order.id,
        after=_refund_snapshot(refund),
    )
    return refund


async def record_refund_result(
    db: AsyncSession, *, refund_id: uuid.UUID, result: RefundResult
) -> Refund:
    """Store the provider's answer to a refund; a success writes the `refunded` ledger entry
    (`refund:{id}`) once. Idempotent; a succeeded refund stays succeeded."""
    refund = (
        await db.execute(
            select(Refund)
            .where(Refund.id == refund_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if refund is None:
        raise NotFound("refund not found")
    if refund.status == RefundStatus.succeeded.value:
        return refund
    refund.provider_refund_id = result.provider_refund_id
    if result.status == "succeeded":
        order = await get_order(db, order_id=refund.order_id, user_id=None)
        refund.status = RefundStatus.succeeded.value
        refund.completed_at = utcnow()
        refund.failure_reason = None
        await _ledger(
            db,
            order=order,
            kind=LedgerKind.refunded,
            key=f"refund:{refund.id}",
            amount_minor=result.amount_minor,
            currency=refund.currency,
            payment_id=order.provider_payment_id,
            data={"refund_id": str(refund.id), "provider_refund_id": result.provider_refund_id},
        )
    elif result.status == "failed":
        refund.status = RefundStatus.failed.value
        refund.completed_at = utcnow()
        refund.failure_reason = "the provider refused the refund"
    await db.flush()
    return refund


# --- receipts -----------------------------------------------------------------------------------


async def receipt_document(
    db: AsyncSession, *, order_id: uuid.UUID, user_id: uuid.UUID | None
) -> str:
    """The receipt of a paid order as an HTML page; NotFound for another customer's order and
    before payment."""
    order = await get_order(db, order_id=order_id, user_id=user_id)
    receipt = (
        await db.execute(select(Receipt).where(Receipt.order_id == order.id))
    ).scalar_one_or_none()
    if receipt is None:
        raise NotFound("this order has no receipt: it has not been paid")
    return render_receipt(order, receipt)


# --- staff views --------------------------------------------------------------------------------


async def list_ledger(
    db: AsyncSession,
    *,
    provider: str | None = None,
    kind: LedgerKind | None = None,
    order_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[LedgerEntry], int]:
    """Ledger entries newest first with filters (`since` inclusive, `until` exclusive)."""
    stmt = select(LedgerEntry)
    if provider is not None:
        stmt = stmt.where(LedgerEntry.provider == provider)
    if kind is not None:
        stmt = stmt.where(LedgerEntry.kind == kind.value)
    if order_id is not None:
        stmt = stmt.where(LedgerEntry.order_id == order_id)
    if since is not None:
        stmt = stmt.where(LedgerEntry.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(LedgerEntry.occurred_at < until)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await db.execute(
            stmt.order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return list(rows.all()), total


async def admin_order_detail(db: AsyncSession, *, order_id: uuid.UUID) -> AdminOrderDetailOut:
    """One order for staff: items, status history, ledger, refunds and its subscriptions."""
    order = await get_order(db, order_id=order_id, user_id=None)
    history = (
        await db.execute(
            select(OrderStatusHistory)
            .where(OrderStatusHistory.order_id == order.id)
            .order_by(OrderStatusHistory.id)
        )
    ).scalars()
    ledger = (
        await db.execute(
            select(LedgerEntry)
            .where(LedgerEntry.order_id == order.id)
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
        )
    ).scalars()
    refunds = (
        await db.execute(
            select(Refund).where(Refund.order_id == order.id).order_by(Refund.created_at)
        )
    ).scalars()
    return AdminOrderDetailOut(
        **AdminOrderOut.model_validate(order).model_dump(),
        history=[StatusChangeOut.model_validate(h) for h in history],
        ledger=[LedgerEntryOut.model_validate(e) for e in ledger],
        refunds=[RefundOut.model_validate(r) for r in refunds],
        subscription_ids=await _subscription_ids(db, order_id=order.id),
    )
