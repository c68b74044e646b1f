"""The worker: runs every workflow and activity of the system on the configured task queue.

python worker.py            (what `make run` starts; settings from the environment)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from datetime import timedelta
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.accounts import AccountActivities
from activities.campaigns import CampaignActivities
from activities.checkout import CheckoutActivities
from activities.notifications import NotificationActivities
from activities.refunds import RefundActivities
from activities.reports import ReportActivities
from activities.service_requests import ServiceRequestActivities
from activities.subscriptions import SubscriptionActivities
from core import tracing
from core.db import make_engine, make_sessionmaker
from core.logs import configure_logging
from core.settings import Settings, get_settings
from core.temporal import connect
from core.worker_metrics import ActivityOutcomes, install_metrics_runtime
from domain.notifications.service import Notifier
from domain.reports.schedules import ensure_schedules
from providers.notifications import notification_providers
from providers.payments import payment_provider
from workflows.registry import WORKFLOWS, runner

log = logging.getLogger("homeplans.worker")


def build_worker(
    client: Client,
    settings: Settings,
    *,
    task_queue: str | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Worker:
    """A worker with every workflow and activity; the tests build theirs with this too."""
    if sessions is None:
        sessions = make_sessionmaker(make_engine(settings))
    notifier = Notifier(sessions, notification_providers(settings), settings)
    payments = payment_provider(settings, sessions=sessions)
    accounts = AccountActivities(sessions=sessions, settings=settings, notifier=notifier)
    checkout = CheckoutActivities(sessions=sessions, provider=payments, notifier=notifier)
    refunds = RefundActivities(sessions=sessions, provider=payments)
    queue = task_queue or settings.temporal_task_queue
    subscriptions = SubscriptionActivities(
        sessions=sessions,
        settings=settings,
        provider=payments,
        notifier=notifier,
        temporal=client,
        task_queue=queue,
    )
    service_requests = ServiceRequestActivities(
        sessions=sessions, notifier=notifier, temporal=client
    )
    return Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[
            accounts.send_verification_code,
            accounts.mark_contact_verified,
            *checkout.activities(),
            refunds.issue_refund,
            ReportActivities(sessions=sessions, settings=settings).compute_daily,
            *subscriptions.activities(),
            *service_requests.activities(),
            NotificationActivities(notifier).send,
            *CampaignActivities(sessions=sessions, notifier=notifier).activities(),
        ],
        # A year-long subscription waits between its few tasks: the worker keeps only the
        # recently active ones in memory, however many are alive.
        max_cached_workflows=settings.worker_max_cached_workflows,
        workflow_runner=runner(settings.worker_sandbox),
        # A stop lets the activities in flight finish (not cancelled, so not retried) this long.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
        interceptors=[ActivityOutcomes()],
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings, service="homeplans-worker")
    # Before connecting: the client's runtime serves the metrics (core/worker_metrics.py).
    install_metrics_runtime(settings.worker_metrics_address)
    client = await _connect_with_retry(settings)
    worker = build_worker(client, settings)
    try:  # once, for `make run`: the daily report's schedule (deployments: manage.py)
        await ensure_schedules(client, settings)
    except Exception as exc:  # never a reason not to run the workflows
        log.warning("could not make sure the schedules exist: %s", exc)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker polling task queue %r at %s",
        settings.temporal_task_queue,
        settings.temporal_address,
    )
    async with worker:
        await stop.wait()
        log.info(
            "stopping: no new tasks; activities running may finish within %g s",
            settings.worker_graceful_shutdown_seconds,
        )
    log.info("worker stopped")


async def _connect_with_retry(settings: Settings) -> Client:
    delay = 0.2
    for attempt in range(60):
        try:
            return await connect(settings)
        except RuntimeError as exc:  # the server is still starting
            if attempt == 59:
                raise
            log.info("waiting for Temporal at %s (%s)", settings.temporal_address, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")


def exit_now() -> NoReturn:
    """Exit once the worker has stopped, without finalizing the interpreter: the Temporal SDK's
    core threads may still call into Python while it finalizes, which aborts the process with
    "Fatal Python error: PyGILState_Release" (temporalio/sdk-python#300). Nothing is left to
    clean up by then but the buffered output and spans, flushed first."""
    tracing.flush()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the reader went away: exit anyway
            stream.flush()
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
    exit_now()
