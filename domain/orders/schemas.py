"""Inputs and outputs of the orders domain: the cart and checkout input, orders for customers and
staff, the ledger, and `SettleResult`, which the checkout activities return across the Temporal
boundary.

Inputs forbid unknown fields: a customer cannot set a price, a version or a status.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from core.errors import FieldProblem
from domain.actors import Actor
from domain.numbers import OrderNumber
from domain.orders.models import LedgerKind, OrderStatus, RefundStatus
from domain.types import Flag


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- cart ---------------------------------------------------------------------------------------


class CartItemIn(In):
    plan_id: uuid.UUID = Field(description="The plan to buy; its current terms are added")
    address_id: uuid.UUID | None = Field(
        default=None, description="One of your addresses; omitted: your default address"
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "plan_id": "0d3c0b8e-6a0e-4c55-8d0c-4c9b1f7b9e21",
                    "address_id": "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b",
                }
            ]
        },
    )


class CartItemUpdate(In):
    address_id: uuid.UUID | None = Field(default=None, description="Move the item to this address")
    refresh: Flag = Field(
        default=False, description="Take the plan's current terms (after a price or terms change)"
    )

    @model_validator(mode="after")
    def _something(self) -> CartItemUpdate:
        if self.address_id is None and not self.refresh:
            raise FieldProblem("address_id", "give address_id, or refresh: true")
        return self


class CheckoutIn(In):
    """What to order: the whole cart, or some of its items (the rest stay in the cart)."""

    item_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Cart item ids to order; omitted: every item in the cart",
    )

    @model_validator(mode="after")
    def _unique(self) -> CheckoutIn:
        if self.item_ids is not None and len(set(self.item_ids)) != len(self.item_ids):
            raise FieldProblem("item_ids", "an item id is listed twice")
        return self


class PriceLine(BaseModel):
    amount_minor: int = Field(description="The price as listed")
    currency: str
    minor_units: int = Field(description="Digits after the decimal point, for display")
    tax_rate_bps: int
    includes_tax: bool
    tax_minor: int = Field(description="The tax within total_minor")
    total_minor: int = Field(description="What the customer pays, tax included")


class CartItemOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    plan_slug: str
    plan_name: str
    plan_version_id: uuid.UUID | None = Field(
        description="The terms this item holds; null when those terms were replaced and removed"
    )
    version: int | None
    address_id: uuid.UUID | None
    address: str | None = Field(description="The address in one line; null if it was removed")
    price: PriceLine
    validity_days: int
    visit_cap: int
    added_at: datetime
    issues: list[str] = Field(description="Why this item cannot be ordered as it is; empty if fine")


class CartTotal(BaseModel):
    currency: str
    minor_units: int
    items: int
    subtotal_minor: int = Field(description="The items' net amounts, tax excluded")
    tax_minor: int
    total_minor: int


class CartOut(BaseModel):
    items: list[CartItemOut]
    totals: list[CartTotal] = Field(description="One per currency in the cart")
    ready: bool = Field(description="Whether an order can be placed from this cart now")
    problems: list[str] = Field(description="Why it cannot, when ready is false")


# --- orders -------------------------------------------------------------------------------------


class OrderItemOut(Out):
    id: uuid.UUID
    plan_id: uuid.UUID
    plan_version_id: uuid.UUID
    plan_name: str
    address_id: uuid.UUID | None
    address: dict[str, Any]
    amount_minor: int
    tax_minor: int
    total_minor: int
    tax_rate_bps: int
    includes_tax: bool
    validity_days: int
    visit_cap: int


class OrderOut(Out):
    id: uuid.UUID
    number: OrderNumber
    status: OrderStatus
    provider: str
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    failure_reason: str | None
    receipt_number: int | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    completed_at: datetime | None
    items: list[OrderItemOut]


class OrderRefundOut(BaseModel):
    """A refund of an order as its customer is shown it."""

    id: uuid.UUID
    amount_minor: int = Field(description="In the order's currency's minor units")
    currency: str
    status: RefundStatus = Field(
        description="pending: asked of the payment provider, not back yet; succeeded: paid back "
        "to how the order was paid; failed: the payment provider did not pay it back"
    )
    reason: str = Field(
        description="Why it was made, in words for the customer: the plan cancelled, or a "
        "refund from the support team (staff notes are never shown)"
    )
    requested_at: datetime = Field(description="When the refund was asked for")
    settled_at: datetime | None = Field(
        description="When the payment provider paid it back or refused it; null while pending"
    )


class RefundTotals(BaseModel):
    refunded_minor: int = Field(description="The refunds that succeeded, added up")
    net_paid_minor: int | None = Field(
        description="What was paid less the refunds that succeeded; null until the order is paid"
    )


class CustomerOrderOut(RefundTotals, OrderOut):
    """One of the customer's orders with its refunds."""

    refunds: list[OrderRefundOut] = Field(
        description="Every refund asked for, oldest first, whatever its status"
    )


class AdminOrderOut(OrderOut):
    user_id: uuid.UUID
    provider_ref: str | None
    provider_payment_id: str | None
    workflow_id: str = Field(
        description="The workflow that takes its payment: its checkout, or for an automatic "
        "renewal the subscription's"
    )
    workflow_url: str | None = Field(
        default=None, description="Its workflow in the Temporal Web UI (set on every staff answer)"
    )


class StatusChangeOut(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    actor: Actor = Field(description="Who moved it, by name")
    reason: str | None


class LedgerEntryOut(Out):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: LedgerKind
    provider: str
    provider_ref: str | None
    provider_payment_id: str | None
    amount_minor: int
    currency: str
    entry_key: str
    data: dict[str, Any]
    occurred_at: datetime


Token = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$"
    ),
]


class PaymentConfirmationIn(In):
    """What the provider's client SDK handed the app after paying. Razorpay: its signed handler
    response. Stripe: the PaymentIntent id. Sandbox: the session id. Nothing here is trusted:
    the order moves only once the provider itself says it is paid."""

    razorpay_order_id: Token | None = None
    razorpay_payment_id: Token | None = None
    razorpay_signature: Token | None = None
    payment_intent: Token | None = None
    session_id: Token | None = None


class RefundIn(In):
    """A full or partial refund of a paid order, in the order's currency's minor units."""

    amount_minor: int = Field(gt=0, description="At most what is still refundable")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class RefundOut(Out):
    id: uuid.UUID
    order_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str
    status: RefundStatus
    provider_refund_id: str | None
    failure_reason: str | None
    requested_by: uuid.UUID | None
    created_at: datetime
    completed_at: datetime | None


class AdminRefundOut(RefundOut):
    customer_reason: str = Field(description="The reason the customer is shown for it")


class AdminOrderDetailOut(RefundTotals, AdminOrderOut):
    history: list[StatusChangeOut]
    ledger: list[LedgerEntryOut]
    refunds: list[AdminRefundOut] = Field(
        description="Every refund asked for, oldest first: an admin's and a cancellation's"
    )
    subscription_ids: list[uuid.UUID]


# --- across the Temporal boundary ---------------------------------------------------------------


class SettleResult(BaseModel):
    """What settling a paid order produced. The same on every call; `newly_settled` says whether
    this call did the work (False on a retry)."""

    model_config = ConfigDict(frozen=True)

    order_id: uuid.UUID
    receipt_number: int
    subscription_ids: list[uuid.UUID]
    newly_settled: bool
