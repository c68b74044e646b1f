"""Tables of the orders domain: the cart, orders and their items and status history, the payment
ledger, provider webhook deliveries, receipts with their gap-free counter, the subscriptions an
and refunds. The subscriptions an order creates are in `domain.subscriptions`.

Money is an integer in minor units beside its ISO 4217 code; times are timezone-aware.
Idempotency lives in the database: every row an activity writes has a natural unique key
(`payment_ledger.entry_key`, `subscriptions.order_item_id`, `receipts.order_id`,
`webhook_events (provider, event_id)`, `orders (user_id, idempotency_key)`), and the service
writes with INSERT ... ON CONFLICT DO NOTHING, so a retried activity writes nothing twice.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Timestamps, UUIDPk
from domain.contracts import checkout_workflow_id
from domain.subscriptions import keys
from domain.subscriptions.contracts import subscription_workflow_id

PROVIDERS = ("sandbox", "stripe", "razorpay")
_PROVIDER_CHECK = "provider IN ('sandbox', 'stripe', 'razorpay')"
_CURRENCY_CHECK = "currency ~ '^[A-Z]{3}$'"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class OrderStatus(enum.StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"  # money captured; passes to completed in the same transaction (history shows it)
    completed = "completed"  # subscriptions created and a receipt issued
    failed = "failed"
    expired = "expired"


class LedgerKind(enum.StrEnum):
    created = "created"
    authorised = "authorised"
    captured = "captured"
    failed = "failed"
    cancelled = "cancelled"
    refunded = "refunded"


class RefundStatus(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


# --- cart ---------------------------------------------------------------------------------------


class CartItem(UUIDPk, Base):
    """One plan for one address in a customer's cart. No quantity: one item, one subscription.

    The version and the address are nullable on purpose: the catalog deletes a superseded version
    that was never sold, and a customer may delete an address; the item then stays in the cart
    and says what changed ("price or terms changed", "address removed") instead of vanishing.
    """

    __tablename__ = "cart_items"
    # Also the index of a user's cart (user_id leads).
    __table_args__ = (UniqueConstraint("user_id", "plan_id", "address_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), index=True
    )
    # The version the customer saw when adding (or refreshing) the item.
    plan_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="SET NULL"), index=True
    )
    address_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("addresses.id", ondelete="SET NULL"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


# --- orders -------------------------------------------------------------------------------------

# An order's number as people say it (O-2077): from a sequence, short and never reused. Receipts
# keep their own gap-free counter (`ReceiptCounter`).
ORDER_NUMBERS = Sequence("order_numbers", start=1001, metadata=Base.metadata)


class Order(UUIDPk, Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        UniqueConstraint("provider", "provider_ref"),
        CheckConstraint(_in("status", OrderStatus), name="status_known"),
        CheckConstraint(_PROVIDER_CHECK, name="provider_known"),
        CheckConstraint(_CURRENCY_CHECK, name="currency_code"),
        CheckConstraint(
            "subtotal_minor >= 0 AND tax_minor >= 0 AND total_minor = subtotal_minor + tax_minor",
            name="totals_add_up",
        ),
        Index("ix_orders_user_id_created_at", "user_id", "created_at"),
    )

    number: Mapped[int] = mapped_column(
        BigInteger, server_default=ORDER_NUMBERS.next_value(), unique=True
    )
    # Orders are financial records: a user who has one cannot be deleted (disable them instead).
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(
        String(24), default=OrderStatus.pending_payment.value, index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    # The provider's session: sandbox session id / Stripe PaymentIntent / Razorpay order.
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    # The captured payment (Stripe charge / Razorpay payment id): what a refund refers to.
    provider_payment_id: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    # subtotal = the items' net amounts (tax excluded), so subtotal + tax = total always.
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(128))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    receipt_number: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.position", lazy="raise"
    )

    @property
    def workflow_id(self) -> str:
        """The workflow that takes this order's payment: its CheckoutWorkflow, or for an
        automatic renewal (keyed by `keys.renewal_key` by the subscription's workflow, which
        charges it) that SubscriptionWorkflow."""
        subscription_id = keys.subscription_of(self.idempotency_key)
        if subscription_id is not None:
            return subscription_workflow_id(subscription_id)
        return checkout_workflow_id(self.id)


class OrderStatusHistory(Base):
    """Every status change of an order, with its time and actor ("customer", "workflow",
    "admin:<user id>"), so history and reports come from the database."""

    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(24))  # None: the order was created
    to_status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


class OrderItem(UUIDPk, Base):
    """One plan bought for one address, with the version's terms copied at order time (what the
    receipt shows and the subscription grants, whatever the catalog does later)."""

    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        CheckConstraint(
            "total_minor = CASE WHEN includes_tax THEN amount_minor "
            "ELSE amount_minor + tax_minor END",
            name="total_matches_price",
        ),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="RESTRICT"), index=True
    )
    # RESTRICT: the terms an order refers to are never deleted under it.
    plan_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="RESTRICT"), index=True
    )
    address_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("addresses.id", ondelete="SET NULL")
    )
    # The address as it was when ordered (the customer may edit or delete it later).
    address: Mapped[dict[str, Any]] = mapped_column(JSONB)
    plan_name: Mapped[str] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # the price as listed
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)  # what the customer pays for it
    tax_rate_bps: Mapped[int] = mapped_column(Integer)
    includes_tax: Mapped[bool]
    validity_days: Mapped[int] = mapped_column(SmallInteger)
    visit_cap: Mapped[int] = mapped_column(SmallInteger)
    # A renewal: this item pays for the next period of that subscription instead of making one.
    # (use_alter: subscriptions refer to order items too.)
    renews_subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="RESTRICT", use_alter=True), index=True
    )

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")


# --- payments -----------------------------------------------------------------------------------


class LedgerEntry(UUIDPk, Base):
    """An append-only record of what happened to money. `entry_key` makes each fact be written
    once however often the activity that records it runs (`order:{id}:captured`,
    `refund:{refund_id}`)."""

    __tablename__ = "payment_ledger"
    __table_args__ = (
        CheckConstraint(_in("kind", LedgerKind), name="kind_known"),
        CheckConstraint(_PROVIDER_CHECK, name="provider_known"),
        CheckConstraint(_CURRENCY_CHECK, name="currency_code"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    provider_payment_id: Mapped[str | None] = mapped_column(String(100))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    entry_key: Mapped[str] = mapped_column(String(200), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class WebhookEvent(UUIDPk, Base):
    """A provider's webhook delivery, kept once: providers deliver at least once."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    provider_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]


# --- receipts -----------------------------------------------------------------------------------


class ReceiptCounter(Base):
    """One row: the last receipt number issued. Taken with a row lock in the transaction that
    issues the receipt, so a rolled-back settlement gives its number back (a sequence would not:
    receipt numbers must have no gaps)."""

    __tablename__ = "receipt_counters"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


class Receipt(UUIDPk, Base):
    __tablename__ = "receipts"

    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), unique=True
    )
    issued_at: Mapped[datetime] = mapped_column(server_default=func.now())
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # One entry per tax rate: {"rate_bps", "net_minor", "tax_minor", "total_minor"}.
    tax_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Who was billed, as they were named then: {"name", "email", "phone"}.
    billed_to: Mapped[dict[str, Any]] = mapped_column(JSONB)


# --- refunds ------------------------------------------------------------------------------------


class Refund(UUIDPk, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(_in("status", RefundStatus), name="status_known"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(_CURRENCY_CHECK, name="currency_code"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.pending.value)
    provider_refund_id: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    completed_at: Mapped[datetime | None]
