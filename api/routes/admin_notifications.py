"""What a customer was sent, for staff answering "I never got it": every message with each
delivery's provider answer. Codes show that they went, never what they said."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import SessionDep, StaffUser
from api.pagination import StaffPage
from api.problems import problems
from core.errors import NotFound
from domain.accounts.models import User
from domain.notifications import inbox
from domain.notifications.kinds import Topic
from domain.notifications.models import Delivery
from domain.notifications.schemas import DeliveryOut, SentMessageOut
from domain.types import Page

router = APIRouter(prefix="/admin/users", tags=["admin: users"])


def _delivery(delivery: Delivery) -> DeliveryOut:
    out = DeliveryOut.model_validate(delivery)
    if delivery.channel == "push":  # a device token is a credential of the phone: its end only
        out.destination = f"…{delivery.destination[-8:]}"
    return out


@router.get(
    "/{user_id}/notifications", response_model=Page[SentMessageOut], responses=problems(404)
)
async def sent_to_user(
    user_id: uuid.UUID, staff: StaffUser, db: SessionDep, page: StaffPage
) -> Page[SentMessageOut]:
    """Every message sent to the user, newest first, with how each delivery went."""
    if await db.get(User, user_id) is None:
        raise NotFound("no such user")
    rows, total = await inbox.sent_to(db, user_id, limit=page.limit, offset=page.offset)
    return Page[SentMessageOut](
        items=[
            SentMessageOut(
                id=m.id,
                kind=m.kind,
                topic=m.topic,
                subject=m.subject,
                text=None if m.topic == Topic.security.value else m.text,
                in_inbox=m.in_inbox,
                read_at=m.read_at,
                created_at=m.created_at,
                deliveries=[_delivery(d) for d in deliveries],
            )
            for m, deliveries in rows
        ],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
