"""The signed-in customer's cart: plans to buy, each for one of their addresses.

Another customer's cart item is a 404, exactly like a missing one.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CurrentUser, SessionDep
from api.problems import problems
from domain.orders import cart
from domain.orders.schemas import CartItemIn, CartItemUpdate, CartOut

router = APIRouter(prefix="/cart", tags=["cart"])


@router.get("", response_model=CartOut)
async def read_cart(user: CurrentUser, db: SessionDep) -> CartOut:
    """The cart: items with prices and issues, totals per currency, and whether it can be bought."""
    return await cart.get_cart(db, user_id=user.id)


@router.post(
    "",
    response_model=CartOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The plan is no longer on sale, or the cart is full"}},
)
async def add_item(body: CartItemIn, user: CurrentUser, db: SessionDep) -> CartOut:
    """Add a plan at its current terms for one of your addresses (the default if omitted)."""
    await cart.add_to_cart(db, user_id=user.id, data=body)
    await db.commit()
    return await cart.get_cart(db, user_id=user.id)


@router.patch("/items/{item_id}", response_model=CartOut, responses=problems(404, 409))
async def update_item(
    item_id: uuid.UUID, body: CartItemUpdate, user: CurrentUser, db: SessionDep
) -> CartOut:
    """Move an item to another address, or `refresh` it to the plan's current terms."""
    await cart.update_cart_item(db, user_id=user.id, item_id=item_id, data=body)
    await db.commit()
    return await cart.get_cart(db, user_id=user.id)


@router.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def remove_item(item_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> None:
    """Take an item out of the cart."""
    await cart.remove_cart_item(db, user_id=user.id, item_id=item_id)
    await db.commit()
