"""ServiceRequestWorkflow's writes: the read model (keyed `request:{id}:{n}:{kind}`), the
booking's release, the messages to the customer, the technician and the admins, the search
attributes.

A base of the workflow class (no handlers of its own): `workflows/service_request.py` reads as the
request's life and calls these for the how.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from workflows.notify import Outgoing
from workflows.policies import DB_RETRY, STEP_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.service_requests import ServiceRequestActivities
    from core.metrics import SERVICE_REQUEST_EVENTS, count
    from domain.contracts import REQUEST_ESCALATED, REQUEST_OVERDUE, REQUEST_STATUS, TECHNICIAN_ID
    from domain.notifications.contracts import To
    from domain.service_requests import notices
    from domain.service_requests.contracts import Change, Notify, RequestInput, VisitCall
    from domain.service_requests.models import RequestStatus

WORKFLOW = "workflow"
# Patch id: messages go through the notifications activity, not awaited (before: the notify
# activity). See the retirement plan in workflows/service_request.py.
MESSAGES = "messages-through-notifications"
# The activity the runs from before MESSAGES sent their messages with. Its implementation is gone
# (no such run is open: nothing was deployed before MESSAGES); the histories recorded before it
# still schedule it, so replay needs the command, by this name.
RETIRED_NOTIFY = "service_request.notify"


class RequestWrites:
    """What the workflow writes and sends, from the state it keeps (set by the workflow)."""

    _inp: RequestInput
    _status: RequestStatus
    _technician: uuid.UUID | None
    _escalated: bool
    _overdue: bool
    _count: int  # changes recorded: part of every change's key
    _outgoing: Outgoing

    def _key(self, kind: str) -> str:
        return f"request:{self._inp.request_id}:{self._count}:{kind}"

    def _visit(self) -> VisitCall:
        return VisitCall(
            subscription_id=self._inp.subscription_id,
            request_id=self._inp.request_id,
            category_id=self._inp.category_id,
        )

    async def _record(
        self,
        kind: str,
        was: RequestStatus | None,
        to: RequestStatus | None,
        *,
        actor: str = WORKFLOW,
        note: str | None = None,
        fields: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> None:
        if counted:
            self._count += 1
        changed = dict(fields or {})
        if to is not None and to != was:
            # Only a move writes the status: a flag or a rating that leaves it as it was must not
            # write it back, or an escalation whose write is retried (the timer fired while an
            # assignment was booking) could land after the assignment's and undo it.
            changed["status"] = to.value
        await workflow.execute_local_activity_method(
            ServiceRequestActivities.record_change,
            Change(
                request_id=self._inp.request_id,
                key=self._key(kind),
                kind=kind,
                at=workflow.now(),
                actor=actor,
                from_status=was,
                to_status=to,
                note=note,
                fields=changed,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        count(SERVICE_REQUEST_EVENTS, event=kind)  # replay-safe: never counted on replay

    async def _release_booking(self) -> None:
        await workflow.execute_local_activity_method(
            ServiceRequestActivities.release_booking,
            self._visit(),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    async def _notify(
        self,
        kind: str,
        *,
        to_customer: bool = True,
        to_technician: uuid.UUID | None = None,
        to_admins: bool = False,
        note: str | None = None,
    ) -> None:
        if workflow.patched(MESSAGES):
            self._send(kind, to_customer, to_technician, to_admins, note)
            return
        # Replay of the runs from before MESSAGES alone (see RETIRED_NOTIFY).
        await workflow.execute_activity(
            RETIRED_NOTIFY,
            Notify(
                request_id=self._inp.request_id,
                step=f"{self._count}:{kind}",
                kind=kind,
                at=workflow.now(),
                to_customer=to_customer,
                to_technician=to_technician,
                to_admins=to_admins,
                note=note,
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    def _send(
        self,
        kind: str,
        to_customer: bool,
        to_technician: uuid.UUID | None,
        to_admins: bool,
        note: str | None,
    ) -> None:
        """Each recipient's message of this step, keyed `request:<id>:<n>:<step>[:job|:alert]`."""
        key = f"request:{self._inp.request_id}:{self._count}:{kind}"
        refs: dict[str, str | None] = {"request_id": str(self._inp.request_id), "note": note}
        customer = notices.to_customer(kind) if to_customer else None
        if customer is not None:
            self._outgoing.send(customer, key, To(user_id=self._inp.user_id), **refs)
        job = notices.to_technician(kind) if to_technician is not None else None
        if job is not None:
            self._outgoing.send(job, f"{key}:job", To(technician_id=to_technician), **refs)
        alert = notices.to_admins(kind) if to_admins else None
        if alert is not None:
            self._outgoing.send(alert, f"{key}:alert", To(role="admin"), **refs)

    def _sync_search_attributes(self) -> None:
        current = workflow.info().typed_search_attributes
        wanted: list[SearchAttributeUpdate[Any]] = []
        if current.get(REQUEST_STATUS) != self._status.value:
            wanted.append(REQUEST_STATUS.value_set(self._status.value))
        technician = str(self._technician) if self._technician else None
        if current.get(TECHNICIAN_ID) != technician:
            wanted.append(
                TECHNICIAN_ID.value_set(technician) if technician else TECHNICIAN_ID.value_unset()
            )
        if current.get(REQUEST_ESCALATED) != self._escalated:
            wanted.append(REQUEST_ESCALATED.value_set(self._escalated))
        if current.get(REQUEST_OVERDUE) != self._overdue:
            wanted.append(REQUEST_OVERDUE.value_set(self._overdue))
        if wanted:
            workflow.upsert_search_attributes(wanted)
