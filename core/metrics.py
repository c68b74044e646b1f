"""The metrics' names, labels and the one way business code counts an event.

Two endpoints expose them (docs/operations.md#metrics):

- the API's `/metrics` (`api/metrics.py`, the `prometheus_client` library): HTTP requests;
- the worker's Prometheus endpoint (`WORKER_METRICS_ADDRESS`, served by the Temporal SDK's own
  runtime, see `core/worker_metrics.py`): the SDK's `temporal_*` series, activity outcomes, and
  the business counters below.

Business counters are counted where the event happens, with `count(...)`, through Temporal's
metric meter: in a workflow its replay-safe meter (nothing is counted while a history replays, and
no command is added), in an activity the activity's meter. Outside both (a unit test, a script),
nothing is counted. Each counter lists every value its labels take, so the worker can show each
series at 0 from its start (`worker_metrics.zero_business_series`): a rate over a series that
appears on its first event misses that event, and a dashboard or alert naming a series that does
not exist yet shows nothing instead of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity, workflow

PREFIX = "homeplans_"


@dataclass(frozen=True)
class BusinessCounter:
    name: str
    help: str
    # Every label, with every value it takes.
    labels: dict[str, tuple[str, ...]]


# --- the API (api/metrics.py) -------------------------------------------------------------------

HTTP_REQUESTS = "homeplans_http_requests_total"
HTTP_DURATION = "homeplans_http_request_duration_seconds"
HTTP_LABELS = ("method", "route", "status")
# Seconds. Fine below 100 ms (most answers), coarse up to the request deadline (30 s).
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# The route label of a request no route matched (a 404 of the router, a scanner's probe), so the
# label's values stay the app's routes however many paths clients make up.
UNMATCHED = "unmatched"

# --- the worker ---------------------------------------------------------------------------------

ACTIVITY_OUTCOMES = BusinessCounter(
    "homeplans_activity_outcomes_total",
    "Activity attempts by how they ended: completed, failed (no retry follows), retrying "
    "(failed; Temporal tries again) or cancelled.",
    {"outcome": ("completed", "failed", "retrying", "cancelled")},
)
PURCHASES = BusinessCounter(
    "homeplans_purchases_total",
    "Checkouts ended, by outcome: paid, declined, expired (not paid in time), or paid_late "
    "(a payment that landed after its checkout had ended, settled after all).",
    {"outcome": ("paid", "declined", "expired", "paid_late")},
)
RENEWALS = BusinessCounter(
    "homeplans_renewals_total",
    "Subscription renewals by outcome: renewed_auto (charged on the saved method), "
    "renewed_manual (paid by the customer), declined (an automatic charge declined; dunning "
    "follows), lapsed (the grace period ended unrenewed), refunded_late (paid after a "
    "cancellation, refunded).",
    {"outcome": ("renewed_auto", "renewed_manual", "declined", "lapsed", "refunded_late")},
)
SERVICE_REQUEST_EVENTS = BusinessCounter(
    "homeplans_service_request_events_total",
    "Service request events, each a move of its status or a mark on it: opened (pending), "
    "refused (no visit left), assigned, reassigned, started (in progress), completed, "
    "cancelled, rescheduled, rated, escalated, overdue.",
    {
        "event": (
            "opened",
            "refused",
            "assigned",
            "reassigned",
            "started",
            "completed",
            "cancelled",
            "rescheduled",
            "rated",
            "escalated",
            "overdue",
        ),
    },
)
SLA_BREACHES = BusinessCounter(
    "homeplans_service_request_sla_breaches_total",
    "Service requests flagged: escalated (not assigned in time) or overdue (not completed by "
    "the end of its window plus the margin).",
    {"breach": ("escalated", "overdue")},
)
NOTIFICATIONS = BusinessCounter(
    "homeplans_notification_deliveries_total",
    "Deliveries handed to a provider, by channel, topic and outcome: sent, delivered, retrying "
    "(a passing failure; tried again), failed (given up, or refused).",
    {
        "channel": ("email", "push", "sms"),
        "topic": (
            "security",
            "orders",
            "plan_reminders",
            "service_updates",
            "staff",
            "promotions",
        ),
        "outcome": ("sent", "delivered", "retrying", "failed"),
    },
)
CAMPAIGN_RECIPIENTS = BusinessCounter(
    "homeplans_campaign_recipients_total",
    "Campaign audience members handled, by outcome: reached (their message written and handed "
    "to the providers their choices allow) or skipped (no longer reachable). Deliveries that "
    'failed are in homeplans_notification_deliveries_total{topic="promotions"}.',
    {"outcome": ("reached", "skipped")},
)
BUSINESS = (
    PURCHASES,
    RENEWALS,
    SERVICE_REQUEST_EVENTS,
    SLA_BREACHES,
    NOTIFICATIONS,
    CAMPAIGN_RECIPIENTS,
)


def count(counter: BusinessCounter, amount: int = 1, /, **labels: str) -> None:
    """Count `amount` events of `counter` with these labels, on the meter of the workflow or
    activity running (the workflow's is replay-safe); nothing outside both, or for 0."""
    if amount <= 0:
        return
    if workflow.in_workflow():
        meter = workflow.metric_meter()
    elif activity.in_activity():
        meter = activity.metric_meter()
    else:
        return
    meter.create_counter(counter.name, counter.help).add(amount, labels)
