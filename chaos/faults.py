"""Faults on a seeded random schedule: which kind, when, and against which process. Each is
injected and undone here (the process manager of chaos.stack restarts a killed API or worker).

- kill_worker, kill_api: SIGKILL of one process (no cleanup runs), started again after a second;
- restart_temporal: SIGKILL of the Temporal server, started again on the same database file;
- restart_postgres: an immediate shutdown (SIGQUIT, `pg_ctl -m immediate`: no checkpoint, the
  backends cut) and a start, which runs crash recovery;
- cut_worker_postgres, cut_worker_temporal: one worker's proxy to that server stopped (its open
  connections dropped, new ones refused) for a few seconds, then started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass

from chaos.stack import Stack

KINDS = (
    "kill_worker",
    "kill_api",
    "restart_temporal",
    "restart_postgres",
    "cut_worker_postgres",
    "cut_worker_temporal",
)


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the mix starts
    kind: str
    target: int  # which worker or API (0 or 1)
    down_s: float  # how long a server stays down or a cut lasts


def schedule(rng: random.Random, *, duration_s: float, per_kind: int) -> list[Fault]:
    """`per_kind` faults of every kind, shuffled and spread over `duration_s` with jitter (the
    same seed, the same schedule)."""
    kinds = [kind for kind in KINDS for _ in range(per_kind)]
    rng.shuffle(kinds)
    step = duration_s / (len(kinds) + 1)
    faults = []
    for n, kind in enumerate(kinds, start=1):
        at = step * n + rng.uniform(-0.3, 0.3) * step
        down = rng.uniform(0.5, 3.0) if kind.startswith("cut") else rng.uniform(0.0, 2.0)
        faults.append(Fault(at=max(at, 1.0), kind=kind, target=rng.randrange(2), down_s=down))
    return sorted(faults, key=lambda f: f.at)


class Injector:
    def __init__(self, stack: Stack, faults: list[Fault], say: object = print) -> None:
        self.stack = stack
        self.faults = faults
        self.done: Counter[str] = Counter()
        self.say = say

    async def run(self, started: float, stop: asyncio.Event) -> None:
        for fault in self.faults:
            wait = started + fault.at - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
            if stop.is_set():
                return
            if await self.inject(fault):
                self.done[fault.kind] += 1
                self.say(f"fault {sum(self.done.values())}: {fault.kind} #{fault.target + 1}")  # type: ignore[operator]

    async def inject(self, fault: Fault) -> bool:
        stack = self.stack
        if fault.kind == "kill_worker":
            return await stack.workers[fault.target].kill(signal.SIGKILL)
        if fault.kind == "kill_api":
            return await stack.apis[fault.target].kill(signal.SIGKILL)
        if fault.kind in ("restart_temporal", "restart_postgres"):
            managed = stack.temporal if fault.kind == "restart_temporal" else stack.postgres
            assert managed is not None
            # SIGQUIT is PostgreSQL's immediate shutdown; the Temporal server is simply killed.
            sig = signal.SIGQUIT if fault.kind == "restart_postgres" else signal.SIGKILL
            killed = await managed.kill(sig, hold=True)
            await asyncio.sleep(fault.down_s)
            managed.release()
            return killed
        server = "postgres" if fault.kind == "cut_worker_postgres" else "temporal"
        proxy = stack.proxies[f"worker{fault.target + 1}-{server}"]
        await proxy.cut()
        await asyncio.sleep(fault.down_s)
        await proxy.start()
        return True
