"""What the payment providers keep for a customer: their customer id at each provider, and the
saved payment methods (tokens only) that renewals charge.
"""

from __future__ import annotations

import logging
import uuid

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from domain.accounts.models import (
    PaymentMethod,
    ProviderCustomer,
)
from domain.accounts.schemas import PaymentMethodIn
from domain.payments import SavedMethod

log = logging.getLogger(__name__)

MAX_PAYMENT_METHODS = 20  # a user keeps at most this many (their list is answered whole)


async def provider_customer_id(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str
) -> str | None:
    stmt = select(ProviderCustomer.customer_id).where(
        ProviderCustomer.user_id == user_id, ProviderCustomer.provider == provider
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def remember_provider_customer(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str, customer_id: str
) -> str:
    """Keep the user's customer id at the provider; the first one recorded wins (a concurrent
    checkout that made the same customer with the same key records the same id)."""
    await db.execute(
        pg_insert(ProviderCustomer)
        .values(id=uuid.uuid4(), user_id=user_id, provider=provider, customer_id=customer_id)
        .on_conflict_do_nothing(index_elements=["user_id", "provider"])
    )
    kept = await provider_customer_id(db, user_id=user_id, provider=provider)
    assert kept is not None
    return kept


# --- payment methods ----------------------------------------------------------------------------


async def list_payment_methods(db: AsyncSession, *, user_id: uuid.UUID) -> list[PaymentMethod]:
    stmt = (
        select(PaymentMethod)
        .where(PaymentMethod.user_id == user_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at)
    )
    return list((await db.execute(stmt)).scalars().all())


async def add_payment_method(
    db: AsyncSession, *, user_id: uuid.UUID, data: PaymentMethodIn
) -> PaymentMethod:
    taken = (
        await db.execute(
            select(PaymentMethod).where(
                PaymentMethod.provider == data.provider,
                PaymentMethod.provider_method_id == data.provider_method_id,
            )
        )
    ).scalar_one_or_none()
    if taken is not None:
        if taken.user_id != user_id:
            raise Conflict("that payment method is saved on another account")
        return taken
    held = (
        await db.execute(
            select(func.count()).select_from(PaymentMethod).where(PaymentMethod.user_id == user_id)
        )
    ).scalar_one()
    if held >= MAX_PAYMENT_METHODS:
        raise Conflict(
            f"you can keep at most {MAX_PAYMENT_METHODS} payment methods; remove one first"
        )
    make_default = data.is_default or not held
    if make_default:
        await db.execute(
            update(PaymentMethod)
            .where(PaymentMethod.user_id == user_id, PaymentMethod.is_default)
            .values(is_default=False)
        )
    method = PaymentMethod(
        user_id=user_id, **data.model_dump(exclude={"is_default"}), is_default=make_default
    )
    db.add(method)
    await db.flush()
    return method


async def keep_provider_method(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str, saved: SavedMethod
) -> PaymentMethod | None:
    """Save the reusable method a provider returned with a payment, for renewals: its tokens and
    display hints only, through the same rules as a method the customer saves. Never fails its
    caller (a settlement): a method those rules refuse, or one saved on another account, is
    skipped and logged; a concurrent save of the same method finds the one saved."""
    try:
        data = PaymentMethodIn(
            provider=provider,
            provider_method_id=saved.provider_method_id,
            provider_customer_id=saved.provider_customer_id,
            kind=saved.kind,
            brand=saved.brand,
            last4=saved.last4,
            exp_month=saved.exp_month,
            exp_year=saved.exp_year,
        )
    except ValidationError as exc:
        log.warning("user %s: saved payment method not kept: %s", user_id, exc)
        return None
    try:
        async with db.begin_nested():
            return await add_payment_method(db, user_id=user_id, data=data)
    except Conflict as exc:
        log.warning("user %s: saved payment method not kept: %s", user_id, exc.detail)
        return None
    except IntegrityError:  # saved by a concurrent settlement meanwhile
        return (
            await db.execute(
                select(PaymentMethod).where(
                    PaymentMethod.user_id == user_id,
                    PaymentMethod.provider == provider,
                    PaymentMethod.provider_method_id == saved.provider_method_id,
                )
            )
        ).scalar_one_or_none()


async def delete_payment_method(
    db: AsyncSession, *, user_id: uuid.UUID, method_id: uuid.UUID
) -> None:
    method = (
        await db.execute(
            select(PaymentMethod).where(
                PaymentMethod.id == method_id, PaymentMethod.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if method is None:
        raise NotFound("payment method not found")
    await db.delete(method)
    await db.flush()
