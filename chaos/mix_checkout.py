"""Purchases and renewals through the HTTP API: a new customer buys the plan on the sandbox
provider's page (approved, or declined now and then); a holder renews by hand, or turns
automatic renewal on with the card the purchase saved or with one the sandbox bank declines
(`sbx_pm_decline...`: dunning retries, then expiry)."""

from __future__ import annotations

import asyncio
from typing import Any

from chaos.client import Session, new_key
from chaos.world import Holder, World

ORDER_WAIT_S = 300.0  # bounded: the checks report an order that never ends
FINAL = {"completed", "failed", "expired", "cancelled"}


async def pay(world: World, who: Session, started: dict[str, Any], action: str) -> None:
    """Press Approve or Decline on the sandbox page, as the payer's browser posts it."""
    payment = started["payment"]
    order_id = started["order"]["id"]
    world.paid[order_id] = action
    response = await world.api.call(
        "POST",
        f"/sandbox/payments/{payment['provider_ref']}/{action}",
        op=f"sandbox {action}",
        data={"client_secret": payment["client_secret"]},
    )
    if response.status_code not in (200, 303, 409):
        world.errors.append(f"sandbox {action} {order_id}: {response.status_code}")


async def wait_order(world: World, who: Session, order_id: str) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ORDER_WAIT_S
    world.api.ops["wait order"] += 1
    status = "?"
    while loop.time() < deadline:
        response = await world.api.call("GET", f"/orders/{order_id}", who=who, op="poll")
        world.api.ops["poll"] -= 1  # polls are part of the wait, not operations of their own
        if response.status_code == 200:
            status = response.json()["status"]
            if status in FINAL:
                return str(status)
        await asyncio.sleep(0.5)
    return status


async def purchase(world: World) -> Holder | None:
    api, rng = world.api, world.rng
    who = await api.register(world.email())
    address = await api.call(
        "POST",
        "/me/addresses",
        who=who,
        op="add address",
        json={"line1": "12 MG Road", "city": "Bengaluru", "postal_code": "560001", "country": "IN"},
        ok=(201,),
    )
    address_id = address.json()["id"]
    body = {"plan_id": world.plan["id"], "address_id": address_id}
    await api.call("POST", "/cart", who=who, op="add to cart", json=body, ok=(201, 409))
    started = await api.call(
        "POST", "/checkout", who=who, op="checkout", key=new_key("checkout"), json={}, ok=(200, 201)
    )
    body = started.json()
    action = "decline" if rng.random() < 0.2 else "approve"
    await pay(world, who, body, action)
    order_id = body["order"]["id"]
    status = await wait_order(world, who, order_id)
    if status != "completed":
        return None
    state = await api.call("GET", f"/orders/{order_id}/checkout", who=who, op="read checkout")
    (subscription_id,) = state.json()["subscription_ids"]
    renewal = rng.choices(["auto", "auto_decline", "manual", "lapse"], [5, 2, 2, 1])[0]
    holder = Holder(who, subscription_id, address_id, renewal)
    world.holders.append(holder)
    if renewal == "auto":
        await auto_renew(world, holder, None)
    elif renewal == "auto_decline":
        method = await api.call(
            "POST",
            "/me/payment-methods",
            who=who,
            op="save declining card",
            json={
                "provider": "sandbox",
                "provider_method_id": f"sbx_pm_decline_{rng.randrange(10**9)}",
                "kind": "card",
                "brand": "visa",
                "last4": "0002",
                "exp_month": 12,
                "exp_year": 2030,
            },
            ok=(200, 201),
        )
        await auto_renew(world, holder, method.json()["id"])
    return holder


async def auto_renew(world: World, holder: Holder, method_id: str | None) -> None:
    """Turn automatic renewal on; a 409 while the subscription's lifecycle is still starting
    (the settlement starts it just after the order completes) is asked again, as the app would."""
    for _ in range(20):
        response = await world.api.call(
            "PUT",
            f"/subscriptions/{holder.subscription_id}/auto-renew",
            who=holder.who,
            op="auto-renew on",
            json={"enabled": True, "payment_method_id": method_id},
        )
        if response.status_code != 409:
            break
        world.api.ops["auto-renew on"] -= 1  # the same operation, asked again
        await asyncio.sleep(1)
    if response.status_code != 200:
        world.errors.append(
            f"auto-renew {holder.subscription_id}: {response.status_code} {response.text[:200]}"
        )


async def renew_by_hand(world: World) -> None:
    """A holder who renews by hand pays the next period (approved, or declined now and then)."""
    holders = [h for h in world.holders if h.renewal == "manual"]
    if not holders:
        return
    holder = world.rng.choice(holders)
    started = await world.api.call(
        "POST",
        f"/subscriptions/{holder.subscription_id}/renew",
        who=holder.who,
        op="renew",
        key=new_key("renew"),
    )
    if started.status_code not in (200, 201):
        return  # expired and gone, or a renewal already waiting: refused with a reason
    action = "decline" if world.rng.random() < 0.2 else "approve"
    await pay(world, holder.who, started.json(), action)
    await wait_order(world, holder.who, started.json()["order"]["id"])
