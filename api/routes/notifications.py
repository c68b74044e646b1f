"""The signed-in user's messages (the app's inbox), devices for push, and what they receive.

All scoped to the caller: another user's message or device is a 404, like one that does not
exist. Sending is the notifications domain's (workflows call it); nothing here sends.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.pagination import CustomerPage, at_most
from api.problems import problems
from core.db import utcnow
from domain.notifications import devices, inbox, preferences
from domain.notifications.kinds import Channel
from domain.notifications.schemas import (
    DeviceIn,
    DeviceOut,
    DeviceToken,
    InboxItem,
    Marked,
    NotificationSettings,
    NotificationSettingsPatch,
    Unread,
)
from domain.types import Page

router = APIRouter(prefix="/me", tags=["notifications"])


# --- the inbox ----------------------------------------------------------------------------------


@router.get("/notifications", response_model=Page[InboxItem])
async def list_notifications(
    user: CurrentUser,
    db: SessionDep,
    page: CustomerPage,
    unread: Annotated[bool, Query(description="Only messages not read yet")] = False,
) -> Page[InboxItem]:
    """Your inbox, newest first: receipts, plan reminders, visit updates, offers."""
    items, total = await inbox.page(
        db, user.id, unread_only=unread, limit=page.limit, offset=page.offset
    )
    return Page[InboxItem](
        items=[InboxItem.model_validate(m) for m in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/notifications/unread-count", response_model=Unread)
async def unread_count(user: CurrentUser, db: SessionDep) -> Unread:
    """How many messages in your inbox are not read yet (the app's badge)."""
    return Unread(unread=await inbox.unread(db, user.id))


@router.post("/notifications/{message_id}/read", response_model=InboxItem, responses=problems(404))
async def mark_read(message_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> InboxItem:
    """Mark one message read (again: unchanged)."""
    message = await inbox.mark_read(db, user.id, message_id, now=utcnow())
    await db.commit()
    return InboxItem.model_validate(message)


@router.post("/notifications/read-all", response_model=Marked)
async def mark_all_read(user: CurrentUser, db: SessionDep) -> Marked:
    """Mark every message read."""
    marked = await inbox.mark_all_read(db, user.id, now=utcnow())
    await db.commit()
    return Marked(marked=marked)


# --- devices ------------------------------------------------------------------------------------


@router.get("/devices", response_model=at_most(DeviceOut, devices.MAX_DEVICES))
async def list_devices(user: CurrentUser, db: SessionDep) -> list[DeviceOut]:
    """The app installs that get your push messages (at most 10, the most recent first)."""
    return [DeviceOut.model_validate(d) for d in await devices.of_user(db, user.id)]


@router.put(
    "/devices",
    response_model=DeviceOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": DeviceOut, "description": "Registered already: seen again"}},
)
async def register_device(
    body: DeviceIn, user: CurrentUser, db: SessionDep, response: Response
) -> DeviceOut:
    """Register this app install for push (call it at every start: FCM tokens change). A token
    registered by another account before (the same phone) is now yours alone. The oldest of more
    than 10 devices is dropped."""
    device, new = await devices.register(
        db, user_id=user.id, token=body.token, platform=body.platform.value, now=utcnow()
    )
    await db.commit()
    if not new:
        response.status_code = status.HTTP_200_OK
    return DeviceOut.model_validate(device)


@router.delete("/devices/{token}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
async def remove_device(token: DeviceToken, user: CurrentUser, db: SessionDep) -> Response:
    """Stop push to this app install (signing out of the app)."""
    await devices.remove(db, user_id=user.id, token=token)
    await db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- choices ------------------------------------------------------------------------------------


@router.get("/notification-settings", response_model=NotificationSettings)
async def read_settings(
    user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> NotificationSettings:
    """What you receive, by topic and channel; your time zone and quiet hours for push."""
    choices = (await preferences.load(db, [user.id], settings))[user.id]
    return NotificationSettings.of(choices)


@router.patch("/notification-settings", response_model=NotificationSettings)
async def update_settings(
    body: NotificationSettingsPatch, user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> NotificationSettings:
    """Change some of what you receive. Offers by email and push are off until you turn them on;
    receipts, plan reminders and visit updates always reach your inbox (email and push can be
    off). Codes always go to the address they verify."""
    quiet: preferences.QuietHours | bool | None = False
    if "quiet_hours" in body.model_fields_set:
        quiet = (
            preferences.QuietHours(body.quiet_hours.starts, body.quiet_hours.ends)
            if body.quiet_hours
            else None
        )
    channels = {
        topic: {
            Channel(name): enabled for name, enabled in choice.model_dump(exclude_none=True).items()
        }
        for topic, choice in (body.topics or {}).items()
    }
    choices = await preferences.update(
        db, user.id, settings, channels=channels, time_zone=body.time_zone, quiet=quiet
    )
    await db.commit()
    return NotificationSettings.of(choices)
