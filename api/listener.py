"""One PostgreSQL `LISTEN`, held on its own connection for as long as the API process runs.

Every hub of the API that follows changes the database announces (the catalog's revision,
a service request's events, the dashboard's figures) listens the same way, here: connect, LISTEN,
hand each notification's payload on, check an idle connection is still alive every PING_S, and on
any failure report it, fall back to the hub's own reads, and reconnect with a doubling backoff.
The hub is told when the listener comes up and goes down (`on_state`): on both it must assume
changes were missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import NoReturn

import psycopg

PING_S = 10.0  # how often an idle listener checks its connection is alive
PING_TIMEOUT_S = 5.0
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0

log = logging.getLogger(__name__)


async def listen(
    conninfo: str,
    *,
    channel: str,
    application_name: str,
    on_notify: Callable[[str], None],
    on_state: Callable[[bool], None],
    meanwhile: str,
) -> NoReturn:
    """LISTEN on `channel` until cancelled, reconnecting with backoff. `application_name` names
    the connection in pg_stat_activity (and the warnings); `meanwhile` says, in the warning of a
    lost connection, what the hub does until it is back."""
    delay = RETRY_FIRST_S
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                conninfo, autocommit=True, connect_timeout=10, application_name=application_name
            ) as conn:
                await conn.execute(f"LISTEN {channel}")
                on_state(True)
                delay = RETRY_FIRST_S
                while True:
                    async for notify in conn.notifies(timeout=PING_S):
                        on_notify(notify.payload)
                    # Quiet for a while: make sure the connection is still there (a dead one would
                    # otherwise leave the hub trusting what it last heard).
                    await asyncio.wait_for(conn.execute("SELECT 1"), PING_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure: the hub's fallback, then reconnect
            log.warning(
                "%s: %s; %s until it reconnects (in %.1f s)",
                application_name,
                exc,
                meanwhile,
                delay,
            )
        finally:
            on_state(False)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_S)
