"""Which saved payment method a customer's automatic renewal is charged on, and whether the
payment provider can charge it automatically at all."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidField
from domain.accounts.models import PaymentMethod, User


async def renewal_method(
    db: AsyncSession, *, user: User, provider: str, chosen: uuid.UUID | None
) -> uuid.UUID:
    """The method to charge: `chosen` (one of the user's, saved with `provider`), or else their
    default one with `provider`, or else the first they saved. Conflict, saying what to do, when
    there is none or the provider cannot charge this customer automatically."""
    stmt = select(PaymentMethod).where(
        PaymentMethod.user_id == user.id, PaymentMethod.provider == provider
    )
    if chosen is not None:
        stmt = stmt.where(PaymentMethod.id == chosen)
    method = (
        (await db.execute(stmt.order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at)))
        .scalars()
        .first()
    )
    if method is None and chosen is not None:  # as for an id that exists nowhere
        raise InvalidField(
            ("payment_method_id",), f"you have no saved {provider} payment method with this id"
        )
    if method is None:
        raise Conflict(
            "automatic renewal needs a saved payment method: pay once with a card in the app, "
            "or save one with POST /api/v1/me/payment-methods"
        )
    if provider == "razorpay" and not (user.phone and user.email):
        # Razorpay debits a saved token only for a customer with both (its notices go there).
        raise Conflict(
            "automatic renewal with Razorpay needs an email and a phone number on your account"
        )
    return method.id
