"""Activities of service requests: the visit ledger on the subscription (reserve, consume,
release, by the request's id), the request's read model, the technician's booking (checked
again under the database's guard), and the messages of every step.

Idempotent by the business id: the ledger keys its reservations by request; changes and their
messages are keyed `request:{id}:{n}:{kind}` (messages add their recipient); the booking is one
per request and the dispatch log one per assignment.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from core import workflow_calls
from core.errors import Conflict
from domain.notifications.service import Notifier
from domain.service_requests import service as requests
from domain.service_requests.contracts import (
    CONSUME_VISIT,
    RELEASE_VISIT,
    RESERVE_VISIT,
    Booking,
    BookingResult,
    Change,
    MoveBooking,
    Opened,
    VisitCall,
)
from domain.service_requests.models import ServiceRequest
from domain.subscriptions import service as subscriptions
from domain.subscriptions.contracts import (
    Reservation,
    VisitRef,
    VisitRequest,
    subscription_workflow_id,
)
from domain.technicians import dispatch
from domain.technicians.models import Technician

log = logging.getLogger(__name__)

# Attempts of reserve_visit that wait for a subscription's workflow to start (backoff 1, 2, 4, 8
# and 16 s: about half a minute).
NOT_STARTED_ATTEMPTS = 6


class ServiceRequestActivities:
    """Each is registered as `service_request.<name>`: other flows have activities of the same
    names (record_change)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        temporal: Client | None,
    ) -> None:
        self._sessions = sessions
        self._notifier = notifier
        self._temporal = temporal

    # --- the visit ledger ---------------------------------------------------------------------

    def _subscription(self, call: VisitCall) -> Any:
        assert self._temporal is not None, "the worker gives this activity a client"
        return self._temporal.get_workflow_handle(subscription_workflow_id(call.subscription_id))

    @activity.defn(name="service_request.reserve_visit")
    async def reserve_visit(self, call: VisitCall) -> Reservation:
        """Hold a visit of the subscription for this request (the same request again: the same
        reservation). The ledger's refusal is final: VisitRefused, with its reason."""
        try:
            return await workflow_calls.update_by_name(
                self._subscription(call),
                RESERVE_VISIT,
                VisitRequest(request_id=call.request_id, category_id=call.category_id),
                result_type=Reservation,
                gone="this subscription has ended: it has no visits to book",
            )
        except workflow_calls.WorkflowGone as exc:
            if await self._not_started_yet(call.subscription_id):
                # Paid a moment ago: the order's last step starts the subscription's workflow
                # just after settling it. Asked again after the retry policy's backoff.
                raise ApplicationError(
                    "the subscription's workflow has not started yet", type="SubscriptionStarting"
                ) from exc
            raise ApplicationError(exc.detail, type="VisitRefused", non_retryable=True) from exc
        except Conflict as exc:
            raise ApplicationError(exc.detail, type="VisitRefused", non_retryable=True) from exc

    async def _not_started_yet(self, subscription_id: uuid.UUID) -> bool:
        """The read model holds it as usable but its workflow is not there: early, not ended.
        After NOT_STARTED_ATTEMPTS (about half a minute) it counts as refused, so a
        request never waits on a workflow that will not come."""
        if activity.info().attempt >= NOT_STARTED_ATTEMPTS:
            return False
        async with self._sessions() as db:
            return await subscriptions.is_live(db, subscription_id)

    @activity.defn(name="service_request.consume_visit")
    async def consume_visit(self, call: VisitCall) -> None:
        await self._close(call, CONSUME_VISIT)

    @activity.defn(name="service_request.release_visit")
    async def release_visit(self, call: VisitCall) -> None:
        await self._close(call, RELEASE_VISIT)

    async def _close(self, call: VisitCall, update: str) -> None:
        try:
            await workflow_calls.update_by_name(
                self._subscription(call),
                update,
                VisitRef(request_id=call.request_id),
                result_type=Reservation,
                gone="ended",
            )
        except workflow_calls.WorkflowGone:
            # The subscription's life is over (expired or cancelled since): no ledger to close.
            log.info(
                "request %s: subscription %s has ended; %s skipped",
                call.request_id,
                call.subscription_id,
                update,
            )
        except Conflict as exc:  # e.g. already released: the ledger has the last word
            log.warning("request %s: %s refused: %s", call.request_id, update, exc.detail)

    # --- the read model -----------------------------------------------------------------------

    @activity.defn(name="service_request.open_request")
    async def open_request(self, opened: Opened) -> None:
        async with self._sessions() as db:
            await requests.record_opened_request(db, inp=opened.request, at=opened.at)
            await db.commit()

    @activity.defn(name="service_request.record_change")
    async def record_change(self, change: Change) -> None:
        async with self._sessions() as db:
            await requests.record_change(db, change=change)
            await db.commit()

    # --- the technician's booking -------------------------------------------------------------

    async def _facts(
        self,
        db: AsyncSession,
        request_id: uuid.UUID,
        window: tuple[datetime, datetime] | None = None,
    ) -> dispatch.RequestFacts:
        request = await db.get(ServiceRequest, request_id)
        assert request is not None
        start, end = window or (request.window_start, request.window_end)
        return dispatch.RequestFacts(
            request_id=request.id,
            category_id=request.category_id,
            postal_code=request.postal_code,
            window_start=start,
            window_end=end,
        )

    @activity.defn(name="service_request.book")
    async def book(self, booking: Booking) -> BookingResult:
        """Hold the technician for the request's window, checked again here with the database's
        guard (bookings never overlap), and log the dispatch decision: a refusal is an answer
        with its reason, not an error."""
        async with self._sessions() as db:
            facts = await self._facts(db, booking.request_id)
            try:
                await dispatch.book(db, facts=facts, technician_id=booking.technician_id)
            except Conflict as exc:
                await db.rollback()
                return BookingResult(booked=False, problem=exc.detail)
            await requests.log_dispatch(
                db,
                request_id=booking.request_id,
                key=booking.key,
                at=booking.at,
                actor=booking.actor,
                technician_id=booking.technician_id,
                reason=booking.reason,
                suggested=booking.suggested,
            )
            technician = await db.get(Technician, booking.technician_id)
            await db.commit()
        return BookingResult(booked=True, technician_name=technician.name if technician else None)

    @activity.defn(name="service_request.move_booking")
    async def move_booking(self, move: MoveBooking) -> BookingResult:
        async with self._sessions() as db:
            facts = await self._facts(db, move.request_id, (move.window_start, move.window_end))
            try:
                await dispatch.move_booking(db, facts=facts)
            except Conflict as exc:
                await db.rollback()
                return BookingResult(booked=False, problem=exc.detail)
            await db.commit()
        return BookingResult(booked=True)

    @activity.defn(name="service_request.release_booking")
    async def release_booking(self, call: VisitCall) -> None:
        async with self._sessions() as db:
            await dispatch.release_booking(db, request_id=call.request_id)
            await db.commit()

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.reserve_visit,
            self.consume_visit,
            self.release_visit,
            self.open_request,
            self.record_change,
            self.book,
            self.move_booking,
            self.release_booking,
        ]
