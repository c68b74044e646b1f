"""The Temporal Schedules the system relies on, created if missing.

`daily-report` starts `DailyReportWorkflow` every day at 00:30 in DEFAULT_TIME_ZONE (the business
day that has just ended). The worker makes sure it exists when it starts (`make run`), and
`python manage.py ensure-schedules` does for deployments; a schedule that exists already is left
as it is (an operator may have paused it or changed it in the Web UI), so both are safe to repeat
and to race.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from core.settings import Settings
from domain import workflow_labels as labels
from domain.reports.contracts import (
    SCHEDULE_HOUR,
    SCHEDULE_ID,
    SCHEDULE_MINUTE,
    WORKFLOW_NAME,
    DailyReportInput,
)

log = logging.getLogger("homeplans.schedules")


def daily_report_schedule(settings: Settings) -> Schedule:
    # What the Web UI shows of each run it starts (a schedule made before keeps its own: an
    # existing schedule is left as it is).
    label = labels.daily_report(SCHEDULE_HOUR, SCHEDULE_MINUTE, settings.default_time_zone)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WORKFLOW_NAME,
            DailyReportInput(),
            id=f"{SCHEDULE_ID}-run",  # the server appends the scheduled time
            task_queue=settings.temporal_task_queue,
            static_summary=label.summary,
            static_details=label.details,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(SCHEDULE_HOUR)],
                    minute=[ScheduleRange(SCHEDULE_MINUTE)],
                    comment="the business day that has just ended",
                )
            ],
            time_zone_name=settings.default_time_zone,
        ),
        # A worker down for a night still makes that night's report when it is back (within a
        # day); two runs of one day never overlap.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    """Create every schedule that does not exist yet; the ids created now."""
    created: list[str] = []
    try:
        await client.create_schedule(SCHEDULE_ID, daily_report_schedule(settings))
        created.append(SCHEDULE_ID)
        log.info(
            "schedule %r created: daily at %02d:%02d %s",
            SCHEDULE_ID,
            SCHEDULE_HOUR,
            SCHEDULE_MINUTE,
            settings.default_time_zone,
        )
    except ScheduleAlreadyRunningError:
        log.info("schedule %r exists already; left as it is", SCHEDULE_ID)
    return created
