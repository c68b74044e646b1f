"""SubscriptionWorkflow's visit ledger: the updates the service requests reserve, consume and
release the subscription's visits through.

A base of the workflow class, the ledger's handlers apart from the lifecycle in
`workflows/subscription.py`. How many visits are left is `policy.visits_left`; a reservation is
kept in the workflow (carried to the next period while open) and written to the read model.
"""

from __future__ import annotations

import uuid

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.subscription_writes import SubscriptionWrites

with workflow.unsafe.imports_passed_through():
    from domain.subscriptions import policy
    from domain.subscriptions.contracts import (
        Reservation,
        ReservationStatus,
        VisitRef,
        VisitRequest,
    )


class VisitLedger(SubscriptionWrites):
    """The visits of the current period, reserved by request id."""

    _reservations: dict[uuid.UUID, Reservation]

    def _cannot_reserve(self, category_id: uuid.UUID) -> str | None:
        return policy.cannot_reserve(
            self._status, self._period, self._reservations.values(), category_id
        )

    @workflow.update
    async def reserve_visit(self, request: VisitRequest) -> Reservation:
        existing = self._reservations.get(request.request_id)
        if existing is not None:
            return existing  # the same request again: the reservation it has
        # Checked again here: two requests racing for the last visit both pass the validator
        # (it runs before either handler); the first handler takes it, this refuses the second.
        reason = self._cannot_reserve(request.category_id)
        if reason is not None:
            raise ApplicationError(reason, type="VisitRefused", non_retryable=True)
        reservation = Reservation(
            request_id=request.request_id,
            category_id=request.category_id,
            period=self._period.number,
            status=ReservationStatus.reserved,
        )
        self._reservations[request.request_id] = reservation
        await self._record_reservation(reservation)
        return reservation

    @reserve_visit.validator
    def _validate_reserve(self, request: VisitRequest) -> None:
        if request.request_id not in self._reservations:
            reason = self._cannot_reserve(request.category_id)
            if reason is not None:
                raise ValueError(reason)

    @workflow.update
    async def consume_visit(self, ref: VisitRef) -> Reservation:
        return await self._close(ref, ReservationStatus.consumed)

    @consume_visit.validator
    def _validate_consume(self, ref: VisitRef) -> None:
        self._ensure_closable(ref, ReservationStatus.consumed)

    @workflow.update
    async def release_visit(self, ref: VisitRef) -> Reservation:
        return await self._close(ref, ReservationStatus.released)

    @release_visit.validator
    def _validate_release(self, ref: VisitRef) -> None:
        self._ensure_closable(ref, ReservationStatus.released)

    def _ensure_closable(self, ref: VisitRef, to: ReservationStatus) -> None:
        reservation = self._reservations.get(ref.request_id)
        if reservation is None:
            raise ValueError("no visit is reserved for this request")
        if reservation.status not in (ReservationStatus.reserved, to):
            raise ValueError(f"the visit for this request was {reservation.status.value}")

    async def _close(self, ref: VisitRef, to: ReservationStatus) -> Reservation:
        reservation = self._reservations[ref.request_id]
        if reservation.status == to:
            return reservation  # the same request again
        if reservation.status != ReservationStatus.reserved:
            raise ApplicationError(
                f"the visit for this request was {reservation.status.value}",
                type="VisitRefused",
                non_retryable=True,
            )
        closed = reservation.model_copy(update={"status": to})
        self._reservations[ref.request_id] = closed
        await self._record_reservation(closed)
        return closed
