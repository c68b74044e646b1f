"""A small asyncio process supervisor: children with name-prefixed output, started in order,
stopped in reverse order with the signal each one expects.

Each child runs in a process group of its own. A terminal's Ctrl-C (or a `kill` of the
supervisor's group) then reaches the supervisor alone, which stops the children one group after
the other; were they in its group, they would all get the signal at once and stop in any order,
PostgreSQL first as often as not while the API still answers requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

T = TypeVar("T")

SYSTEM = "devstack"
_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92")


class StartupError(Exception):
    """A start step failed; the message is printed as the reason for stopping."""


class Stopping(Exception):
    """A stop was requested while a start step was waiting."""


class Printer:
    """Writes `name | line` to a stream, names padded to one column, coloured on a terminal."""

    def __init__(self, stream: TextIO = sys.stdout, width: int = len(SYSTEM)) -> None:
        self._stream = stream
        self.width = width
        self._colour = stream.isatty() and "NO_COLOR" not in os.environ
        self._colours: dict[str, str] = {}

    def line(self, name: str, text: str) -> None:
        label = name.ljust(self.width)
        if self._colour:
            code = self._colours.setdefault(name, _COLOURS[len(self._colours) % len(_COLOURS)])
            label = f"\033[{code}m{label}\033[0m"
        try:
            self._stream.write(f"{label} | {text}\n")
            self._stream.flush()
        # The reader went away (a closed pipe; a closed terminal, EIO): keep supervising anyway.
        # The children are out of the terminal's reach, so stopping them is up to the supervisor.
        except (OSError, ValueError):
            pass

    def system(self, text: str) -> None:
        self.line(SYSTEM, text)


@dataclass
class Child:
    name: str
    proc: asyncio.subprocess.Process
    stop_signal: int = signal.SIGTERM
    # What to send when the stop signal was not enough (PostgreSQL: SIGQUIT, immediate shutdown).
    kill_signal: int = signal.SIGKILL
    long_running: bool = True
    # Shutdown chatter (the Temporal dev server's is a screenful of warnings) says nothing.
    quiet_when_stopping: bool = False
    captured: bytearray | None = field(default=None, repr=False)
    pump: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def poll(self) -> int | None:
        return self.proc.returncode

    def send(self, sig: int) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
                self.proc.send_signal(sig)


class Supervisor:
    """Starts children, watches the long-running ones, and stops them all on request or when one
    of them dies."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.children: list[Child] = []
        self.stop_requested = asyncio.Event()
        self.failure: str | None = None
        self._watchers: list[asyncio.Task[None]] = []

    # --- starting -----------------------------------------------------------------------------

    async def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
        kill_signal: int = signal.SIGKILL,
        long_running: bool = True,
        quiet: bool = False,
        quiet_when_stopping: bool = False,
        capture: bool = False,
    ) -> Child:
        if self.stop_requested.is_set():
            raise Stopping
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            user=user,
            process_group=0,  # out of the terminal's foreground group: see the module docstring
        )
        child = Child(name, proc, stop_signal, kill_signal, long_running, quiet_when_stopping)
        if capture:
            child.captured = bytearray()
        self.printer.width = max(self.printer.width, len(name))
        child.pump = asyncio.create_task(self._pump(child, quiet=quiet))
        self.children.append(child)
        if long_running:
            self._watchers.append(asyncio.create_task(self._watch(child)))
        return child

    async def run_once(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        quiet: bool = False,
    ) -> int:
        """Run a one-shot step to its end, its output shown; returns its exit code."""
        code, _output = await self._once(name, argv, env=env, cwd=cwd, quiet=quiet, capture=False)
        return code

    async def capture(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str]
    ) -> tuple[int, str]:
        """Run a one-shot step to its end, its output kept; returns its exit code and output."""
        return await self._once(name, argv, env=env, cwd=None, quiet=True, capture=True)

    async def _once(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None,
        quiet: bool,
        capture: bool,
    ) -> tuple[int, str]:
        child = await self.spawn(
            name, argv, env=env, cwd=cwd, long_running=False, quiet=quiet, capture=capture
        )
        code = await self.until_stopped(child.proc.wait())
        if child.pump is not None:
            await child.pump
        output = bytes(child.captured or b"").decode("utf-8", "replace")
        return code, output

    async def until_stopped(self, awaitable: Awaitable[T]) -> T:
        """Await something, giving up (raising Stopping) as soon as a stop is requested."""
        task = asyncio.ensure_future(awaitable)
        stop = asyncio.create_task(self.stop_requested.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            raise Stopping
        return task.result()

    # --- stopping -----------------------------------------------------------------------------

    def request_stop(self, reason: str | None = None) -> None:
        if not self.stop_requested.is_set():
            if reason:
                self.printer.system(reason)
            self.stop_requested.set()
            return
        # A second Ctrl-C: the user does not want to wait for a graceful stop.
        self.printer.system("stopping now")
        for child in self.children:
            child.send(child.kill_signal)

    def fail(self, message: str) -> None:
        if self.failure is None and not self.stop_requested.is_set():
            self.failure = message
            self.stop_requested.set()

    async def stop_all(self, groups: Sequence[Sequence[str]], *, timeout_s: float = 15.0) -> None:
        """Stop the children group by group (names; unnamed children go first), then reap."""
        named = {name for group in groups for name in group}
        ordered = [[c.name for c in self.children if c.name not in named], *groups]
        for group in ordered:
            await self._stop_group([c for c in self.children if c.name in group], timeout_s)
        for watcher in self._watchers:
            watcher.cancel()
        pumps = [c.pump for c in self.children if c.pump is not None]
        if pumps:
            # A grandchild that kept the pipe open must not keep the supervisor from exiting.
            await asyncio.wait(pumps, timeout=2.0)
            for pump in pumps:
                pump.cancel()

    async def _stop_group(self, group: list[Child], timeout_s: float) -> None:
        running = [c for c in group if c.returncode is None]
        if not running:
            return
        for child in running:
            self.printer.system(f"stopping {child.name}")
            child.send(child.stop_signal)
        waits = [asyncio.create_task(c.proc.wait()) for c in running]
        _done, pending = await asyncio.wait(waits, timeout=timeout_s)
        if pending:
            for child in running:
                if child.returncode is None:
                    self.printer.system(f"{child.name} did not stop in {timeout_s:.0f} s; killing")
                    child.send(child.kill_signal)
            _done, pending = await asyncio.wait(pending, timeout=5.0)
        for child in running:
            if child.returncode is None:
                child.send(signal.SIGKILL)
        if pending:
            await asyncio.wait(pending, timeout=5.0)

    # --- internals ----------------------------------------------------------------------------

    async def _watch(self, child: Child) -> None:
        code = await child.proc.wait()
        # A terminal's Ctrl-C does not reach the children (their own process groups): one
        # that exits before the supervisor asked it to did so on its own.
        if not self.stop_requested.is_set():
            self.fail(f"{child.name} exited unexpectedly ({describe_exit(code)})")

    async def _pump(self, child: Child, *, quiet: bool) -> None:
        stream = child.proc.stdout
        assert stream is not None
        pending = b""
        while True:
            # Chunks, not readline(): a very long log line must not break the pump.
            chunk = await stream.read(65536)
            if not chunk:
                break
            if child.captured is not None:
                child.captured += chunk
            pending += chunk
            *lines, pending = pending.split(b"\n")
            quiet = quiet or (child.quiet_when_stopping and self.stop_requested.is_set())
            if not quiet:
                for raw in lines:
                    self.printer.line(child.name, raw.decode("utf-8", "replace").rstrip("\r"))
        if pending and not quiet:
            self.printer.line(child.name, pending.decode("utf-8", "replace").rstrip("\r"))


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
