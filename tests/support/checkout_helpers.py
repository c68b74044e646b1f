"""Shared steps of the checkout tests: a shop with a plan, a customer with a cart, a checkout."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.orders_helpers import Customer, add_to_cart, customer


async def shop_with_cart(
    api: httpx.AsyncClient, db: AsyncSession, email: str = "buyer@example.com"
) -> tuple[Customer, dict[str, Any]]:
    """An active plan (2,999.00 INR incl. 18% GST), and a customer with it in the cart."""
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    return await buyer_with_cart(api, plan, email), plan


async def buyer_with_cart(
    api: httpx.AsyncClient, plan: dict[str, Any], email: str, *, phone: str | None = None
) -> Customer:
    """Another customer, with an address and `plan` in the cart."""
    buyer = await customer(api, email, phone=phone)
    await add_to_cart(api, buyer, plan["id"])
    return buyer


async def checkout(
    api: httpx.AsyncClient,
    who: Customer,
    key: str | None = None,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await api.post(
        "/checkout",
        json=body or {},
        headers={**who.headers, "Idempotency-Key": key or f"key-{uuid.uuid4()}"},
    )


async def start_checkout(api: httpx.AsyncClient, who: Customer) -> tuple[str, str]:
    """Check out the cart: (our order id, the provider's reference of the payment session)."""
    started = await checkout(api, who)
    assert started.status_code == 201, started.text
    body = started.json()
    return body["order"]["id"], body["payment"]["provider_ref"]


async def sandbox_act(
    api: httpx.AsyncClient,
    payment: dict[str, Any],
    action: Literal["approve", "decline"] = "approve",
    *,
    client_secret: str | None = None,
) -> httpx.Response:
    """Press Approve or Decline on the sandbox page, as the payer's browser posts it: with the
    client secret the payer got from `POST /checkout` (or `client_secret`, to try another)."""
    secret = payment["client_secret"] if client_secret is None else client_secret
    return await api.post(
        f"/sandbox/payments/{payment['provider_ref']}/{action}", data={"client_secret": secret}
    )


async def wait_for_order(
    api: httpx.AsyncClient, who: Customer, order_id: str, statuses: set[str], attempts: int = 200
) -> dict[str, Any]:
    """Poll the order (as the app does) until it reaches one of `statuses`; bounded."""
    order: dict[str, Any] = {}
    for _ in range(attempts):
        order = (await api.get(f"/orders/{order_id}", headers=who.headers)).json()
        if order.get("status") in statuses:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} never reached {statuses}: {order}")
