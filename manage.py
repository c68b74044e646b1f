"""Operator commands.

python manage.py migrate                                    apply the migrations (alembic head)
python manage.py create-admin --email X [--name N]          a new admin account
python manage.py create-admin --email X --promote           ... or make an existing account admin
python manage.py start-subscriptions                        start the lifecycle of subscriptions
                                                            that have none (made before it existed)
python manage.py ensure-schedules                           create the Temporal Schedules that are
                                                            missing (the daily report)
python manage.py rebuild-rollups                            count the dashboard's rollups again
                                                            from the rows (after DEFAULT_TIME_ZONE
                                                            changed, or a fix made in psql)
python manage.py backup --to DIR [--temporal-sqlite F]      Temporal's store (the dev server's
                    [--temporal-database URL ...]           SQLite file F, or its PostgreSQL
                                                            databases), then the read model, in DIR
python manage.py restore --from DIR [the same options]      a backup into an EMPTY database
                                                            (DATABASE_URL) and Temporal's store
                                                            (see docs/operations.md, Backups)

The password comes from ADMIN_PASSWORD, or is asked twice on the terminal. The database is the
one of the settings (DATABASE_URL). Exit codes: 0 done, 1 the database failed, 2 bad usage or a
conflict.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from core import tracing
from core.db import make_engine, make_sessionmaker
from core.errors import Conflict
from core.logs import configure_logging
from core.security import Passwords
from core.settings import Settings, get_settings
from devstack import admin

ROOT = Path(__file__).resolve().parent
OK, DB_FAILED, USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="manage.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("migrate", help="apply the database migrations (alembic upgrade head)")
    create = commands.add_parser("create-admin", help="create an admin account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default=None, help="display name (up to 200 characters)")
    create.add_argument(
        "--promote",
        action="store_true",
        help="when the email belongs to an account already, make that account an admin",
    )
    commands.add_parser(
        "start-subscriptions",
        help="start the workflow of every live subscription that has none (safe to repeat)",
    )
    commands.add_parser(
        "ensure-schedules",
        help="create the Temporal Schedules that do not exist yet (safe to repeat)",
    )
    commands.add_parser(
        "rebuild-rollups",
        help="count the dashboard's and reports' rollups again from the rows (safe to repeat)",
    )
    for name, where, helptext in (
        ("backup", "--to", "back up Temporal's store, then the read model, into a directory"),
        ("restore", "--from", "restore a backup directory into empty databases"),
    ):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument(where, dest="directory", required=True, type=Path, metavar="DIR")
        sub.add_argument(
            "--temporal-sqlite",
            type=Path,
            default=None,
            metavar="FILE",
            help="the Temporal dev server's store (make run: .data/temporal.db)",
        )
        sub.add_argument(
            "--temporal-database",
            action="append",
            default=[],
            metavar="URL",
            help="a PostgreSQL database of Temporal's (production: temporal and"
            " temporal_visibility); repeat for each",
        )
    args = parser.parse_args(argv)
    try:
        if args.command in ("backup", "restore"):
            return backups(args)
        if args.command == "migrate":
            return migrate()
        if args.command == "start-subscriptions":
            return asyncio.run(start_subscriptions())
        if args.command == "ensure-schedules":
            return asyncio.run(ensure_schedules())
        if args.command == "rebuild-rollups":
            return asyncio.run(rebuild_rollups())
        return create_admin(args.email, name=args.name, promote=args.promote)
    except OperationalError as exc:
        _err(f"cannot use the database at {_database()}: {exc.orig or exc}")
        return DB_FAILED
    except ProgrammingError as exc:
        _err(f"database error ({exc.orig or exc}); has `python manage.py migrate` run?")
        return DB_FAILED


def backups(args: argparse.Namespace) -> int:
    from core import backups as b

    options = {
        "temporal_sqlite": args.temporal_sqlite,
        "temporal_databases": tuple(args.temporal_database),
    }
    try:
        if args.command == "backup":
            made = b.back_up(get_settings().database_url, args.directory, **options)
            print(f"backup in {made.directory}: {', '.join(made.files)}")
        else:
            done = b.restore_all(get_settings().database_url, args.directory, **options)
            print("restored: " + "; ".join(done))
            print("next: python manage.py migrate (when this code is newer than the backup)")
    except b.BackupError as exc:
        _err(str(exc))
        return USAGE
    return OK


def migrate() -> int:
    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")
    return OK


def create_admin(email: str, *, name: str | None, promote: bool) -> int:
    try:
        address = admin.admin_email(email)
    except ValueError as exc:
        _err(str(exc))
        return USAGE
    name = (name or "").strip() or None
    if name is not None and len(name) > 200:
        _err("--name is longer than 200 characters")
        return USAGE
    existing = asyncio.run(_existing_role(address))
    if existing is not None:
        if not promote:
            hint = "" if existing == "admin" else "; add --promote to make it an admin"
            _err(f"an account with the email {address} already exists ({existing}){hint}")
            return USAGE
        changed = asyncio.run(_promote(address))
        print(f"{address} is now an admin" if changed else f"{address} is already an admin")
        return OK
    password = _password()
    if password is None:
        return USAGE
    try:
        admin.check_password(password)
    except ValueError as exc:
        _err(str(exc))
        return USAGE
    if not asyncio.run(_create(address, password, name)):
        _err(f"an account with the email {address} was created meanwhile; nothing changed")
        return USAGE
    print(f"admin account created: {address}")
    return OK


async def start_subscriptions() -> int:
    """Each live subscription's workflow, started if it has none: a workflow that exists already
    (running or ended) is left as it is, so running this again changes nothing."""
    from activities.subscriptions import SubscriptionActivities
    from core.temporal import connect
    from domain.notifications.service import Notifier
    from domain.subscriptions.contracts import LIVE
    from domain.subscriptions.models import Subscription
    from providers.notifications import notification_providers
    from providers.payments import payment_provider

    settings = get_settings()
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    try:
        temporal = await connect(settings)
        starter = SubscriptionActivities(
            sessions=sessions,
            settings=settings,
            provider=payment_provider(settings, sessions=sessions),
            notifier=Notifier(sessions, notification_providers(settings), settings),
            temporal=temporal,
            task_queue=settings.temporal_task_queue,
        )
        async with sessions() as db:
            ids = (
                (
                    await db.execute(
                        select(Subscription.id).where(
                            Subscription.status.in_([s.value for s in LIVE])
                        )
                    )
                )
                .scalars()
                .all()
            )
        for subscription_id in ids:
            await starter.start_existing(subscription_id)
        print(f"{len(ids)} live subscriptions have their workflow")
        return OK
    finally:
        await engine.dispose()


async def ensure_schedules() -> int:
    """The Temporal Schedules (the daily report), created where missing; existing ones are left
    as they are."""
    from core.temporal import connect
    from domain.reports.schedules import ensure_schedules as ensure

    settings = get_settings()
    created = await ensure(await connect(settings), settings)
    print(f"schedules created: {', '.join(created)}" if created else "every schedule exists")
    return OK


async def rebuild_rollups() -> int:
    """Every rollup and state counter counted again from the rows, in one transaction."""
    from domain.reports import backfill

    async with _session() as (db, settings):
        await backfill.rebuild(db, time_zone=settings.default_time_zone)
        await db.commit()
    print(f"rollups counted again (business days in {get_settings().default_time_zone})")
    return OK


def _password() -> str | None:
    given = os.environ.get("ADMIN_PASSWORD")
    if given:
        return given
    first = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("Same password again: ") != first:
        _err("the passwords differ; nothing changed")
        return None
    return first


@asynccontextmanager
async def _session() -> AsyncIterator[tuple[AsyncSession, Settings]]:
    settings = get_settings()
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as db:
            yield db, settings
    finally:
        await engine.dispose()


async def _existing_role(email: str) -> str | None:
    async with _session() as (db, _settings):
        user = await admin.find_user(db, email)
        return None if user is None else user.role


async def _promote(email: str) -> bool:
    async with _session() as (db, _settings):
        user = await admin.find_user(db, email)
        assert user is not None
        changed = await admin.promote(db, user)
        await db.commit()
        return changed


async def _create(email: str, password: str, name: str | None) -> bool:
    async with _session() as (db, settings):
        try:
            await admin.create_admin(
                db, Passwords(settings), email=email, password=password, name=name
            )
        except Conflict:
            return False
        await db.commit()
        return True


def _database() -> str:
    try:
        return make_url(get_settings().database_url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def _err(message: str) -> None:
    print(f"manage.py: {message}", file=sys.stderr)


if __name__ == "__main__":
    configure_logging(service="homeplans-manage")
    code = main()
    tracing.flush()
    sys.stdout.flush()
    os._exit(code)  # temporalio/sdk-python#300: a client can crash at interpreter exit
