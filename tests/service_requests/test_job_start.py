"""A visit starts no earlier than JOB_START_EARLY_MINUTES (two hours) before its window: a
technician who taps "start" days early is told when they can; an admin can start it earlier
with a reason, which the timeline and the audit log keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain import timefmt
from domain.audit.models import AuditEntry
from tests.conftest import make_settings
from tests.support.request_helpers import asked, shop, technician, technician_headers

PHONE = "+919811100011"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The rule as shipped (the suite's other tests start visits days ahead)."""
    return make_settings(database_url=database_url, job_start_early_minutes=120)


def _in(minutes: int, hours: int = 1) -> tuple[str, str]:
    """A window of `hours` starting about `minutes` from now (from 40 minutes before that to 25
    after), inside one UTC day: the technician works 00:00-23:59 each day, so a window across
    midnight is outside their hours and the assignment is refused (the suite failed so when it
    ran after 20:30 UTC)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    aim = now + timedelta(minutes=minutes)
    for shift in sorted(range(-40, 26, 5), key=abs):
        start = aim + timedelta(minutes=shift)
        end = start + timedelta(hours=hours)
        if start >= now + timedelta(minutes=10) and end.date() == start.date():
            return start.isoformat(), end.isoformat()
    raise AssertionError(f"no {hours} h window near {aim} fits one UTC day")


async def test_a_technician_cannot_start_days_early_but_can_within_two_hours(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE)
    tech = await technician_headers(api, db, PHONE)
    later = await asked(api, s, when=_in(2 * 24 * 60))  # two days ahead
    soon = await asked(api, s, when=_in(90))  # an hour and a half ahead
    for rid in (later["id"], soon["id"]):
        assigned = await api.post(
            f"/admin/service-requests/{rid}/assign",
            json={"technician_id": ravi["id"]},
            headers=s.admin,
        )
        assert assigned.status_code == 200, assigned.text

    refused = await api.post(f"/technician/jobs/{later['id']}/start", headers=tech)
    assert refused.status_code == 409, refused.text
    window_start = datetime.fromisoformat(later["window_start"])
    earliest = window_start - timedelta(hours=2)
    assert refused.json()["detail"] == (
        f"this visit's window starts {timefmt.when(window_start)}: "
        f"it can be started from {timefmt.when(earliest)}"
    )
    job = (await api.get(f"/technician/jobs/{later['id']}", headers=tech)).json()
    assert job["status"] == "assigned"

    started = await api.post(f"/technician/jobs/{soon['id']}/start", headers=tech)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_progress"


async def test_an_admin_starts_early_only_with_a_reason_which_is_kept(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE)
    rid = (await asked(api, s, when=_in(2 * 24 * 60)))["id"]
    await api.post(
        f"/admin/service-requests/{rid}/assign",
        json={"technician_id": ravi["id"]},
        headers=s.admin,
    )

    bare = await api.post(f"/admin/service-requests/{rid}/start", headers=s.admin)
    assert bare.status_code == 409
    assert bare.json()["detail"].endswith("; give early_reason to start it now")

    reason = "the customer asked us to come today"
    started = await api.post(
        f"/admin/service-requests/{rid}/start", json={"early_reason": reason}, headers=s.admin
    )
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_progress"
    (entry,) = [e for e in started.json()["timeline"] if e["kind"] == "started"]
    assert entry["note"] == f"started early: {reason}"
    audited = await db.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "service_request.start", AuditEntry.entity_id == rid
        )
    )
    await db.commit()
    assert audited is not None and audited.after is not None
    assert audited.after["reason"] == f"started early: {reason}"
