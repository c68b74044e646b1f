"""DailyReportWorkflow: one business day's revenue and activity report, computed and stored, then
mailed to every admin through the notification path.

The `daily-report` Temporal Schedule starts it at 00:30 in the business time zone with no day:
the activity reports on the day before the run was due (the schedule's own time, kept in the
`TemporalScheduledStartTime` search attribute, so a run caught up late still reports on the
right day). Started by hand with a day, it reports on that day. The report is one row per day
(a re-run replaces it) and the mail one message per admin and day (`report:daily:<day>`), so
running it again stores the figures anew and mails nobody twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from domain.notifications.contracts import To
    from domain.reports.contracts import (
        COMPUTE_DAILY,
        DailyReportDone,
        DailyReportInput,
        DailyReportRun,
    )
    from workflows.notify import Outgoing

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@workflow.defn(name="DailyReportWorkflow")
class DailyReportWorkflow:
    @workflow.run
    async def run(self, inp: DailyReportInput) -> DailyReportDone:
        due: datetime = workflow.info().typed_search_attributes.get(SCHEDULED_START) or (
            workflow.now()
        )
        done = await workflow.execute_activity(
            COMPUTE_DAILY,
            DailyReportRun(day=inp.day, due_at=due),
            result_type=DailyReportDone,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
            ),
        )
        outgoing = Outgoing()
        day = done.day.isoformat()
        outgoing.send("report.daily", f"report:daily:{day}", To(role="admin"), day=day)
        await outgoing.drain()
        return done
