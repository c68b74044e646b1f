"""The signed-in customer's orders and receipts. Another customer's order is a 404, exactly like a
missing one. Placing an order (checkout) starts a workflow and lives with the checkout routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import CurrentUser, SessionDep
from api.pagination import CustomerPage
from api.problems import problems
from domain.orders import receipts
from domain.orders import service as orders
from domain.orders.schemas import OrderOut
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


@router.get("", response_model=Page[OrderOut])
async def list_orders(
    user: CurrentUser,
    db: SessionDep,
    page: CustomerPage,
) -> Page[OrderOut]:
    """Your orders, newest first."""
    rows, total = await orders.list_orders(
        db, user_id=user.id, limit=page.limit, offset=page.offset
    )
    return Page[OrderOut](
        items=[OrderOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{order_id}", response_model=OrderOut, responses=problems(404))
async def read_order(order_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> OrderOut:
    """One of your orders with its items."""
    return OrderOut.model_validate(await orders.get_order(db, order_id=order_id, user_id=user.id))


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
