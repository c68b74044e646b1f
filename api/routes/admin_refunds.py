"""Admin: refund a paid order, fully or in part, through the provider (via RefundWorkflow)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api import checkouts
from api.deps import AdminUser, OptionalIdempotencyKey, SessionDep, SettingsDep, TemporalDep
from api.problems import problems
from domain import workflow_facts
from domain.orders import refunds
from domain.orders import service as orders
from domain.orders.schemas import RefundIn, RefundOut

router = APIRouter(prefix="/admin/orders", tags=["admin: orders"])

# Refund ids made from the admin's Idempotency-Key, so a retried request finds its refund.
REFUND_NAMESPACE = uuid.UUID("6f1c7d1e-4d43-4d2b-9a43-3c1f0f6b9a11")


@router.post(
    "/{order_id}/refunds",
    response_model=RefundOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(404, 409),
)
async def refund_order(
    order_id: uuid.UUID,
    body: RefundIn,
    admin: AdminUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    idempotency_key: OptionalIdempotencyKey = None,
) -> RefundOut:
    """Refund through the payment provider; the ledger and audit log record it. 202: the
    provider confirms asynchronously; follow it in the order's refunds."""
    refund_id = (
        uuid.uuid5(REFUND_NAMESPACE, f"{order_id}:{admin.id}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    refund = await refunds.request_refund(
        db,
        order_id=order_id,
        amount_minor=body.amount_minor,
        reason=body.reason,
        actor_id=admin.id,
        refund_id=refund_id,
    )
    await db.commit()
    order = await orders.get_order(db, order_id=order_id, user_id=None)
    await checkouts.start_refund(
        temporal,
        settings,
        refund_id=refund.id,
        order_id=order_id,
        user_id=order.user_id,
        facts=await workflow_facts.refund(db, refund.id),
    )
    return RefundOut.model_validate(refund)
