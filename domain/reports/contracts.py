"""What crosses the Temporal boundary for the daily report: the schedule's and workflow's names,
the workflow's input, and its activity's input and output."""

from __future__ import annotations

from datetime import date, datetime

from domain.contracts import Contract

SCHEDULE_ID = "daily-report"
WORKFLOW_NAME = "DailyReportWorkflow"
# The schedule's run at 00:30 reports on the day that has just ended.
SCHEDULE_HOUR, SCHEDULE_MINUTE = 0, 30
COMPUTE_DAILY = "reports.compute_daily"


def daily_report_workflow_id(day: date) -> str:
    """The id of a run started for one day by hand (the schedule names its own runs)."""
    return f"daily-report:{day.isoformat()}"


class DailyReportInput(Contract):
    """`day` to report on; None (the schedule): the business day before the scheduled time."""

    day: date | None = None


class DailyReportRun(Contract):
    day: date | None
    # When the run was due (the schedule's time, else the workflow's start): what "yesterday"
    # means when `day` is None.
    due_at: datetime


class DailyReportDone(Contract):
    day: date
    orders: int
    admins_mailed: int = 0
