"""AccountVerificationWorkflow on its own: durable expiry (real length, time skipped, and a short
real one), resends, and replay of recorded histories (determinism across code changes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.settings import Settings
from domain.accounts import otp
from domain.accounts import service as accounts
from domain.contracts import (
    Channel,
    CodeSubmission,
    VerificationPurpose,
    VerificationStart,
    VerificationStatus,
)
from domain.notifications.models import Delivery
from tests.conftest import TEST_OTP_SECRET, latest_code
from worker import build_worker
from workflows.account_verification import AccountVerificationWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def _user(db: AsyncSession, email: str) -> uuid.UUID:
    user = await accounts.create_user(db, email=email, phone=None, password_hash=None)
    await db.commit()
    return user.id


def _start(
    user_id: uuid.UUID, email: str, *, ttl: int = 600, cooldown: int = 60
) -> VerificationStart:
    return VerificationStart(
        user_id=user_id,
        channel=Channel.email,
        destination=email,
        purpose=VerificationPurpose.verify,
        ttl_seconds=ttl,
        max_attempts=5,
        resend_cooldown_seconds=cooldown,
        max_resends=3,
    )


@pytest.fixture
async def skipping_worker(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> AsyncIterator[Worker]:
    worker = build_worker(time_skipping_env.client, settings, sessions=sessions)
    async with worker:
        yield worker


async def test_an_unanswered_code_expires_after_ten_minutes(
    time_skipping_env: WorkflowEnvironment,
    skipping_worker: Worker,
    settings: Settings,
    db: AsyncSession,
) -> None:
    user_id = await _user(db, "late@example.com")
    result = await time_skipping_env.client.execute_workflow(
        AccountVerificationWorkflow.run,
        _start(user_id, "late@example.com", ttl=600),
        id=f"test-expiry-{uuid.uuid4()}",
        task_queue=settings.temporal_task_queue,
    )
    assert result.status == VerificationStatus.expired
    assert result.codes_sent == 1
    # The timer ran its real length in workflow time: ten minutes after the code was sent.
    assert result.expires_at is not None
    user = await accounts.get_user(db, user_id=user_id)
    assert user.email_verified_at is None


async def test_a_short_expiry_on_a_normal_server(
    temporal: Client, worker: Worker, settings: Settings, db: AsyncSession
) -> None:
    user_id = await _user(db, "short@example.com")
    result = await temporal.execute_workflow(
        AccountVerificationWorkflow.run,
        _start(user_id, "short@example.com", ttl=2),
        id=f"test-short-{uuid.uuid4()}",
        task_queue=settings.temporal_task_queue,
    )
    assert result.status == VerificationStatus.expired


async def test_resend_sends_a_new_code_and_only_the_new_one_works(
    temporal: Client, worker: Worker, settings: Settings, db: AsyncSession
) -> None:
    user_id = await _user(db, "again@example.com")
    handle = await temporal.start_workflow(
        AccountVerificationWorkflow.run,
        _start(user_id, "again@example.com", cooldown=0),
        id=f"test-resend-{uuid.uuid4()}",
        task_queue=settings.temporal_task_queue,
    )
    await handle.execute_update(AccountVerificationWorkflow.current)
    first = await latest_code(db, "again@example.com")

    state = await handle.execute_update(AccountVerificationWorkflow.resend)
    assert state.codes_sent == 2
    assert state.resends_left == 2
    second = await latest_code(db, "again@example.com")
    sent = (
        await db.execute(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.destination == "again@example.com")
        )
    ).scalar_one()
    assert sent == 2

    def digest(code: str) -> CodeSubmission:
        return CodeSubmission(digest=otp.code_digest(TEST_OTP_SECRET, user_id, Channel.email, code))

    if first != second:  # 1 in a million they coincide; then the old-code check means nothing
        old = await handle.execute_update(AccountVerificationWorkflow.submit_code, digest(first))
        assert old.verified is False
    new = await handle.execute_update(AccountVerificationWorkflow.submit_code, digest(second))
    assert new.verified is True
    assert (await handle.result()).status == VerificationStatus.verified
    user = await accounts.get_user(db, user_id=user_id)
    assert user.email_verified_at is not None


async def test_a_retried_send_sends_the_same_code_once(
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    # Run the send activity twice with the same input, as a retry after a lost reply would.
    from temporalio.testing import ActivityEnvironment

    from activities.accounts import AccountActivities
    from domain.contracts import SendCodeInput
    from tests.conftest import outbox_notifier

    user_id = await _user(db, "once@example.com")
    acts = AccountActivities(
        sessions=sessions, settings=settings, notifier=outbox_notifier(sessions, settings)
    )
    inp = SendCodeInput(
        challenge_id=uuid.uuid4(),
        code_number=1,
        user_id=user_id,
        channel=Channel.email,
        destination="once@example.com",
        purpose=VerificationPurpose.verify,
        ttl_seconds=600,
    )
    first = await ActivityEnvironment().run(acts.send_verification_code, inp)
    second = await ActivityEnvironment().run(acts.send_verification_code, inp)
    assert first == second
    rows = (
        (await db.execute(select(Delivery).where(Delivery.destination == "once@example.com")))
        .scalars()
        .all()
    )
    assert len(rows) == 1
