"""Every message the system sends, by kind: the topic it falls under and the channels it may use.

A kind's words are its template (`templates/<kind>.j2`); what fills them comes from the business
ids the sender passes (`facts.py`). The topic is what a user's preferences are about: they turn a
topic's email or push on and off, never a single kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    email = "email"
    push = "push"
    in_app = "in_app"  # the app's inbox
    sms = "sms"  # codes only, to the phone number being verified


class Topic(StrEnum):
    security = "security"  # sign-in and verification codes: always sent, never kept in the inbox
    orders = "orders"  # receipts
    plan_reminders = "plan_reminders"  # expiry, renewal and dunning notices
    service_updates = "service_updates"  # a visit's progress
    staff = "staff"  # jobs for technicians, alerts for admins
    promotions = "promotions"


@dataclass(frozen=True)
class TopicRules:
    label: str
    # Transactional topics always reach the inbox: they can be quietened, never lost.
    transactional: bool
    defaults: dict[Channel, bool]


TOPICS: dict[Topic, TopicRules] = {
    Topic.orders: TopicRules(
        "Receipts", True, {Channel.email: True, Channel.push: True, Channel.in_app: True}
    ),
    Topic.plan_reminders: TopicRules(
        "Plan reminders", True, {Channel.email: True, Channel.push: True, Channel.in_app: True}
    ),
    Topic.service_updates: TopicRules(
        "Service updates", True, {Channel.email: True, Channel.push: True, Channel.in_app: True}
    ),
    Topic.staff: TopicRules(
        "Jobs and alerts", True, {Channel.email: True, Channel.push: True, Channel.in_app: True}
    ),
    # Opt-in by email and push; the inbox shows offers unless turned off.
    Topic.promotions: TopicRules(
        "Offers and news", False, {Channel.email: False, Channel.push: False, Channel.in_app: True}
    ),
}
CHOOSABLE = (Channel.email, Channel.push, Channel.in_app)


@dataclass(frozen=True)
class Kind:
    name: str
    topic: Topic
    family: str  # which facts it needs (facts.py): account, order, subscription, request, job,
    # campaign, report


def _kinds(family: str, topic: Topic, *names: str) -> dict[str, Kind]:
    return {f"{family}.{n}": Kind(f"{family}.{n}", topic, family) for n in names}


KINDS: dict[str, Kind] = {
    **_kinds("account", Topic.security, "verification_code", "sign_in_code"),
    **_kinds("order", Topic.orders, "receipt"),
    **_kinds(
        "subscription",
        Topic.plan_reminders,
        "reminder",
        "pre_debit",
        "renewal_failed",
        "grace_started",
        "expired",
        "renewed",
        "cancelled",
        "extended",
    ),
    **_kinds(
        "request",
        Topic.service_updates,
        "received",
        "assigned",
        "reassigned",
        "started",
        "completed",
        "cancelled",
        "rescheduled",
    ),
    # To the technician: the request's facts and whom to call while the job is theirs.
    **_kinds("job", Topic.staff, "assigned", "unassigned", "cancelled", "rescheduled"),
    # To admins.
    **{f"alert.{n}": Kind(f"alert.{n}", Topic.staff, "request") for n in ("escalated", "overdue")},
    "campaign.promotion": Kind("campaign.promotion", Topic.promotions, "campaign"),
    # To the admin who asked: a campaign's message as a test, alone (read from the campaign).
    "campaign.test": Kind("campaign.test", Topic.staff, "campaign"),
    # To admins: the day's figures (the `daily-report` schedule).
    "report.daily": Kind("report.daily", Topic.staff, "report"),
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown message kind {name!r}") from None
