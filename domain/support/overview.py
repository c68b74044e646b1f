"""One customer on one screen, for staff: the profile (the phone as a tel: link, addresses) and
the latest of their subscriptions, orders, service requests, callbacks and calls, each section
with its total so the screen can say "10 of 42" and link to the full list.

It reads through each area's own queries, so a section shows exactly what that area's staff
list shows for this customer.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import service as accounts
from domain.accounts.schemas import AddressOut, AdminUserOut
from domain.orders import service as orders
from domain.orders.schemas import AdminOrderOut
from domain.service_requests import queries as requests
from domain.service_requests.schemas import AdminRequestOut
from domain.subscriptions import queries as subscriptions
from domain.subscriptions.schemas import AdminSubscriptionOut
from domain.support import calls
from domain.support import service as support
from domain.support.schemas import AdminCallbackOut, CallOut, tel
from domain.types import Page


class Profile(AdminUserOut):
    tel: str | None = Field(description="The account's phone as a tel: link, if it has one")
    addresses: list[AddressOut]


class CustomerOverview(BaseModel):
    profile: Profile
    subscriptions: Page[AdminSubscriptionOut] = Field(description="The soonest to end first")
    orders: Page[AdminOrderOut] = Field(description="The newest first")
    service_requests: Page[AdminRequestOut] = Field(description="The newest first")
    callbacks: Page[AdminCallbackOut] = Field(description="Still to do first, oldest first")
    calls: Page[CallOut] = Field(description="The latest first")


async def overview(db: AsyncSession, *, user_id: uuid.UUID, recent: int) -> CustomerOverview:
    """The customer and the latest `recent` of each; NotFound for an unknown user."""
    user = await accounts.get_user(db, user_id=user_id)
    addresses = await accounts.list_addresses(db, user_id=user.id)
    profile = Profile(
        **AdminUserOut.model_validate(user).model_dump(),
        tel=tel(user.phone) if user.phone else None,
        addresses=[AddressOut.model_validate(a) for a in addresses],
    )
    subs, subs_total = await subscriptions.list_subscriptions(
        db, user_id=user.id, limit=recent, offset=0
    )
    bought, orders_total = await orders.list_orders(db, user_id=user.id, limit=recent, offset=0)
    asked, asked_total = await requests.list_requests(
        db, user_id=user.id, newest_first=True, limit=recent, offset=0
    )
    callbacks, callbacks_total = await support.list_callbacks(
        db, user_id=user.id, limit=recent, offset=0
    )
    called, calls_total = await calls.list_calls(db, user_id=user.id, limit=recent, offset=0)
    return CustomerOverview(
        profile=profile,
        subscriptions=Page[AdminSubscriptionOut](
            items=await subscriptions.admin_outs(db, subs), total=subs_total, limit=recent, offset=0
        ),
        orders=Page[AdminOrderOut](
            items=[AdminOrderOut.model_validate(o) for o in bought],
            total=orders_total,
            limit=recent,
            offset=0,
        ),
        service_requests=Page[AdminRequestOut](
            items=await requests.admin_outs(db, asked), total=asked_total, limit=recent, offset=0
        ),
        callbacks=Page[AdminCallbackOut](
            items=await support.admin_outs(db, callbacks),
            total=callbacks_total,
            limit=recent,
            offset=0,
        ),
        calls=Page[CallOut](
            items=await calls.call_outs(db, called), total=calls_total, limit=recent, offset=0
        ),
    )
