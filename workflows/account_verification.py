"""AccountVerificationWorkflow: prove that an email address or phone number is the user's.

Lifecycle: send a code -> wait for it under a durable expiry timer -> verified | expired | locked
(too many wrong codes). A resend issues a new code after a cooldown and restarts the expiry. The
same workflow signs a user in by phone (purpose `login`): the API issues tokens once it returns
verified.

Codes never enter the history: the send activity returns an HMAC digest of the code it sent and the
API submits the digest of what the user typed.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.accounts import AccountActivities
    from domain import workflow_timers as timers
    from domain.contracts import (
        FLOW_STATUS,
        CodeCheck,
        CodeSubmission,
        MarkVerifiedInput,
        SendCodeInput,
        VerificationStart,
        VerificationState,
        VerificationStatus,
    )

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["InvalidDestination"],
)


@workflow.defn
class AccountVerificationWorkflow:
    @workflow.init
    def __init__(self, start: VerificationStart) -> None:
        self._start = start
        self._status = VerificationStatus.pending
        self._attempts_left = start.max_attempts
        self._resends_left = start.max_resends
        self._codes_sent = 0
        self._expected_digest: str | None = None
        self._expires_at: datetime | None = None
        self._last_sent_at: datetime | None = None
        self._sending = False
        self._deadline_moved = False

    @workflow.run
    async def run(self, start: VerificationStart) -> VerificationState:
        self._challenge_id = workflow.uuid4()
        try:
            await self._send_code()
        except ActivityError:
            workflow.logger.warning("verification code could not be delivered")
            self._set_status(VerificationStatus.failed)
        while self._status == VerificationStatus.pending:
            if self._sending:  # a resend is under way; its success moves the deadline
                await workflow.wait_condition(lambda: not self._sending)
                continue
            assert self._expires_at is not None
            self._deadline_moved = False
            remaining = max(self._expires_at - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._status != VerificationStatus.pending
                        or self._deadline_moved
                        or self._sending
                    ),
                    timeout=remaining,
                    timeout_summary=timers.code_expiry(self._expires_at),
                )
            except TimeoutError:
                if self._status == VerificationStatus.pending and not self._sending:
                    self._set_status(VerificationStatus.expired)
        # Let an update that is still recording the verification finish before we complete.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    # --- updates -----------------------------------------------------------------------------

    @workflow.update
    async def submit_code(self, submission: CodeSubmission) -> CodeCheck:
        assert self._expected_digest is not None
        if not hmac.compare_digest(submission.digest, self._expected_digest):
            self._attempts_left -= 1
            if self._attempts_left <= 0:
                self._set_status(VerificationStatus.locked)
            return CodeCheck(verified=False, status=self._status, attempts_left=self._attempts_left)
        # Refuse further submissions while the verification is being recorded.
        self._expected_digest = None
        await workflow.execute_activity_method(
            AccountActivities.mark_contact_verified,
            MarkVerifiedInput(
                user_id=self._start.user_id,
                channel=self._start.channel,
                destination=self._start.destination,
                verified_at=workflow.now(),
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        self._set_status(VerificationStatus.verified)
        return CodeCheck(verified=True, status=self._status, attempts_left=self._attempts_left)

    @submit_code.validator
    def _validate_submit(self, submission: CodeSubmission) -> None:
        self._ensure_open()
        if self._expected_digest is None:
            raise ValueError("a code is being sent or recorded; try again in a moment")

    @workflow.update
    async def resend(self) -> VerificationState:
        # A failed send fails this update and leaves the previous code valid.
        await self._send_code()
        self._resends_left -= 1
        self._deadline_moved = True
        return self.state()

    @resend.validator
    def _validate_resend(self) -> None:
        self._ensure_open()
        if self._sending:
            raise ValueError("a code is being sent; try again in a moment")
        if self._resends_left <= 0:
            raise ValueError("no more codes can be sent for this verification; start a new one")
        available = self._resend_available_at()
        if available is not None and workflow.now() < available:
            wait = int((available - workflow.now()).total_seconds()) + 1
            raise ApplicationError(
                f"a new code can be sent in {wait} s",
                wait,
                type="ResendCooldown",
                non_retryable=True,
            )

    @workflow.update
    async def current(self) -> VerificationState:
        """The state once the first code has been sent (or could not be): what the API returns
        when it starts (or finds) this verification."""
        await workflow.wait_condition(
            lambda: self._codes_sent > 0 or self._status != VerificationStatus.pending
        )
        return self.state()

    @workflow.query
    def state(self) -> VerificationState:
        return VerificationState(
            status=self._status,
            channel=self._start.channel,
            attempts_left=self._attempts_left,
            resends_left=self._resends_left,
            codes_sent=self._codes_sent,
            expires_at=self._expires_at,
            resend_available_at=self._resend_available_at(),
        )

    # --- helpers -----------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._status != VerificationStatus.pending:
            raise ValueError(f"this verification is {self._status.value}")
        if self._expires_at is not None and workflow.now() >= self._expires_at:
            raise ValueError("this verification is expired")

    def _resend_available_at(self) -> datetime | None:
        if self._last_sent_at is None:
            return None
        return self._last_sent_at + timedelta(seconds=self._start.resend_cooldown_seconds)

    def _set_status(self, status: VerificationStatus) -> None:
        self._status = status
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(status.value)])

    async def _send_code(self) -> None:
        number = self._codes_sent + 1
        self._sending = True
        try:
            sent = await workflow.execute_activity_method(
                AccountActivities.send_verification_code,
                SendCodeInput(
                    challenge_id=self._challenge_id,
                    code_number=number,
                    user_id=self._start.user_id,
                    channel=self._start.channel,
                    destination=self._start.destination,
                    purpose=self._start.purpose,
                    ttl_seconds=self._start.ttl_seconds,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(seconds=self._start.ttl_seconds),
                retry_policy=ACTIVITY_RETRY,
            )
        finally:
            self._sending = False
        self._codes_sent = number
        self._expected_digest = sent.digest
        self._attempts_left = self._start.max_attempts
        # The expiry runs from when the code was actually sent.
        self._last_sent_at = workflow.now()
        self._expires_at = workflow.now() + timedelta(seconds=self._start.ttl_seconds)
