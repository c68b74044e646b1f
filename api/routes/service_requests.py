"""The signed-in customer's service requests: ask for a visit under one of their plans, follow
it (list, detail with its timeline), move or cancel it before work starts, rate it after.

Another customer's request is a 404, exactly like a missing one. Every move goes to the
request's workflow (api.service_requests); reads come from the database it keeps.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api import service_requests as lifecycle
from api.deps import (
    CurrentUser,
    IdempotencyKey,
    NowDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    reads_only,
)
from api.pagination import CustomerPage, at_most
from api.periods import IsoDate
from api.problems import problems
from core.db import utcnow
from core.errors import Conflict, InvalidField, NotFound
from core.settings import MAX_REQUEST_SLOTS
from domain import actors, workflow_facts
from domain.accounts import service as accounts
from domain.accounts.models import Address
from domain.catalog.models import ServiceCategory
from domain.orders.cart import address_snapshot
from domain.service_requests import availability, queries
from domain.service_requests import service as requests
from domain.service_requests.availability import FreeWindow
from domain.service_requests.contracts import Cancel, Rate, RequestInput, Reschedule
from domain.service_requests.models import RequestStatus
from domain.service_requests.schemas import (
    CancelIn,
    RatingIn,
    RequestDetail,
    RequestIn,
    RequestOut,
    RescheduleIn,
)
from domain.subscriptions import queries as subscriptions
from domain.technicians.schemas import normalize_postal_code
from domain.types import Page
from domain.workflow_facts import customer

router = APIRouter(prefix="/service-requests", tags=["service requests"])

# Request ids made from the customer and their Idempotency-Key: the same POST again is the
# same request (and the same workflow).
REQUEST_IDS = uuid.UUID("3d6f9a52-1c4e-4b9b-8f0e-5a7d2c1b9e63")


@router.get(
    "/free-windows",
    response_model=at_most(FreeWindow, MAX_REQUEST_SLOTS),
    responses=problems(404),
)
async def free_windows(
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    subscription_id: Annotated[uuid.UUID, Query(description="One of your plans")],
    category_id: Annotated[uuid.UUID, Query(description="What the visit is for")],
    day: Annotated[IsoDate, Query(description="The day, in the business's time zone")],
    address_id: Annotated[
        uuid.UUID | None, Query(description="One of your addresses; omitted: the plan's")
    ] = None,
) -> list[FreeWindow]:
    """The day's visit windows, each marked free when a technician can come then."""
    subscription = await subscriptions.get_subscription(
        db, subscription_id=subscription_id, user_id=user.id
    )
    chosen = address_id or subscription.address_id
    if chosen is None:
        raise InvalidField(("address_id",), "this plan has no address: give one of yours")
    address = await accounts.get_address(db, user_id=user.id, address_id=chosen)
    return await availability.free_windows(
        db,
        category_id=category_id,
        postal_code=address.postal_code,
        day=day,
        now=now,
        settings=settings,
    )


@router.post(
    "",
    response_model=RequestDetail,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same Idempotency-Key again: the same request"},
        **problems(404, 409),
    },
)
async def ask(
    body: RequestIn,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    response: Response,
) -> RequestDetail:
    """Ask for a visit: a visit of the plan is reserved for it (refused with the plan's reason
    when the plan has ended, the category is not covered or no visits are left)."""
    subscription = await subscriptions.get_subscription(
        db, subscription_id=body.subscription_id, user_id=user.id
    )
    if await db.get(ServiceCategory, body.category_id) is None:
        raise InvalidField(("category_id",), "no such category")
    address = await _address(db, user.id, body.address_id or subscription.address_id)
    requests.check_window(body.window_start, body.window_end, now=utcnow(), settings=settings)
    request_id = uuid.uuid5(REQUEST_IDS, f"{user.id}:{idempotency_key}")
    earlier = await db.get(requests.ServiceRequest, request_id)
    existed = earlier is not None
    if earlier is not None and (
        earlier.subscription_id,
        earlier.category_id,
        earlier.address_id,
        earlier.description,
    ) != (subscription.id, body.category_id, address.id, body.description):
        # The key names one request; what it asks for (but the window, which may have moved
        # since) must be the same, or the client is reusing a key by mistake.
        raise InvalidField(
            ("Idempotency-Key",),
            "this key was used for a different request; send a new key for a new request",
        )
    facts = await workflow_facts.request(  # what the Web UI shows of it
        db, category_id=body.category_id, subscription=subscription, buyer=customer(user)
    )
    await db.commit()  # ends the read: nothing is written here, the workflow's activities write
    snapshot = address_snapshot(address)
    await lifecycle.start_request_workflow(
        temporal,
        settings,
        RequestInput(
            request_id=request_id,
            user_id=user.id,
            subscription_id=subscription.id,
            category_id=body.category_id,
            address_id=address.id,
            address=snapshot,
            postal_code=normalize_postal_code(address.postal_code),
            description=body.description,
            window_start=body.window_start,
            window_end=body.window_end,
            policy=lifecycle.policy_from(settings),
        ),
        facts,
    )
    if existed:
        response.status_code = status.HTTP_200_OK
    request = await queries.get_request(db, request_id=request_id, user_id=user.id)
    return await queries.detail(db, request=request)


