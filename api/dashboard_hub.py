"""The live dashboard (server-sent events): one PostgreSQL listener per API process and one
recompute shared by every open stream.

Every write to the rollups and state counters notifies `dashboard_changed` (statement triggers,
delivered at the commit of the change counted). `DashboardHub` holds one `LISTEN` on its own
connection, like `api.streams.RequestEventHub`, and marks the figures stale; its refresher then
computes them once (`domain.reports.dashboard.compute`, a few small reads) and hands the result
to every stream. Bursts are coalesced: at most one computation per `COALESCE_S` in this process,
however many changes commit and however many streams are open, and none while no stream is open.
A stream whose client is slow only ever gets the newest figures (each holds one wake-up flag,
never a queue), and nobody waits for it.

While the listener is not connected the figures are computed every `POLL_S` instead (changes
may go unannounced); they are computed every `REFRESH_S` anyway, so "today" moves on at
midnight with nothing sold. A stream only sends figures that differ from the ones it sent last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import listener
from core.db import utcnow
from core.errors import TooManyRequests, Unavailable
from domain.reports import dashboard
from domain.reports.schemas import Dashboard

log = logging.getLogger("homeplans.api.dashboard")

CHANNEL = "dashboard_changed"  # notified by the triggers on the rollups (migration)
COALESCE_S = 0.25  # at most one computation this often, per API process
POLL_S = 1.0  # how often the figures are computed while the listener is down
REFRESH_S = 30.0  # and at least this often while any stream is open
LISTENER_NAME = "homeplans-api dashboard listener"  # in pg_stat_activity
LIMIT_RETRY_AFTER_S = 30


@dataclass(frozen=True)
class Figures:
    """One computation: the JSON to send, and what it is compared by (all but `as_of`)."""

    json: str
    same_as: str

    @classmethod
    def of(cls, board: Dashboard) -> Figures:
        return cls(board.model_dump_json(), board.model_dump_json(exclude={"as_of"}))


class Viewer:
    """One stream's place in the hub, until `close()`."""

    def __init__(self, hub: DashboardHub, user_id: uuid.UUID) -> None:
        self.hub = hub
        self.user_id = user_id
        self._woken = asyncio.Event()
        self._closed = False
        self.gone = False  # its client went away, or the process is stopping

    def wake(self) -> None:
        self._woken.set()

    def hang_up(self) -> None:
        self.gone = True
        self._woken.set()

    async def wait(self, *, within: float) -> bool:
        """True once woken (new figures, or the stream is to end); False after `within` s."""
        try:
            async with asyncio.timeout(max(within, 0.0)):
                await self._woken.wait()
        except TimeoutError:
            return False
        self._woken.clear()
        return True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.hub._remove(self)


class DashboardHub:
    """The open dashboard streams of this process (`app.state.dashboard`), the listener and the
    refresher. `start(conninfo)` runs both in the background (the app's lifespan does)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        time_zone: str,
        currency: str,
        max_per_user: int,
    ) -> None:
        self.sessions = sessions
        self.time_zone = time_zone
        self.currency = currency
        self.max_per_user = max_per_user
        self.listening = False
        self.draining = False
        self.latest: Figures | None = None
        self.computations = 0  # how many times the figures were computed (tests, /readyz)
        self._viewers: set[Viewer] = set()
        self._per_user: Counter[uuid.UUID] = Counter()
        self._stale = asyncio.Event()
        self._watched = asyncio.Event()  # set while any stream is open
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def open_streams(self) -> int:
        return len(self._viewers)

    async def compute(self) -> Dashboard:
        """The figures as they are now (one short session)."""
        async with self.sessions() as db:
            return await dashboard.compute(
                db, now=utcnow(), time_zone=self.time_zone, currency=self.currency
            )

    def open(self, user_id: uuid.UUID) -> Viewer:
        """A place for one more stream of this user, or TooManyRequests at their limit."""
        if self.draining:
            raise Unavailable(
                "this API process is stopping; reconnect (to another one)",
                headers={"Retry-After": "1"},
            )
        if self._per_user[user_id] >= self.max_per_user:
            raise TooManyRequests(
                f"at most {self.max_per_user} live dashboards at once; close one first",
                retry_after=LIMIT_RETRY_AFTER_S,
            )
        viewer = Viewer(self, user_id)
        self._per_user[user_id] += 1
        self._viewers.add(viewer)
        self._watched.set()
        # A change committed before this viewer joined was computed for nobody: compute again.
        self.changed()
        return viewer

    def _remove(self, viewer: Viewer) -> None:
        self._viewers.discard(viewer)
        if not self._viewers:
            self._watched.clear()
        self._per_user[viewer.user_id] -= 1
        if self._per_user[viewer.user_id] <= 0:
            del self._per_user[viewer.user_id]

    def changed(self) -> None:
        """Something counted has changed: the refresher computes the figures again."""
        self._stale.set()

    def drain(self) -> None:
        """End every open stream at its next step and open no more: the process is stopping."""
        self.draining = True
        for viewer in list(self._viewers):
            viewer.hang_up()

    def start(self, conninfo: str) -> None:
        self._tasks = [
            asyncio.create_task(self.listen(conninfo), name="dashboard-listener"),
            asyncio.create_task(self.refresh(), name="dashboard-refresher"),
        ]

    async def stop(self) -> None:
        self.drain()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def refresh(self) -> None:
        """Compute the figures when they are stale (at most once per COALESCE_S) and wake every
        stream; never while no stream is open."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._viewers:
                await self._watched.wait()  # nobody watches: nothing to compute
                continue
            within = REFRESH_S if self.listening else POLL_S
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._stale.wait()
            if not self._viewers:
                continue  # stays stale until someone watches
            self._stale.clear()
            started = loop.time()
            try:
                figures = Figures.of(await self.compute())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: streams keep their last figures
                log.warning("dashboard figures not computed: %s", exc)
                self._stale.set()
            else:
                self.computations += 1
                self.latest = figures
                for viewer in list(self._viewers):
                    viewer.wake()
            # Coalesce: whatever commits meanwhile is seen by the next computation.
            await asyncio.sleep(max(0.0, COALESCE_S - (loop.time() - started)))

    async def listen(self, conninfo: str) -> None:
        """LISTEN until cancelled, reconnecting with backoff. Each (re)connection marks the
        figures stale, since changes may have gone unannounced meanwhile."""
        await listener.listen(
            conninfo,
            channel=CHANNEL,
            application_name=LISTENER_NAME,
            on_notify=lambda _payload: self.changed(),
            on_state=self._listening,
            meanwhile=f"computing the figures every {POLL_S:.0f} s",
        )

    def _listening(self, up: bool) -> None:
        self.listening = up
        self.changed()
