"""A customer's addresses: list, read, add, change, delete; at most one is the default."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from domain.accounts.models import (
    Address,
)
from domain.accounts.schemas import AddressIn, AddressUpdate

MAX_ADDRESSES = 20  # a user keeps at most this many (their list is answered whole)


async def list_addresses(db: AsyncSession, *, user_id: uuid.UUID) -> list[Address]:
    stmt = (
        select(Address)
        .where(Address.user_id == user_id)
        .order_by(Address.is_default.desc(), Address.created_at)
    )
    return list((await db.execute(stmt)).scalars().all())


async def get_address(db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID) -> Address:
    """The user's address; another user's address is NotFound, exactly like a missing one."""
    address = (
        await db.execute(
            select(Address).where(Address.id == address_id, Address.user_id == user_id)
        )
    ).scalar_one_or_none()
    if address is None:
        raise NotFound("address not found")
    return address


async def add_address(db: AsyncSession, *, user_id: uuid.UUID, data: AddressIn) -> Address:
    """Add an address; Conflict past MAX_ADDRESSES."""
    held = (
        await db.execute(
            select(func.count()).select_from(Address).where(Address.user_id == user_id)
        )
    ).scalar_one()
    if held >= MAX_ADDRESSES:
        raise Conflict(f"you can keep at most {MAX_ADDRESSES} addresses; remove one first")
    make_default = data.is_default or not held  # the first address is the default
    if make_default:
        await _clear_default_address(db, user_id=user_id)
    address = Address(
        user_id=user_id, **data.model_dump(exclude={"is_default"}), is_default=make_default
    )
    db.add(address)
    await db.flush()
    return address


async def update_address(
    db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID, data: AddressUpdate
) -> Address:
    address = await get_address(db, user_id=user_id, address_id=address_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("line1", "city", "postal_code", "country"):
        if required in changes and changes[required] is None:
            raise Conflict(f"{required} cannot be removed from an address")
    if changes.pop("is_default", None):
        await _clear_default_address(db, user_id=user_id)
        address.is_default = True
    for key, value in changes.items():
        setattr(address, key, value)
    await db.flush()
    return address


async def delete_address(db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID) -> None:
    address = await get_address(db, user_id=user_id, address_id=address_id)
    was_default = address.is_default
    await db.delete(address)
    await db.flush()
    if was_default:  # the oldest remaining address becomes the default
        nxt = (
            await db.execute(
                select(Address)
                .where(Address.user_id == user_id)
                .order_by(Address.created_at)
                .limit(1)
            )
        ).scalar_one_or_none()
        if nxt is not None:
            nxt.is_default = True
            await db.flush()


async def _clear_default_address(db: AsyncSession, *, user_id: uuid.UUID) -> None:
    await db.execute(
        update(Address)
        .where(Address.user_id == user_id, Address.is_default)
        .values(is_default=False)
    )
