"""The web apps' first screens, as a phone on a slow network meets them: the bytes each
transfers and when it first paints. The customer app's first screen is its catalog; the admin
panel's, cold (not signed in), its sign-in page.

What runs: a stack of its own (`bench.harness.running_stack`; the API serves `customer_app/dist`,
which `make ui` builds) with the demo catalog loaded; Debian's chromium (playwright, no browser
downloaded) opens http://.../app/ in a fresh phone-sized context, so nothing is cached, as a first
visit (the admin panel at a desk's size). Two figures per app, each the median of RUNS visits:

- Transferred bytes: the sum of every answer's bytes on the wire (`encodedDataLength`, headers
  and compressed bodies) from the navigation until the catalog is on screen and the page has
  loaded. The service worker's precaching of the other screens runs after that, in the worker's
  own target, and is not part of the first screen. Targets: <= 200 KB (app), <= 350 KB (panel).
- First paint under Lighthouse's "slow 4G" profile (150 ms round trips, 1.6 Mbit/s down,
  750 kbit/s up) with the CPU slowed 4x (Lighthouse's mobile setting): First Contentful Paint
  from the page's own Paint Timing. Targets: <= 2.5 s (app), <= 3 s (panel). Also printed: when
  the screen's content is there (the app's plans need two API answers after the script runs).
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import ROOT, log, running_stack

RUNS = 5
SLOW_4G = {
    "offline": False,
    "latency": 150,  # ms
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,  # bytes/s
    "uploadThroughput": 750 * 1024 / 8,
}
CPU_SLOWDOWN = 4


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # where the API serves it
    dist: Path
    ready: str  # a selector: the first screen's content is on screen
    viewport: dict[str, int]
    mobile: bool
    bytes: int
    paint_s: float


TARGETS = (
    Target(
        "customer app, first screen (catalog)",
        "/app/",
        ROOT / "customer_app" / "dist" / "index.html",
        "ul.list li",
        {"width": 390, "height": 844},
        True,
        200 * 1024,
        2.5,
    ),
    Target(
        "admin panel, cold first screen (sign-in)",
        "/admin/",
        ROOT / "admin_ui" / "dist" / "index.html",
        "button[type=submit]",
        {"width": 1440, "height": 900},
        False,
        350 * 1024,
        3.0,
    ),
)


@dataclass(frozen=True)
class AppFigures:
    target: Target
    bytes_median: int
    bytes_by_type: dict[str, int]  # of the median run: script, stylesheet, document, fetch...
    requests: int
    first_paint_s: float  # median, throttled
    catalog_shown_s: float  # median, throttled
    runs: int

    @property
    def bytes_met(self) -> bool:
        return self.bytes_median <= self.target.bytes

    @property
    def paint_met(self) -> bool:
        return self.first_paint_s <= self.target.paint_s


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
    browser: Any, url: str, target: Target, *, throttled: bool
) -> tuple[int, dict[str, int], int, float, float]:
    context = await browser.new_context(
        viewport=target.viewport, is_mobile=target.mobile, has_touch=target.mobile
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
    await page.locator(target.ready).first.wait_for(timeout=120_000)
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


async def _measure(base_url: str) -> list[AppFigures]:
    from playwright.async_api import async_playwright

    from tests.support.admin_ui_harness import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if executable is None:
        raise SystemExit("no chromium: `make browser` (apt-get install chromium) first")
    out = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for target in TARGETS:
            url = f"{base_url}{target.path}"
            plain = [await _visit(browser, url, target, throttled=False) for _ in range(RUNS)]
            slow = [await _visit(browser, url, target, throttled=True) for _ in range(RUNS)]
            plain.sort(key=lambda run: run[0])
            median = plain[len(plain) // 2]
            out.append(
                AppFigures(
                    target=target,
                    bytes_median=median[0],
                    bytes_by_type=median[1],
                    requests=median[2],
                    first_paint_s=statistics.median(run[3] for run in slow),
                    catalog_shown_s=statistics.median(run[4] for run in slow),
                    runs=RUNS,
                )
            )
        await browser.close()
    return out


def run(work: Path) -> list[AppFigures]:
    for target in TARGETS:
        if not target.dist.exists():
            raise SystemExit(f"{target.dist.parent.parent.name} is not built: `make ui` first")
    work.mkdir(parents=True, exist_ok=True)
    with running_stack(work) as stack:
        log("loading the demo catalog")
        asyncio.run(_seed(stack.env["DATABASE_URL"]))
        log(f"opening each app in chromium, {RUNS} plain and {RUNS} throttled visits each")
        return asyncio.run(_measure(stack.api_url))


def lines(all_figures: list[AppFigures]) -> list[str]:
    out = []
    for figures in all_figures:
        target = figures.target
        kinds = ", ".join(
            f"{kind} {size / 1024:.1f} KB"
            for kind, size in sorted(figures.bytes_by_type.items(), key=lambda item: -item[1])
        )
        out += [
            f"{target.name} transferred: {figures.bytes_median / 1024:.1f} KB in "
            f"{figures.requests} answers ({kinds}); median of {figures.runs} first visits | "
            f"target <= {target.bytes // 1024} KB: {'MET' if figures.bytes_met else 'MISSED'}",
            f"{target.name}, first contentful paint on slow 4G (150 ms RTT, 1.6 Mbit/s, CPU x"
            f"{CPU_SLOWDOWN}): {figures.first_paint_s:.2f} s; its content on screen at "
            f"{figures.catalog_shown_s:.2f} s; median of {figures.runs} | target <= "
            f"{target.paint_s} s (first paint): {'MET' if figures.paint_met else 'MISSED'}",
        ]
    return out
