"""What the dashboard and the reports answer. Money is as everywhere in the API: integer minor
units with the ISO 4217 code and its number of decimals (`minor_units`) for display."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.money import minor_units


class Money(BaseModel):
    amount_minor: int
    currency: str
    minor_units: int = Field(description="Digits after the decimal point, for display")

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Money:
        return cls(amount_minor=amount_minor, currency=currency, minor_units=minor_units(currency))


# --- the dashboard -------------------------------------------------------------------------------


class CurrencySales(BaseModel):
    count: int
    amount: Money
    refunds: Money


class Sales(BaseModel):
    count: int = Field(description="Orders paid, in the dashboard's currency")
    amount: Money = Field(description="What they were paid, in the dashboard's currency")
    refunds: Money = Field(description="Refunds that succeeded in the period")
    net: Money = Field(description="amount less refunds")
    by_currency: list[CurrencySales] = Field(
        description="Every currency sold in, the dashboard's own included"
    )


class SalesPeriods(BaseModel):
    """Each period's sales beside its refunds: paid and refunded in the same business days, so
    net is what the period kept."""

    today: Sales
    month: Sales
    last_30_days: Sales = Field(description="The series' 30 business days, today included")


class NewUsers(BaseModel):
    today: int
    month: int


class Requests(BaseModel):
    open: int = Field(description="Pending, assigned or in progress")
    escalated: int = Field(description="Open and escalated (not assigned in time)")
    overdue: int = Field(description="Open and overdue (not completed by the end of its window)")
    pending: int
    assigned: int
    in_progress: int


class Subscriptions(BaseModel):
    active: int
    past_due: int = Field(description="Active, but the automatic renewal was declined")
    grace: int = Field(description="Ended unrenewed, still renewable with continuity")


class SeriesDay(BaseModel):
    day: date
    sales_count: int
    sales_amount: Money
    refunds_amount: Money = Field(description="Refunds that succeeded that day")
    net_amount: Money = Field(description="sales_amount less refunds_amount")
    new_users: int
    requests_created: int
    requests_completed: int


class Dashboard(BaseModel):
    as_of: datetime
    time_zone: str = Field(description="The business days' time zone (DEFAULT_TIME_ZONE)")
    currency: str = Field(description="The currency of the headline amounts (REPORTS_CURRENCY)")
    sales: SalesPeriods
    active_subscriptions: int = Field(description="Active and past due")
    subscriptions: Subscriptions
    new_users: NewUsers
    requests: Requests
    series: list[SeriesDay] = Field(description="The last 30 business days, oldest first")


# --- reports -------------------------------------------------------------------------------------


class GroupBy(StrEnum):
    day = "day"
    plan = "plan"
    category = "category"
    method = "method"


class RevenueRow(BaseModel):
    key: str = Field(description="The day (YYYY-MM-DD), plan id, category id or method")
    label: str
    currency: str
    orders: int
    amount: Money
    refunds: Money
    refund_count: int
    net: Money


class RevenueReport(BaseModel):
    since: date
    until: date = Field(description="The last day included")
    time_zone: str
    group_by: GroupBy
    rows: list[RevenueRow]
    totals: list[RevenueRow] = Field(description="One per currency, key `total`")


class DayCount(BaseModel):
    day: date
    count: int


class Durations(BaseModel):
    count: int = Field(description="Requests measured")
    p50_minutes: float | None
    avg_minutes: float | None


class ActivityReport(BaseModel):
    since: date
    until: date
    time_zone: str
    new_users_by_day: list[DayCount]
    requests_created_by_day: list[DayCount]
    requests_by_status: dict[str, int] = Field(
        description="Requests asked for in the period, by their status now"
    )
    transitions: dict[str, int] = Field(
        description="Moves into assigned, in_progress, completed and cancelled in the period"
    )
    time_to_assign: Durations = Field(description="From asked for to first assigned")
    time_to_complete: Durations = Field(description="From asked for to completed")


class DailyReport(BaseModel):
    """The report of one business day, as stored and mailed."""

    day: date
    time_zone: str
    generated_at: datetime
    revenue: RevenueReport
    by_plan: RevenueReport
    by_method: RevenueReport
    activity: ActivityReport


class DailyReportSummary(BaseModel):
    day: date
    generated_at: datetime
    orders: int
    amount: list[Money]
    download_url: str = Field(description="The CSV (add ?format=json for the figures)")
