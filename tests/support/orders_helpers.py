"""Small factories shared by the cart and orders tests: a customer with an address, a cart through
the API, and orders placed, opened and paid through the orders service (as the checkout
activities do)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orders import ledger, settlement
from domain.orders import service as orders
from domain.orders.models import Order
from domain.orders.schemas import SettleResult
from domain.payments import PaymentState, PaymentStatus, SavedMethod
from tests.support.catalog_helpers import make_customer


@dataclass
class Customer:
    headers: dict[str, str]
    id: uuid.UUID
    address_id: uuid.UUID


async def add_address(
    api: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"line1": "12 MG Road", "city": "Bengaluru", "postal_code": "560001", "country": "IN"}
    body.update(fields)
    response = await api.post("/me/addresses", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def customer(
    api: httpx.AsyncClient, email: str = "customer@example.com", *, phone: str | None = None
) -> Customer:
    """A registered customer with one (default) address (and a phone number, if given)."""
    headers = await make_customer(api, email, phone=phone)
    me = (await api.get("/me", headers=headers)).json()
    address = await add_address(api, headers)
    return Customer(headers=headers, id=uuid.UUID(me["id"]), address_id=uuid.UUID(address["id"]))


async def add_to_cart(
    api: httpx.AsyncClient, who: Customer, plan_id: str, address_id: uuid.UUID | None = None
) -> dict[str, Any]:
    body = {"plan_id": plan_id, "address_id": str(address_id or who.address_id)}
    response = await api.post("/cart", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def place_order(
    db: AsyncSession, who: Customer, key: str = "order-key-1", request_hash: str = "hash-1"
) -> Order:
    """An order from the customer's whole cart, committed."""
    order, created = await orders.create_order_from_cart(
        db, user_id=who.id, idempotency_key=key, request_hash=request_hash, provider="sandbox"
    )
    await db.commit()
    assert created
    return order


async def open_session(db: AsyncSession, order: Order) -> Order:
    """Record the order's (sandbox) payment session, committed."""
    order = await ledger.record_session(
        db,
        order_id=order.id,
        provider="sandbox",
        provider_ref=f"sbx_{order.id.hex}",
        amount_minor=order.total_minor,
        currency=order.currency,
    )
    await db.commit()
    return order


def paid(order: Order, **overrides: Any) -> PaymentStatus:
    """The provider's answer for a captured payment of the whole order."""
    values: dict[str, Any] = {
        "provider_ref": order.provider_ref,
        "state": PaymentState.succeeded,
        "amount_minor": order.total_minor,
        "currency": order.currency,
        "payment_id": f"pay_{order.id.hex[:12]}",
        "method": "card",
        "saved_method": SavedMethod(
            provider_customer_id="cus_test",
            provider_method_id=f"pm_{order.id.hex[:12]}",
            kind="card",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2030,
        ),
    }
    values.update(overrides)
    return PaymentStatus(**values)


async def pay(db: AsyncSession, order: Order) -> SettleResult:
    """Open the session (if not yet) and settle the order as paid, committed."""
    if order.provider_ref is None:
        order = await open_session(db, order)
    result = await settlement.settle_paid_order(db, order_id=order.id, status=paid(order))
    await db.commit()
    return result
