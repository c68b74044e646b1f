"""The staff's one search box: customers by name, email or phone; service requests and orders by
their numbers (R-1042, O-2077, or the bare digits); receipts by theirs. Each kind is looked up
only when what was typed can name it, with the fewest queries (an index each: the numbers are
unique, customers are matched by LIKE on a handful of columns)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.accounts.search import find_customers
from domain.catalog.models import ServiceCategory
from domain.numbers import OrderNumber, RequestNumber, typed_number
from domain.orders.models import Order, OrderStatus, Receipt
from domain.service_requests.models import RequestStatus, ServiceRequest

CUSTOMERS_SHOWN = 20


class CustomerHit(BaseModel):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None


class RequestHit(BaseModel):
    id: uuid.UUID
    number: RequestNumber
    status: RequestStatus
    category: str
    customer_id: uuid.UUID
    customer_name: str | None
    window_start: datetime
    window_end: datetime


class OrderHit(BaseModel):
    id: uuid.UUID
    number: OrderNumber
    status: OrderStatus
    total_minor: int
    currency: str
    customer_id: uuid.UUID
    customer_name: str | None
    created_at: datetime
    receipt_number: int | None


class ReceiptHit(BaseModel):
    number: int
    order_id: uuid.UUID
    order_number: OrderNumber
    total_minor: int
    currency: str
    customer_id: uuid.UUID
    customer_name: str | None
    issued_at: datetime


class SearchResults(BaseModel):
    q: str
    customers: list[CustomerHit] = Field(description=f"At most {CUSTOMERS_SHOWN}, by name")
    customers_total: int
    requests: list[RequestHit]
    orders: list[OrderHit]
    receipts: list[ReceiptHit]


async def search(db: AsyncSession, *, q: str) -> SearchResults:
    """Everything `q` names: a number finds its request, order or receipt (a bare one each of
    them); text finds customers (digits written like a phone, by phone)."""
    text = q.strip()
    number = typed_number(text)
    customers: list[User] = []
    total = 0
    # "R-1042" names a request alone; bare digits may also be part of a phone number.
    if number is None or (number.request and number.order and number.receipt):
        customers, total = await find_customers(db, text=text, limit=CUSTOMERS_SHOWN)
    requests: list[RequestHit] = []
    orders: list[OrderHit] = []
    receipts: list[ReceiptHit] = []
    if number is not None and number.request:
        found = await db.execute(
            select(ServiceRequest, ServiceCategory.name, User.name)
            .join(ServiceCategory, ServiceCategory.id == ServiceRequest.category_id)
            .join(User, User.id == ServiceRequest.user_id)
            .where(ServiceRequest.number == number.value)
        )
        requests = [
            RequestHit(
                id=r.id,
                number=r.number,
                status=RequestStatus(r.status),
                category=category,
                customer_id=r.user_id,
                customer_name=name,
                window_start=r.window_start,
                window_end=r.window_end,
            )
            for r, category, name in found
        ]
    if number is not None and number.order:
        found_orders = await db.execute(
            select(Order, User.name)
            .join(User, User.id == Order.user_id)
            .where(Order.number == number.value)
        )
        orders = [
            OrderHit(
                id=o.id,
                number=o.number,
                status=OrderStatus(o.status),
                total_minor=o.total_minor,
                currency=o.currency,
                customer_id=o.user_id,
                customer_name=name,
                created_at=o.created_at,
                receipt_number=o.receipt_number,
            )
            for o, name in found_orders
        ]
    if number is not None and number.receipt:
        found_receipts = await db.execute(
            select(Receipt, Order.number, Order.user_id, User.name)
            .join(Order, Order.id == Receipt.order_id)
            .join(User, User.id == Order.user_id)
            .where(Receipt.number == number.value)
        )
        receipts = [
            ReceiptHit(
                number=r.number,
                order_id=r.order_id,
                order_number=order_number,
                total_minor=r.total_minor,
                currency=r.currency,
                customer_id=user_id,
                customer_name=name,
                issued_at=r.issued_at,
            )
            for r, order_number, user_id, name in found_receipts
        ]
    return SearchResults(
        q=text,
        customers=[
            CustomerHit(id=u.id, name=u.name, email=u.email, phone=u.phone) for u in customers
        ],
        customers_total=total,
        requests=requests,
        orders=orders,
        receipts=receipts,
    )
