"""The words on a workflow's timers, on an activity and in its current details, as the Temporal
Web UI shows them: what it waits for and until when, in the business's zone with its label
(`domain/display.py`). Pure functions of what the workflow has, called in its sandbox; metadata,
not commands (changing the words needs no patch)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from domain import display
from domain.service_requests.contracts import RequestPolicy
from domain.workflow_labels import MEMO_DETAILS


def now_and_then(now: str, memo: Mapping[str, Any]) -> str:
    """A workflow's current details (the detail page, while a worker runs it): its state now,
    then its label as started (from the memo: a continued run has no static details)."""
    started = memo.get(MEMO_DETAILS)
    return f"{now}\n\n{started}" if isinstance(started, str) and started else now


def subscription_now(
    status: str, period: int, ends_at: datetime, renewed_until: datetime | None
) -> str:
    """A subscription's state, for its current details (written when its status or end moves)."""
    if renewed_until is not None:
        until = f"renewed until {display.day(renewed_until)}"
    else:
        until = f"ends {display.day(ends_at)}"
    return f"**Now:** {status} · period {period} {until}"


def renewal_charge(period: int, attempt: int) -> str:
    """The automatic renewal's charge (an activity's summary)."""
    retry = f" (retry {attempt - 1})" if attempt > 1 else ""
    return f"automatic renewal charge for period {period}{retry}"


def subscription_due(kind: str, at: datetime) -> str:
    """The words on a subscription's timer: what falls due and when."""
    when = display.when(at)
    if kind.startswith("reminder:"):
        return f"renewal reminder due {when}"
    words = {
        "pre_debit": "pre-debit notice due",
        "charge": "automatic renewal charge due",
        "check_charge": "renewal charge checked again",
        "period_end": "period ends",
        "grace_end": "grace ends (then expired)",
    }
    if kind.startswith("retry:"):
        return f"renewal retry {kind.partition(':')[2]} due {when}"
    return f"{words.get(kind, kind)} {when}"


def request_sla(due: tuple[datetime, str] | None, policy: RequestPolicy) -> str | None:
    """The words on a request's SLA timer (`due`: when, and `escalated` or `overdue`)."""
    if due is None:
        return None
    at, kind = due
    if kind == "escalated":
        sla = display.hours(policy.escalate_after_seconds)
        return f"waiting for a technician (SLA {sla}): escalated at {display.when(at)}"
    return f"waiting for the visit: overdue if not completed by {display.when(at)}"


def rating_window(now: datetime, policy: RequestPolicy) -> str:
    until = now + timedelta(seconds=policy.rating_seconds)
    return f"waiting for the customer's rating until {display.when(until)}"


def payment_wait(deadline: datetime, wake: datetime) -> str:
    """The checkout's timer: the next provider check, or the deadline itself."""
    if wake >= deadline:
        return f"payment deadline {display.when(deadline)}"
    check = display.clock(wake)
    return f"payment deadline {display.when(deadline)} · next check with the provider {check}"


def code_expiry(at: datetime) -> str:
    return f"verification code expires {display.when(at)}"


def campaign_now(sent: int, total: int, batches: int) -> str:
    """A campaign's progress, for its current details (written after each batch)."""
    return f"**Now:** {sent:,} of {total:,} sent in {batches:,} batches"


def campaign_pace(batch: int, at: datetime) -> str:
    return f"pace: batch {batch} at {display.clock(at)}"