async def _address(db: SessionDep, user_id: uuid.UUID, address_id: uuid.UUID | None) -> Address:
    """The customer's address the visit is at: a field of the request, so one that is not
    theirs is a 422 on `address_id` (not the 404 of the address routes)."""
    if address_id is not None:
        with contextlib.suppress(NotFound):
            return await accounts.get_address(db, user_id=user_id, address_id=address_id)
    raise InvalidField(("address_id",), "no address of yours has this id")


@router.get("", response_model=Page[RequestOut])
@reads_only
async def list_mine(
    user: CurrentUser,
    db: SessionDep,
    page: CustomerPage,
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> Page[RequestOut]:
    """Your requests, the newest first."""
    rows, total = await queries.list_requests(
        db,
        user_id=user.id,
        status=request_status,
        limit=page.limit,
        offset=page.offset,
        newest_first=True,
    )
    return Page[RequestOut](
        items=await queries.request_outs(db, rows),
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{request_id}", response_model=RequestDetail, responses=problems(404))
async def read_mine(request_id: uuid.UUID, user: CurrentUser, db: SessionDep) -> RequestDetail:
    """One of your requests, with everything that happened to it."""
    request = await queries.get_request(db, request_id=request_id, user_id=user.id)
    return await queries.detail(db, request=request)


@router.post("/{request_id}/reschedule", response_model=RequestDetail, responses=problems(404, 409))
async def reschedule(
    request_id: uuid.UUID,
    body: RescheduleIn,
    user: CurrentUser,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> RequestDetail:
    """Move the visit to another window before work starts (the visit stays reserved; the
    technician keeps it if they can come then)."""
    request = await queries.get_request(db, request_id=request_id, user_id=user.id)
    requests.check_window(body.window_start, body.window_end, now=utcnow(), settings=settings)
    await lifecycle.reschedule(
        temporal,
        request.id,
        Reschedule(
            actor=actors.CUSTOMER, window_start=body.window_start, window_end=body.window_end
        ),
    )
    return await queries.detail(db, request=await queries.get_request(db, request_id=request.id))


@router.post("/{request_id}/cancel", response_model=RequestDetail, responses=problems(404, 409))
async def cancel(
    request_id: uuid.UUID, body: CancelIn, user: CurrentUser, db: SessionDep, temporal: TemporalDep
) -> RequestDetail:
    """Cancel before work starts: the visit goes back to your plan."""
    request = await queries.get_request(db, request_id=request_id, user_id=user.id)
    await lifecycle.cancel(
        temporal,
        request.id,
        Cancel(actor=actors.CUSTOMER, reason=body.reason or "cancelled by the customer"),
    )
    return await queries.detail(db, request=await queries.get_request(db, request_id=request.id))


@router.post("/{request_id}/rating", response_model=RequestDetail, responses=problems(404, 409))
async def rate(
    request_id: uuid.UUID, body: RatingIn, user: CurrentUser, db: SessionDep, temporal: TemporalDep
) -> RequestDetail:
    """Rate the visit once it is completed: 1 to 5 stars and a comment."""
    request = await queries.get_request(db, request_id=request_id, user_id=user.id)
    if request.rating is not None:  # its workflow has ended once rated: say why here
        raise Conflict("this visit has been rated already")
    await lifecycle.rate(
        temporal, request.id, Rate(actor=actors.CUSTOMER, stars=body.stars, comment=body.comment)
    )
    return await queries.detail(db, request=await queries.get_request(db, request_id=request.id))
