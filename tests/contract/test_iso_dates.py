"""A date or a time in a path or query parameter is written as the document says (ISO 8601):
a number is refused naming the parameter (pydantic would have read it as seconds since 1970,
`?until=0` as 1970-01-01), whatever the route (api.periods.IsoDate, IsoDateTime)."""

from __future__ import annotations

import httpx


async def test_a_date_written_as_a_number_is_refused_naming_the_parameter(
    api: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for url, where, name in (
        ("/admin/audit?until=0", "query", "until"),
        ("/admin/service-requests?starts_from=0.5", "query", "starts_from"),
        ("/admin/dispatch/board?date=0", "query", "date"),
        ("/admin/reports/daily?since=1700000000", "query", "since"),
        ("/admin/reports/daily/20000", "path", "day"),
    ):
        answer = await api.get(url, headers=admin_headers)
        assert answer.status_code == 422, (url, answer.text)
        fields = {(e["in"], e["field"]) for e in answer.json()["errors"]}
        assert (where, name) in fields, url


async def test_dates_and_times_written_as_iso_8601_are_taken(
    api: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for url in (
        "/admin/audit?since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00%2B05:30",
        "/admin/dispatch/board?date=2026-03-02",
        "/admin/reports/daily?since=2026-01-01&until=2026-01-31",
    ):
        answer = await api.get(url, headers=admin_headers)
        assert answer.status_code == 200, (url, answer.text)
