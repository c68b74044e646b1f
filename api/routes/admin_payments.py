"""Staff: payments, the latest first, filtered by status, provider, method, period or a search,
and one payment with its timeline (support staff read them too). Refunds are made at
/admin/orders/{id}/refunds."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, StaffUser
from api.pagination import StaffPage
from api.periods import Since, Until, check_period
from api.problems import problems
from api.workflow_links import LinksDep
from domain.orders import refund_timeline, transactions
from domain.orders.refund_timeline import PaymentDetailOut
from domain.orders.transactions import Method, PaymentOut, PaymentStatusView
from domain.payments import ProviderName
from domain.types import Page

router = APIRouter(prefix="/admin/payments", tags=["admin: payments"])


@router.get("", response_model=Page[PaymentOut])
async def list_payments(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    links: LinksDep,
    payment_status: Annotated[PaymentStatusView | None, Query(alias="status")] = None,
    provider: ProviderName | None = None,
    method: Method | None = None,
    since: Since = None,
    until: Until = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="An order or customer id, a customer's name, email or phone, or the "
            "provider's session or payment id",
        ),
    ] = None,
) -> Page[PaymentOut]:
    """Each order's payment with its customer, method, status and what was refunded."""
    check_period(since, until)
    items, total = await transactions.list_payments(
        db,
        status=payment_status,
        provider=provider,
        method=method,
        since=since,
        until=until,
        q=q,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[PaymentOut](
        items=links.all(items), total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{order_id}", response_model=PaymentDetailOut, responses=problems(404))
async def read_payment(
    order_id: uuid.UUID, _staff: StaffUser, db: SessionDep, links: LinksDep
) -> PaymentDetailOut:
    """One order's payment: how it was paid, what for, its receipt, and the charge and its
    refunds as a timeline, each step with who took it."""
    return links.add(await refund_timeline.payment_detail(db, order_id=order_id))
