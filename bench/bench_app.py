"""The customer app's first screen, as a phone on a slow network meets it: the bytes it transfers
and when it first paints.

What runs: a stack of its own (`bench.harness.running_stack`; the API serves `customer_app/dist`,
which `make ui` builds) with the demo catalog loaded; Debian's chromium (playwright, no browser
downloaded) opens http://.../app/ in a fresh phone-sized context, so nothing is cached, as a first
visit. Two figures, each the median of RUNS visits:

- Transferred bytes: the sum of every answer's bytes on the wire (`encodedDataLength`, headers
  and compressed bodies) from the navigation until the catalog is on screen and the page has
  loaded. The service worker's precaching of the other screens runs after that, in the worker's
  own target, and is not part of the first screen. Target: <= 200 KB.
- First paint under Lighthouse's "slow 4G" profile (150 ms round trips, 1.6 Mbit/s down,
  750 kbit/s up) with the CPU slowed 4x (Lighthouse's mobile setting): First Contentful Paint
  from the page's own Paint Timing. Target: <= 2.5 s. Also printed: when the catalog's plans
  are on screen (they need two API answers after the script runs).
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ROOT, log, running_stack

RUNS = 5
TARGET_BYTES = 200 * 1024
TARGET_PAINT_S = 2.5
SLOW_4G = {
    "offline": False,
    "latency": 150,  # ms
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,  # bytes/s
    "uploadThroughput": 750 * 1024 / 8,
}
CPU_SLOWDOWN = 4
DIST = ROOT / "customer_app" / "dist" / "index.html"


@dataclass(frozen=True)
class AppFigures:
    bytes_median: int
    bytes_by_type: dict[str, int]  # of the median run: script, stylesheet, document, fetch...
    requests: int
    first_paint_s: float  # median, throttled
    catalog_shown_s: float  # median, throttled
    runs: int

    @property
    def bytes_met(self) -> bool:
        return self.bytes_median <= TARGET_BYTES

    @property
    def paint_met(self) -> bool:
        return self.first_paint_s <= TARGET_PAINT_S


async def _seed(database_url: str) -> None:
    from core.db import make_engine, make_sessionmaker
    from core.settings import Settings
    from domain.catalog.demo import load_demo_catalog

    engine = make_engine(Settings(_env_file=None, database_url=database_url))
    try:
        async with make_sessionmaker(engine)() as db:
            await load_demo_catalog(db)
            await db.commit()
    finally:
        await engine.dispose()


async def _visit(
    browser: Any, url: str, *, throttled: bool
) -> tuple[int, dict[str, int], int, float, float]:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttled:
        await cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    kinds: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], e["type"]))
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    await page.goto(url, wait_until="load")
    await page.locator("ul.list li").first.wait_for(timeout=120_000)
    shown = await page.evaluate("() => performance.now()") / 1000.0
    await page.wait_for_load_state("networkidle")
    paint = await page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0"
    )
    by_type: dict[str, int] = {}
    for request_id, size in sizes.items():
        kind = kinds.get(request_id, "Other").lower()
        by_type[kind] = by_type.get(kind, 0) + size
    await context.close()
    return sum(sizes.values()), by_type, len(sizes), paint / 1000.0, shown


async def _measure(url: str) -> AppFigures:
    from playwright.async_api import async_playwright

    from tests.admin_ui_harness import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if executable is None:
        raise SystemExit("no chromium: `make browser` (apt-get install chromium) first")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        plain = [await _visit(browser, url, throttled=False) for _ in range(RUNS)]
        slow = [await _visit(browser, url, throttled=True) for _ in range(RUNS)]
        await browser.close()
    plain.sort(key=lambda run: run[0])
    median = plain[len(plain) // 2]
    return AppFigures(
        bytes_median=median[0],
        bytes_by_type=median[1],
        requests=median[2],
        first_paint_s=statistics.median(run[3] for run in slow),
        catalog_shown_s=statistics.median(run[4] for run in slow),
        runs=RUNS,
    )


def run(work: Path) -> AppFigures:
    if not DIST.exists():
        raise SystemExit("the customer app is not built: `make ui` first")
    work.mkdir(parents=True, exist_ok=True)
    with running_stack(work) as stack:
        log("loading the demo catalog")
        asyncio.run(_seed(stack.env["DATABASE_URL"]))
        log(f"opening {stack.api_url}/app/ in chromium, {RUNS} plain and {RUNS} throttled visits")
        return asyncio.run(_measure(f"{stack.api_url}/app/"))


def lines(figures: AppFigures) -> list[str]:
    kinds = ", ".join(
        f"{kind} {size / 1024:.1f} KB"
        for kind, size in sorted(figures.bytes_by_type.items(), key=lambda item: -item[1])
    )
    return [
        f"customer app, first screen (catalog) transferred: {figures.bytes_median / 1024:.1f} KB "
        f"in {figures.requests} answers ({kinds}); median of {figures.runs} first visits | target "
        f"<= {TARGET_BYTES // 1024} KB: {'MET' if figures.bytes_met else 'MISSED'}",
        f"customer app, first contentful paint on slow 4G (150 ms RTT, 1.6 Mbit/s, CPU x"
        f"{CPU_SLOWDOWN}): {figures.first_paint_s:.2f} s; the catalog's plans on screen at "
        f"{figures.catalog_shown_s:.2f} s; median of {figures.runs} | target <= "
        f"{TARGET_PAINT_S} s (first paint): {'MET' if figures.paint_met else 'MISSED'}",
    ]
