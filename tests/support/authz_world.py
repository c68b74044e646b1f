"""The world the authorization matrix (tests/contract/test_authorization_matrix.py) runs in,
made through the API as people make it: an admin and a support agent; two customers, A and B,
each with a paid plan (order, receipt, subscription, saved card), an address, a plan in the cart,
a service request assigned to a technician of their own (two technicians) with a photo, a
callback, a registered device and messages in the inbox; and the accounts that must be refused
everything: a customer the admin deactivated, an inactive customer whose sessions are still open,
a customer who signed out, and an admin whose sessions another admin ended (deactivated, then
active again).

The matrix sends B's ids to everyone else; `values` names them by the path parameters they fill.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.accounts.models import User
from domain.notifications import unsubscribe
from domain.notifications.kinds import Channel, Topic
from domain.notifications.models import Delivery
from domain.orders.models import Order, Receipt
from tests.conftest import PASSWORD, count_rows, register
from tests.support import campaign_helpers as campaigns
from tests.support.admin_helpers import account
from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin
from tests.support.images import png
from tests.support.request_helpers import Shop, asked, sent_to, technician, technician_headers
from tests.support.subscription_helpers import buy_plan
from tests.support.waiting import eventually

# Everyone who signs up: the parties a and b, the staff, the refused, and a spare account the
# public sign-in routes sign in to.
EMAIL = {
    name: f"authz-{name}@example.com"
    for name in (
        "a",
        "b",
        "admin",
        "support",
        "deactivated",
        "inactive",
        "signed-out",
        "revoked-admin",
        "spare",
    )
}

# The tables the routes that take a customer's ids write (directly or through a workflow).
WRITTEN_BY_CUSTOMER_ROUTES = (
    "users",
    "addresses",
    "payment_methods",
    "cart_items",
    "orders",
    "order_items",
    "order_status_history",
    "payment_ledger",
    "receipts",
    "refunds",
    "subscriptions",
    "subscription_periods",
    "subscription_events",
    "visit_reservations",
    "service_requests",
    "service_request_events",
    "service_request_photos",
    "support_callbacks",
    "notification_messages",
    "device_tokens",
    "sandbox_payments",
)


@dataclass
class Party:
    """A customer with one of everything, and the technician assigned to their visit."""

    email: str
    headers: dict[str, str]
    ids: dict[str, str]  # path parameter -> the id of this customer's thing
    technician_phone: str
    technician: dict[str, str] = field(default_factory=dict)  # the technician's headers


@dataclass
class World:
    admin: dict[str, str]
    support: dict[str, str]
    a: Party
    b: Party
    # Who must be refused everything but the public routes: name -> headers.
    refused: dict[str, dict[str, str]]
    # What fills a path parameter or a body template: B's ids, and the shared things.
    values: dict[str, str]

    def private_ids(self, party: Party) -> set[str]:
        return {v for k, v in party.ids.items() if k in PRIVATE}


# The path parameters naming a customer's own things (the others name shared ones: a plan, a
# category, a day). A foreign one must answer as a missing one does.
PRIVATE = (
    "address_id",
    "method_id",
    "item_id",
    "order_id",
    "subscription_id",
    "request_id",
    "photo_id",
    "callback_id",
    "message_id",
    "token",
)


def missing_values() -> dict[str, str]:
    """Ids of nothing, shaped like the private ones."""
    return {
        key: (f"fcm-{uuid.uuid4().hex}" if key == "token" else str(uuid.uuid4())) for key in PRIVATE
    }


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json() if response.content else None


async def _party(
    api: httpx.AsyncClient,
    db: AsyncSession,
    *,
    name: str,
    admin: dict[str, str],
    plan: dict[str, Any],
    categories: dict[str, str],
    technician_phone: str,
) -> Party:
    email = EMAIL[name]
    bought = await buy_plan(api, db, email, plan=plan, admin=admin)
    who = bought.buyer.headers
    tech = await technician(api, admin, f"Technician {name.upper()}", technician_phone)
    shop = Shop(bought, categories)
    request = await asked(api, shop)
    await _ok(
        await api.post(
            f"/service-requests/{request['id']}/photos",
            files={"file": ("tap.png", png(), "image/png")},
            headers=who,
        ),
        201,
    )
    photo = (await _ok(await api.get(f"/service-requests/{request['id']}/photos", headers=who)))[0]
    await _ok(
        await api.post(
            f"/admin/service-requests/{request['id']}/assign",
            json={"technician_id": tech["id"]},
            headers=admin,
        )
    )
    callback = await _ok(
        await api.post(
            "/support/callbacks", json={"reason": "billing", "phone": "+919812377100"}, headers=who
        ),
        201,
    )
    device = f"fcm-{name}-{uuid.uuid4().hex}"
    await _ok(
        await api.put("/me/devices", json={"token": device, "platform": "android"}, headers=who),
        201,
    )
    cart = await _ok(
        await api.post(
            "/cart",
            json={"plan_id": plan["id"], "address_id": str(bought.buyer.address_id)},
            headers=who,
        ),
        201,
    )

    async def methods() -> list[dict[str, Any]]:
        return list(await _ok(await api.get("/me/payment-methods", headers=who)))

    (method,) = await eventually(methods, bool, f"{name}'s saved card")

    async def inbox() -> list[dict[str, Any]]:
        return list((await _ok(await api.get("/me/notifications", headers=who)))["items"])

    message = (await eventually(inbox, bool, f"{name}'s inbox"))[0]
    order = await db.get(Order, uuid.UUID(bought.order_id))
    assert order is not None and order.provider_ref is not None
    session_id = order.provider_ref
    await db.commit()
    ids = {
        "user_id": str(bought.buyer.id),
        "address_id": str(bought.buyer.address_id),
        "method_id": method["id"],
        "item_id": cart["items"][0]["id"],
        "order_id": bought.order_id,
        "subscription_id": str(bought.subscription_id),
        "request_id": request["id"],
        "photo_id": photo["id"],
        "callback_id": callback["id"],
        "message_id": message["id"],
        "token": device,
        "technician_id": tech["id"],
        "session_id": session_id,
    }
    return Party(email, who, ids, technician_phone)


async def _codes_sent(db: AsyncSession, emails: list[str]) -> None:
    """The verification code every sign-up sends, once its workflow has sent it."""
    for email in emails:
        await eventually(
            lambda email=email: count_rows(db, Delivery, Delivery.destination == email),  # type: ignore[misc]
            bool,
            f"the code sent to {email}",
        )


async def _settled(db: AsyncSession, party: Party) -> None:
    """What the seeding's workflows write after their answers: the receipt, and the messages of
    the assignment to the customer and the technician."""
    order_id = uuid.UUID(party.ids["order_id"])
    await eventually(
        lambda: count_rows(db, Receipt, Receipt.order_id == order_id), bool, "the receipt"
    )
    for whom in (party.email, party.technician_phone):
        await eventually(
            lambda whom=whom: sent_to(db, whom, party.ids["request_id"]),  # type: ignore[misc]
            lambda steps: "assigned" in steps,
            f"the assignment told to {whom}",
        )


async def _refused(
    api: httpx.AsyncClient, db: AsyncSession, admin: dict[str, str]
) -> dict[str, dict[str, str]]:
    deactivated_id, deactivated = await account(api, db, EMAIL["deactivated"])
    await _ok(
        await api.patch(f"/admin/users/{deactivated_id}", json={"is_active": False}, headers=admin)
    )
    # Inactive with its sessions still open (no route leaves them so): the flag alone refuses it.
    _, inactive = await account(api, db, EMAIL["inactive"])
    await db.execute(update(User).where(User.email == EMAIL["inactive"]).values(is_active=False))
    await db.commit()
    _, signed_out = await account(api, db, EMAIL["signed-out"])
    await _ok(await api.post("/auth/logout", headers=signed_out), 204)
    revoked_id, revoked = await account(api, db, EMAIL["revoked-admin"], role="admin")
    for active in (False, True):  # the sessions end with the deactivation; the account is back
        await _ok(
            await api.patch(f"/admin/users/{revoked_id}", json={"is_active": active}, headers=admin)
        )
    return {
        "customer the admin deactivated": deactivated,
        "inactive customer with open sessions": inactive,
        "signed-out customer": signed_out,
        "admin whose sessions an admin ended": revoked,
    }


def _window(days: int) -> tuple[str, str]:
    start = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
        days=days
    )
    return start.isoformat(), (start + timedelta(hours=2)).isoformat()


async def build_world(api: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> World:
    admin = await make_admin(api, db, EMAIL["admin"])
    by_slug = await add_categories(api, admin)
    categories = {slug: c["id"] for slug, c in by_slug.items()}
    plan = await add_active_plan(api, admin)
    _, support = await account(api, db, EMAIL["support"], role="support")
    a = await _party(
        api,
        db,
        name="a",
        admin=admin,
        plan=plan,
        categories=categories,
        technician_phone="+919812377001",
    )
    b = await _party(
        api,
        db,
        name="b",
        admin=admin,
        plan=plan,
        categories=categories,
        technician_phone="+919812377002",
    )
    for party in (a, b):
        party.technician = await technician_headers(api, db, party.technician_phone)
        await _settled(db, party)
    spare = await register(api, EMAIL["spare"])
    start, end = _window(4)
    values = {
        **b.ids,
        "plan": plan["slug"],
        "plan_id": plan["id"],
        "category_id": categories["plumbing"],
        "channel": "email",
        "provider": "stripe",
        "day": (datetime.now(UTC).date() + timedelta(days=3)).isoformat(),
        "time_off_id": str(uuid.uuid4()),
        "quote_id": str(uuid.uuid4()),
        "campaign_id": (await campaigns.create(api, admin))["id"],
        "window_start": start,
        "window_end": end,
        "spare_refresh": spare["tokens"]["refresh_token"],
        "unsubscribe_token": unsubscribe.link(
            settings,
            message_id=uuid.uuid4(),
            user_id=uuid.UUID(spare["user"]["id"]),
            topic=Topic.promotions,
            channel=Channel.email,
            now=datetime.now(UTC),
        ).split("token=", 1)[1],
        "password": PASSWORD,
        "spare_email": EMAIL["spare"],  # whom the public sign-in routes sign in
        "support_email": EMAIL["support"],
        "tech_a_phone": a.technician_phone,
        "tech_b_phone": b.technician_phone,
    }
    refused = await _refused(api, db, admin)
    await _codes_sent(db, sorted(EMAIL.values()))
    return World(admin, support, a, b, refused, values)


def _stored_files(uploads: Path) -> list[str]:
    return sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file())


async def snapshot(db: AsyncSession, uploads: Path) -> dict[str, tuple[int, str]]:
    """Per table the routes write: its rows and an md5 of their text; and the stored photos."""
    out: dict[str, tuple[int, str]] = {}
    for table in WRITTEN_BY_CUSTOMER_ROUTES:  # names of ours, not input
        query = f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"  # noqa: E501, S608
        count, digest = (await db.execute(text(query))).one()
        out[table] = (int(count), str(digest))
    await db.commit()
    files = await asyncio.to_thread(_stored_files, uploads)
    out["photo files"] = (len(files), hashlib.sha256("|".join(files).encode()).hexdigest())
    return out


async def settled_snapshot(db: AsyncSession, uploads: Path) -> dict[str, tuple[int, str]]:
    """The snapshot once two reads in a row agree (what the seeding started has been written)."""
    last: list[dict[str, tuple[int, str]]] = [await snapshot(db, uploads)]

    async def read() -> bool:
        now = await snapshot(db, uploads)
        same = now == last[0]
        last[0] = now
        return same

    await eventually(read, bool, "the database at rest")
    return last[0]
