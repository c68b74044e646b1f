"""Real data in the live API's database, made through its HTTP API as people would make it, so
that generated requests reach what each operation does rather than only its 404:

- a customer who bought a plan (a paid order, a running subscription, a saved card, the
  messages the purchase sent), with an address, another plan in the cart and a third one in a
  checkout not yet paid (a sandbox payment session), a service request with a photo (assigned to
  a technician), a callback asked for and a phone registered for push;
- an admin with the catalog (categories, plans on sale and a draft), a technician with time off,
  a draft campaign, and a bystander account to manage;
- the technician, signed in with the code sent to their phone.

`Seeded.values[role][name]` are the ids (and slugs, tokens, days) a role's requests may use for
a parameter or body field of that name: their own things, and for staff everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import make_engine, make_sessionmaker
from tests.conftest import make_settings, register
from tests.support.campaign_helpers import create as create_campaign
from tests.support.catalog_helpers import add_active_plan, add_categories, add_plan, make_admin
from tests.support.checkout_helpers import start_checkout
from tests.support.images import png
from tests.support.live_api import HTTP_TIMEOUT_S, LiveApi
from tests.support.orders_helpers import Customer, add_to_cart
from tests.support.request_helpers import Shop, asked, technician, technician_headers, until
from tests.support.subscription_helpers import buy_plan

CUSTOMER = "contract-customer@example.com"
CUSTOMER_PHONE = "+919812377701"
ADMIN = "contract-admin@example.com"
BYSTANDER = "contract-bystander@example.com"
TECHNICIAN_PHONE = "+919812377702"
DEVICE_TOKEN = "contract-device-token-0123456789abcdef"


@dataclass
class Seeded:
    tokens: dict[str, str]
    emails: dict[str, str]
    values: dict[str, dict[str, list[Any]]] = field(default_factory=dict)


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


async def seed(live: LiveApi) -> Seeded:
    engine = make_engine(make_settings(database_url=live.database_url))
    try:
        async with (
            make_sessionmaker(engine)() as db,
            httpx.AsyncClient(base_url=live.api, timeout=HTTP_TIMEOUT_S) as api,
        ):
            return await _seed(api, db)
    finally:
        await engine.dispose()


async def _seed(api: httpx.AsyncClient, db: AsyncSession) -> Seeded:
    admin = await make_admin(api, db, ADMIN)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    in_checkout = await add_active_plan(api, admin, "home-care-plus")
    in_cart = await add_active_plan(api, admin, "home-care-lite")
    draft = await add_plan(api, admin, "home-care-draft")
    bought = await buy_plan(api, db, CUSTOMER, plan=plan, admin=admin, phone=CUSTOMER_PHONE)
    buyer: Customer = bought.buyer
    mine = buyer.headers

    # A checkout left unpaid (its sandbox payment session open), then a plan in the cart.
    await add_to_cart(api, buyer, in_checkout["id"])
    pending_order, session_id = await start_checkout(api, buyer)
    item = await add_to_cart(api, buyer, in_cart["id"])

    # A service request with a photo, assigned to a technician who signs in.
    tech = await technician(api, admin, "Contract Tech", TECHNICIAN_PHONE)
    away_from = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
    time_off = await _ok(
        await api.post(
            f"/admin/technicians/{tech['id']}/time-off",
            json={
                "starts_at": away_from.isoformat(),
                "ends_at": (away_from + timedelta(days=2)).isoformat(),
                "reason": "training",
            },
            headers=admin,
        ),
        201,
    )
    listed = await _ok(await api.get("/admin/catalog/categories", headers=admin))
    categories = {c["slug"]: c["id"] for c in listed}
    request = await asked(api, Shop(bought, categories))
    await until(api, f"/service-requests/{request['id']}", mine, lambda r: r["status"] == "pending")
    photo = await _ok(
        await api.post(
            f"/service-requests/{request['id']}/photos",
            files={"file": ("tap.png", png(), "image/png")},
            headers=mine,
        ),
        201,
    )
    assigned = await api.post(
        f"/admin/service-requests/{request['id']}/assign",
        json={"technician_id": tech["id"]},
        headers=admin,
    )
    await _ok(assigned)
    tech_headers = await technician_headers(api, db, TECHNICIAN_PHONE)

    # Support, push and the inbox.
    callback = await _ok(
        await api.post(
            "/support/callbacks", json={"reason": "billing", "phone": CUSTOMER_PHONE}, headers=mine
        ),
        201,
    )
    await _ok(
        await api.put(
            "/me/devices", json={"token": DEVICE_TOKEN, "platform": "android"}, headers=mine
        ),
        201,
    )
    inbox = await _ok(await api.get("/me/notifications", headers=mine))
    methods = await _ok(await api.get("/me/payment-methods", headers=mine))
    campaign = await create_campaign(api, admin)
    bystander = (await register(api, BYSTANDER, name="Bystander"))["user"]["id"]

    customer_values: dict[str, list[Any]] = {
        "subscription_id": [str(bought.subscription_id)],
        "order_id": [bought.order_id, pending_order],
        "request_id": [request["id"]],
        "photo_id": [photo["id"]],
        "address_id": [str(buyer.address_id)],
        "method_id": [m["id"] for m in _items(methods)],
        "item_id": [i["id"] for i in item["items"]],
        "category_id": list(categories.values()),
        "plan_id": [plan["id"], in_checkout["id"], in_cart["id"]],
        "plan": [plan["slug"], plan["id"]],
        "callback_id": [callback["id"]],
        "message_id": [m["id"] for m in _items(inbox)],
        "token": [DEVICE_TOKEN],
        "session_id": [session_id],
    }
    admin_values: dict[str, list[Any]] = {
        **customer_values,
        "plan_id": [*customer_values["plan_id"], draft["id"]],
        "technician_id": [tech["id"]],
        "time_off_id": [time_off["id"]],
        "campaign_id": [campaign["id"]],
        # Not the customer nor the technician: an admin's generated changes (deactivating,
        # another role) would end the sessions the other roles' tests run on.
        "user_id": [bystander],
        "day": [datetime.now(UTC).date().isoformat()],
    }
    technician_values: dict[str, list[Any]] = {"request_id": [request["id"]]}
    return Seeded(
        tokens={
            "customer": _token(mine),
            "admin": _token(admin),
            "technician": _token(tech_headers),
        },
        emails={"customer": CUSTOMER, "admin": ADMIN},
        values={
            "customer": customer_values,
            "admin": admin_values,
            "technician": technician_values,
        },
    )


def _items(listing: Any) -> list[dict[str, Any]]:
    """The entries of a list answer, paged (`{"items": [...]}`) or not."""
    return list(listing["items"] if isinstance(listing, dict) else listing)
