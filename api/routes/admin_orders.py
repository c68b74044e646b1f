"""Staff: orders and the payment ledger (reads only). Refunds are started by the checkout routes,
since they run through a workflow."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, StaffUser
from api.pagination import StaffPage
from api.periods import IsoDateTime
from api.problems import problems
from api.routes.orders import receipt_response
from api.workflow_links import LinksDep
from domain.orders import ledger, receipts
from domain.orders import service as orders
from domain.orders.models import LedgerKind, OrderStatus
from domain.orders.schemas import AdminOrderDetailOut, AdminOrderOut, LedgerEntryOut
from domain.payments import ProviderName
from domain.types import Page

router = APIRouter(prefix="/admin", tags=["admin: orders"])


@router.get("/transactions", response_model=Page[LedgerEntryOut])
async def list_transactions(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    provider: ProviderName | None = None,
    kind: LedgerKind | None = None,
    order_id: uuid.UUID | None = None,
    since: Annotated[IsoDateTime | None, Query(description="From this time (inclusive)")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Before this time")] = None,
) -> Page[LedgerEntryOut]:
    """The payment ledger, newest first: sessions, captures, failures, cancellations, refunds."""
    rows, total = await ledger.list_ledger(
        db,
        provider=provider,
        kind=kind,
        order_id=order_id,
        since=since,
        until=until,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[LedgerEntryOut](
        items=[LedgerEntryOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/orders", response_model=Page[AdminOrderOut])
async def list_orders(
    _staff: StaffUser,
    db: SessionDep,
    page: StaffPage,
    links: LinksDep,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    user_id: uuid.UUID | None = None,
) -> Page[AdminOrderOut]:
    """Every customer's orders, newest first, optionally of one status or one customer."""
    rows, total = await orders.list_orders(
        db, user_id=user_id, status=order_status, limit=page.limit, offset=page.offset
    )
    return Page[AdminOrderOut](
        items=links.all([AdminOrderOut.model_validate(r) for r in rows]),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/orders/{order_id}", response_model=AdminOrderDetailOut, responses=problems(404))
async def read_order(
    order_id: uuid.UUID, _staff: StaffUser, db: SessionDep, links: LinksDep
) -> AdminOrderDetailOut:
    """One order with its status history, ledger entries, refunds and subscriptions."""
    return links.add(await orders.admin_order_detail(db, order_id=order_id))


@router.get(
    "/orders/{order_id}/receipt",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "The receipt as an HTML page"},
        404: {"description": "No such order, or it has not been paid yet"},
    },
)
async def read_receipt(order_id: uuid.UUID, _staff: StaffUser, db: SessionDep) -> HTMLResponse:
    """Any paid order's receipt."""
    return receipt_response(await receipts.receipt_document(db, order_id=order_id, user_id=None))
