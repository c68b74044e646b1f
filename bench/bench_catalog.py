"""The public plan list under load: GET /api/v1/catalog/plans, and its revalidation (304).

The bench loads the demo catalog (`domain.catalog.demo.load_demo_catalog`: 5 categories, 6 published
plans) into the throwaway database, checks the list once (200 with an ETag and Cache-Control, then
304 for that ETag), then measures, 32 clients at a time:
- the list as a first visit gets it (no If-None-Match): 200 with the whole page, and
- the app's revalidation (If-None-Match with the current ETag): 304, no body.

Target (from the issue): p99 <= 10 ms and at least 60% of the bare uvicorn baseline's throughput,
the baseline measured at 32 clients in the same run. A benchmark target, printed with the figures,
not a test: a miss does not change the exit status.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from bench.harness import LoadGenerator, LoadResult, Request, Stack, log, measure

API = "/api/v1"
PATH = "/catalog/plans"
CLIENTS = 32
TARGET_P99_MS = 10.0
TARGET_SHARE = 0.60  # of the bare uvicorn throughput at the same number of clients


@dataclass(frozen=True)
class CatalogFigures:
    plans: int  # plans in the list (the demo catalog)
    body_bytes: int
    listing: LoadResult  # 200
    revalidation: LoadResult  # 304


def target_text() -> str:
    return f"p99 <= {TARGET_P99_MS:g} ms and >= {TARGET_SHARE:.0%} of bare uvicorn at {CLIENTS}"


def target_met(result: LoadResult, baseline: LoadResult) -> tuple[bool, bool] | None:
    """Whether the listing met each half of the issue's target (p99, share of the baseline's
    throughput); None when either figure is invalid."""
    if not (result.valid and baseline.valid):
        return None
    return result.p99_ms <= TARGET_P99_MS, result.rps >= TARGET_SHARE * baseline.rps


async def _load_demo_catalog(database_url: str) -> bool:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from domain.catalog.demo import load_demo_catalog

    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            loaded = await load_demo_catalog(db)
            await db.commit()
            return loaded
    finally:
        await engine.dispose()


def ensure_demo_catalog(stack: Stack) -> None:
    """The demo catalog in the stack's database (loaded once per run; the checkout bench buys one
    of its plans)."""
    if asyncio.run(_load_demo_catalog(stack.env["DATABASE_URL"])):
        log("demo catalog loaded (5 categories, 6 plans)")


def _check(client: httpx.Client) -> tuple[str, int, int]:
    """The list answers 200 with an ETag and Cache-Control, and 304 for that ETag."""
    first = client.get(PATH)
    if first.status_code != 200:
        raise RuntimeError(f"GET {PATH}: {first.status_code} {first.text[:500]}")
    etag = first.headers.get("etag")
    if not etag or "cache-control" not in first.headers:
        raise RuntimeError(f"GET {PATH}: no ETag or Cache-Control in {dict(first.headers)}")
    plans = len(first.json()["items"])
    again = client.get(PATH, headers={"If-None-Match": etag})
    if again.status_code != 304:
        raise RuntimeError(f"GET {PATH} with If-None-Match: {again.status_code}, not 304")
    return etag, plans, len(first.content)


def run(stack: Stack, generator: LoadGenerator, *, seconds: int, warmup_s: int) -> CatalogFigures:
    ensure_demo_catalog(stack)
    url = f"{stack.api_url}{API}{PATH}"
    with httpx.Client(base_url=f"{stack.api_url}{API}", timeout=30.0) as client:
        etag, plans, size = _check(client)

    log(f"measuring GET {API}{PATH} ({CLIENTS} clients)")
    listing = measure(
        generator, Request("GET", url), seconds=seconds, warmup_s=warmup_s, connections=CLIENTS
    )
    log(f"measuring GET {API}{PATH} with If-None-Match ({CLIENTS} clients, 304 expected)")
    revalidation = measure(
        generator,
        Request("GET", url, {"If-None-Match": etag}, expect_status=304),
        seconds=seconds,
        warmup_s=warmup_s,
        connections=CLIENTS,
    )
    return CatalogFigures(plans=plans, body_bytes=size, listing=listing, revalidation=revalidation)
