"""The API's `/metrics`: what Prometheus scrapes from each API replica. After real requests the
counts of each (method, route template, status) move by exactly the requests made, whatever path
the client sent: an id in the path is never a label, a path no route takes is `unmatched`, and a
web app is one route."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.metrics import HTTP_DURATION, HTTP_REQUESTS, UNMATCHED
from tests.observability.exposition import label_values, names, value
from tests.support.catalog_helpers import make_customer

METRICS_URL = "http://test/metrics"  # outside /api/v1, where the `api` client's base is


async def scrape(api: httpx.AsyncClient) -> str:
    answer = await api.get(METRICS_URL)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain"), answer.headers
    return answer.text


async def test_requests_are_counted_by_route_template_and_status(
    app: Any, api: httpx.AsyncClient, db: AsyncSession
) -> None:
    customer = await make_customer(api, "metrics@example.com")
    before = await scrape(api)

    for _ in range(3):
        assert (await api.get("/me", headers=customer)).status_code == 200
    assert (await api.get("/me")).status_code == 401
    someone_elses = uuid.uuid4()
    assert (await api.get(f"/orders/{someone_elses}", headers=customer)).status_code == 404
    made_up = uuid.uuid4()
    assert (await api.get(f"/no-such-thing/{made_up}")).status_code == 404
    assert (await api.post("/auth/register", json={"email": "not an email"})).status_code == 422
    for page in ("http://test/admin/", "http://test/admin/orders/123"):
        await api.get(page)
    # The catalog twice: the second may be answered by its fast path, before any routing.
    for _ in range(2):
        assert (await api.get("/catalog/plans")).status_code == 200

    after = await scrape(api)

    def moved(status: str, route: str, method: str = "GET") -> float:
        labels = {"method": method, "route": route, "status": status}
        counted = value(after, HTTP_REQUESTS, **labels) - value(before, HTTP_REQUESTS, **labels)
        timed = value(after, f"{HTTP_DURATION}_count", **labels) - value(
            before, f"{HTTP_DURATION}_count", **labels
        )
        assert counted == timed, (labels, counted, timed)
        return counted

    assert moved("200", "/api/v1/me") == 3
    assert moved("401", "/api/v1/me") == 1
    assert moved("404", "/api/v1/orders/{order_id}") == 1
    assert moved("404", UNMATCHED) == 1
    assert moved("422", "/api/v1/auth/register", method="POST") == 1
    assert moved("200", "/api/v1/catalog/plans") == 2
    admin_pages = sum(
        moved(status, "/admin") for status in label_values(after, HTTP_REQUESTS, "status")
    )
    assert admin_pages == 2
    # The scrape before this one, counted once it had answered.
    assert moved("200", "/metrics") == 1

    routes = label_values(after, HTTP_REQUESTS, "route")
    assert not [r for r in routes if str(someone_elses) in r or str(made_up) in r], routes
    assert all(r.startswith("/") or r == UNMATCHED for r in routes), routes
    # The latency histogram's buckets, and the process's own series (memory, CPU).
    assert f"{HTTP_DURATION}_bucket" in names(after)
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total"} <= names(after)


async def test_metrics_is_outside_the_api_and_its_openapi_document(
    app: Any, api: httpx.AsyncClient
) -> None:
    paths = app.openapi()["paths"]
    assert not [p for p in paths if p.endswith("/metrics")], list(paths)
    assert (await api.get("/metrics")).status_code == 404  # /api/v1/metrics is no route
    refused = await api.post(METRICS_URL)
    assert refused.status_code == 405
