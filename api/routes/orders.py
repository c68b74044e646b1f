"""The signed-in customer's orders and receipts. Another customer's order is a 404, exactly like a
missing one. Placing an order (checkout) starts a workflow and lives with the checkout routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import CurrentUser, SessionDep, reads_only
from api.pagination import CustomerPage
from api.problems import problems
from domain.orders import receipts, refund_views
from domain.orders import service as orders
from domain.orders.schemas import CustomerOrderOut
from domain.types import Page

router = APIRouter(prefix="/orders", tags=["orders"])

# The receipt is a document with customer-entered text in it: no scripts, no external loads.
RECEIPT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}


def receipt_response(document: str) -> HTMLResponse:
    return HTMLResponse(document, headers=RECEIPT_HEADERS)


@router.get("", response_model=Page[CustomerOrderOut])
@reads_only
async def list_orders(
    user: CurrentUser,
    db: SessionDep,
    page: CustomerPage,
) -> Page[CustomerOrderOut]:
    """Your orders, newest first, with their refunds."""
    rows, total = await orders.list_orders(
        db, user_id=user.id, limit=page.limit, offset=page.offset
    )
    return Page[CustomerOrderOut](
        items=await refund_views.customer_orders(db, orders=rows),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{order_id}", response_model=CustomerOrderOut, responses=problems(404))
async def read_order(order_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> CustomerOrderOut:
    """One of your orders with its items and refunds."""
    order = await orders.get_order(db, order_id=order_id, user_id=user.id)
    (out,) = await refund_views.customer_orders(db, orders=[order])
    return out


@router.get(
    "/{order_id}/receipt",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "The receipt as an HTML page"},
        404: {"description": "No such order of yours, or it has not been paid yet"},
    },
)
async def read_receipt(order_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> HTMLResponse:
    """The receipt of a paid order, as an HTML page to show or print."""
    return receipt_response(await receipts.receipt_document(db, order_id=order_id, user_id=user.id))
