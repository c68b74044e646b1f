"""The checks read from Temporal: each request's timeline against its workflow's history (and
what its reconnecting streams received), and no workflow failed or stuck; `busy` is what the
settling waits out."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError

from chaos.results import Result, rows
from chaos.world import World

UPDATE_TO_STATUS = {
    "opened": "pending",
    "assign": "assigned",
    "start": "in_progress",
    "complete": "completed",
    "cancel": "cancelled",
}
STUCK_AFTER = timedelta(minutes=1)


async def timelines(db: psycopg.AsyncConnection[Any], temporal: Client, world: World) -> Result:
    """Every request's timeline equal to its workflow's history (the status changes its updates
    made, in order), and no event missing from, or repeated in, a reconnecting stream."""
    r = Result("timelines equal histories; streams miss nothing")
    for rid, seen in world.requests.items():
        r.checked += 1
        events = await rows(
            db,
            "SELECT id, from_status, to_status FROM service_request_events "
            "WHERE request_id = %(r)s ORDER BY id",
            r=uuid.UUID(rid),
        )
        moves = [(eid, to) for eid, was, to in events if to is not None and to != was]
        changes = [to for _eid, to in moves]
        history = await status_history(temporal, f"service-request:{rid}")
        if history is None or history != changes:
            r.lost += 1
            r.note(f"request {rid}: timeline {changes}, history {history}")
        # A stream ends with the change to completed or cancelled (a rating comes after it).
        end = next((eid for eid, to in moves if to in ("completed", "cancelled")), None)
        if seen.first_state is not None:
            wanted = {
                eid
                for eid, _was, _to in events
                if eid > seen.first_state and (end is None or eid <= end)
            }
            got = Counter(seen.stream_ids)
            r.duplicated += sum(n - 1 for n in got.values())
            if seen.ended:
                missing = wanted - set(got)
                if missing:
                    r.lost += len(missing)
                    r.note(f"request {rid}: its stream missed events {sorted(missing)}")
    return r


async def status_history(temporal: Client, workflow_id: str) -> list[str] | None:
    """The statuses the workflow's completed updates moved the request to, in order."""
    try:
        history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    except RPCError:
        return None
    names: dict[str, str] = {}
    out: list[str] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            attrs = event.workflow_execution_update_accepted_event_attributes
            names[attrs.protocol_instance_id] = attrs.accepted_request.input.name
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            attrs2 = event.workflow_execution_update_completed_event_attributes
            name = names.get(attrs2.meta.update_id, "")
            status = UPDATE_TO_STATUS.get(name)
            # A retried `opened` answers again without moving anything.
            if status and attrs2.outcome.HasField("success") and out[-1:] != [status]:
                out.append(status)
    return out


async def busy(temporal: Client) -> int:
    """Running workflows with an activity in flight or being retried, or a task waiting for a
    worker: what the settling waits out. A worker killed mid-activity leaves its attempt
    "started" until the activity's start-to-close timeout (two minutes for a message), then it
    is retried; at rest no workflow here has an activity pending (they wait on timers)."""
    found = 0
    async for execution in temporal.list_workflows('ExecutionStatus = "Running"'):
        raw = (
            await temporal.get_workflow_handle(execution.id, run_id=execution.run_id).describe()
        ).raw_description
        in_flight = bool(raw.pending_activities)
        waiting = raw.pending_workflow_task.HasField("scheduled_time") and (
            datetime.now(UTC) - raw.pending_workflow_task.scheduled_time.ToDatetime(tzinfo=UTC)
            > timedelta(seconds=10)
        )
        found += in_flight or waiting
    return found


async def workflows(temporal: Client) -> Result:
    """No workflow failed, timed out or terminated; none running with a task pending longer than
    a minute."""
    r = Result("no workflow failed or stuck")
    for status in ("Failed", "TimedOut", "Terminated"):
        count = (await temporal.count_workflows(f'ExecutionStatus = "{status}"')).count
        r.lost += count
        if count:
            r.note(f"{count} workflows {status}")
    now = datetime.now(UTC)
    async for execution in temporal.list_workflows('ExecutionStatus = "Running"'):
        r.checked += 1
        described = await temporal.get_workflow_handle(
            execution.id, run_id=execution.run_id
        ).describe()
        raw = described.raw_description
        task = raw.pending_workflow_task
        if (
            task.HasField("scheduled_time")
            and now - task.scheduled_time.ToDatetime(tzinfo=UTC) > STUCK_AFTER
        ):
            r.stuck += 1
            r.note(f"{execution.id}: a workflow task pending since {task.scheduled_time}")
            continue
        for activity in raw.pending_activities:
            since = activity.last_started_time if activity.HasField("last_started_time") else None
            if (
                activity.attempt > 1
                and since is not None
                and (now - since.ToDatetime(tzinfo=UTC) > STUCK_AFTER)
            ):
                r.stuck += 1
                r.note(f"{execution.id}: {activity.activity_type.name} attempt {activity.attempt}")
                break
    return r
