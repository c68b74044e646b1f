"""One chaos run: the stack up, the world prepared, the mix driven while the faults are
injected, then the stack left to settle and the checks read. Prints each check's counts and the
summary line `chaos: N faults (by kind), M operations, X lost, Y duplicated, Z stuck`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from chaos import checks, checks_workflows, mix_campaigns, mix_checkout, mix_requests
from chaos.client import Api, GaveUp
from chaos.faults import Injector, schedule
from chaos.results import Result
from chaos.stack import Settings, Stack
from chaos.world import World, prepare

READY_S = 180.0
SETTLE_S = 300.0  # bounded: what has not settled by then is reported stuck by the checks
# Journeys of the mix and their weights.
JOURNEYS = (
    ("purchase", 8),
    ("request", 7),
    ("renew", 2),
    ("race", 1),
)


@dataclass(frozen=True)
class Options:
    seed: int
    minutes: float
    operations: int
    per_kind: int
    concurrency: int
    crowd: int  # customers the campaign goes to
    day_seconds: int
    data_dir: Path


def say(text: str) -> None:
    print(f"chaos | {text}", flush=True)


async def until_ready(urls: list[str]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_S
    async with httpx.AsyncClient(timeout=5) as http:
        for url in urls:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                if loop.time() > deadline:
                    raise RuntimeError(f"{url} was not ready within {READY_S:.0f} s")
                await asyncio.sleep(0.5)


async def journey(world: World, name: str) -> None:
    if name == "purchase":
        await mix_checkout.purchase(world)
    elif name == "request":
        await mix_requests.lifecycle(world)
    elif name == "renew":
        await mix_checkout.renew_by_hand(world)
    elif name == "race":
        await mix_requests.race(world)


async def drive(world: World, opts: Options, ends_at: float) -> None:
    """`concurrency` customers at a time, each journey picked by weight, until the time is up
    and the operations are done (never past twice the time)."""
    hard_end = ends_at + opts.minutes * 60
    names = [n for n, _ in JOURNEYS]
    weights = [w for _, w in JOURNEYS]

    async def lane(n: int) -> None:
        rng = random.Random(opts.seed * 1000 + n)  # noqa: S311 (a seeded schedule)
        while True:
            now = time.monotonic()
            done = sum(world.api.ops.values())
            if now > hard_end or (now > ends_at and done >= opts.operations):
                return
            # Plans first: the other journeys need holders.
            name = "purchase" if len(world.holders) < 4 else rng.choices(names, weights)[0]
            try:
                await journey(world, name)
            except (GaveUp, AssertionError, KeyError, ValueError) as exc:
                world.errors.append(f"{name}: {exc!r}"[:300])

    await asyncio.gather(*(lane(n) for n in range(opts.concurrency)))


async def settle(world: World, stack: Stack, temporal: Client) -> None:
    """No new renewal starts (automatic renewal off for every holder); then until no order is
    pending, the campaigns have ended and no workflow waits on a retry, bounded."""
    for holder in world.holders:
        with contextlib.suppress(GaveUp):
            await world.api.call(
                "PUT",
                f"/subscriptions/{holder.subscription_id}/auto-renew",
                who=holder.who,
                op="auto-renew off",
                json={"enabled": False},
            )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_S
    url = mix_campaigns.plain_url(stack.database_url)
    while loop.time() < deadline:
        with contextlib.suppress(psycopg.OperationalError, RPCError):
            async with await psycopg.AsyncConnection.connect(url) as db:
                cursor = await db.execute(
                    "SELECT (SELECT count(*) FROM orders WHERE status IN "
                    "  ('pending_payment', 'paid')) + "
                    "(SELECT count(*) FROM campaigns WHERE status IN ('running', 'paused'))"
                )
                row = await cursor.fetchone()
                if row is not None and row[0] == 0 and await checks_workflows.busy(temporal) == 0:
                    return
        await asyncio.sleep(2)


async def run(opts: Options) -> int:
    rng = random.Random(opts.seed)  # noqa: S311 (a seeded schedule)
    stack = Stack(opts.data_dir, Settings(day_seconds=opts.day_seconds))
    began = time.monotonic()
    say(f"seed {opts.seed}; logs and data in {opts.data_dir}")
    try:
        await stack.start()
        await until_ready(stack.api_urls)
        say(f"stack up in {time.monotonic() - began:.0f} s")
        api = Api(stack.api_urls, rng)
        world = World(api, rng, opts.seed)
        await prepare(world)
        temporal = await Client.connect(
            stack.config.temporal_address, data_converter=pydantic_data_converter
        )
        duration = opts.minutes * 60
        faults = schedule(
            random.Random(opts.seed + 1),  # noqa: S311 (a seeded schedule)
            duration_s=duration * 0.85,
            per_kind=opts.per_kind,
        )
        injector = Injector(stack, faults, say)
        stop = asyncio.Event()
        started = time.monotonic()
        injecting = asyncio.create_task(injector.run(started, stop))
        campaign = asyncio.create_task(
            mix_campaigns.campaign(world, stack.database_url, opts.crowd)
        )
        await drive(world, opts, started + duration)
        await injecting  # every fault scheduled is injected, even when the mix ended early
        stop.set()
        try:
            await campaign
        except Exception as exc:  # reported, and the checks still run
            world.errors.append(f"campaign: {exc!r}"[:300])
        say(f"mix done in {time.monotonic() - started:.0f} s; settling")
        await settle(world, stack, temporal)
        results = await checks.run_all(stack.database_url, temporal, world)
        for line in await checks.coverage(stack.database_url):
            say(line)
    finally:
        await stack.stop()
    return report(results, injector, world, time.monotonic() - began)


def report(results: list[Result], injector: Injector, world: World, took: float) -> int:
    for result in results:
        line = (
            f"check {result.name}: {result.checked} checked, {result.lost} lost, "
            f"{result.duplicated} duplicated, {result.stuck} stuck"
        )
        say(line)
        for note in result.notes:
            say(f"    {note}")
    api = world.api
    say(
        f"{api.attempts} requests for {sum(api.ops.values())} operations ({api.retries} retried, "
        f"{api.gave_up} given up); {len(world.holders)} holders, {len(world.requests)} requests"
    )
    for error in world.errors[:10]:
        say(f"  error: {error}")
    lost = sum(r.lost for r in results)
    duplicated = sum(r.duplicated for r in results)
    stuck = sum(r.stuck for r in results)
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(injector.done.items()))
    faults = sum(injector.done.values())
    print(
        f"chaos: {faults} faults ({kinds}), {sum(api.ops.values())} operations, "
        f"{lost} lost, {duplicated} duplicated, {stuck} stuck (in {took:.0f} s)",
        flush=True,
    )
    return 0 if lost == duplicated == stuck == 0 else 1
