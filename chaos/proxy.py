"""A TCP proxy run by the harness (asyncio): each worker reaches PostgreSQL and Temporal through
its own, so a network cut between one worker and one server is this proxy stopped (every open
connection dropped, new ones refused) and started again on the same port."""

from __future__ import annotations

import asyncio
import contextlib


class Proxy:
    def __init__(self, name: str, port: int, target_port: int, host: str = "127.0.0.1") -> None:
        self.name, self.port, self.target_port, self.host = name, port, target_port, host
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self.cuts = 0

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, self.host, self.port, reuse_address=True
            )

    async def cut(self) -> None:
        """Stop listening and drop every open connection at once (RST, like a cable pulled)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        self.cuts += 1

    async def close(self) -> None:
        await self.cut()
        for task in list(self._pipes):
            task.cancel()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            client_w.transport.abort()
            return
        if self._server is None:  # cut while connecting
            client_w.transport.abort()
            up_w.transport.abort()
            return
        self._open.update((client_w, up_w))
        for src, dst in ((client_r, up_w), (up_r, client_w)):
            task = asyncio.create_task(self._pipe(src, dst, (client_w, up_w)))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One side ended: end both (a half-open pair would hang its client).
            for writer in pair:
                self._open.discard(writer)
                with contextlib.suppress(Exception):
                    writer.transport.abort()
