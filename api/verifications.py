"""How the API drives AccountVerificationWorkflow: start-or-find, submit a code, resend.

Each call is one round trip to Temporal; a refused update becomes a domain error with the
workflow's own reason.
"""

from __future__ import annotations

import uuid

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError

from core import workflow_calls
from core.errors import Conflict, TooManyRequests
from core.settings import Settings
from domain import workflow_starts
from domain.accounts import otp
from domain.contracts import (
    Channel,
    CodeCheck,
    CodeSubmission,
    VerificationPurpose,
    VerificationStart,
    VerificationState,
    verification_workflow_id,
)
from workflows.account_verification import AccountVerificationWorkflow


async def start(
    temporal: Client,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    channel: Channel,
    destination: str,
    purpose: VerificationPurpose,
    restart: bool = False,
) -> VerificationState:
    """Start a verification, or return the one already pending (its code is not sent again).

    `restart` ends a pending one first: the contact it was sending to has changed.
    """
    inp = VerificationStart(
        user_id=user_id,
        channel=channel,
        destination=destination,
        purpose=purpose,
        ttl_seconds=settings.otp_ttl_seconds,
        max_attempts=settings.otp_max_attempts,
        resend_cooldown_seconds=settings.otp_resend_cooldown_seconds,
        max_resends=settings.otp_max_resends,
    )
    options = workflow_starts.verification(inp, settings.temporal_task_queue)
    if restart:  # none pending is fine: there is nothing to end
        await workflow_calls.reached(
            temporal.get_workflow_handle(options["id"]).terminate(reason="contact changed")
        )
    operation = WithStartWorkflowOperation(AccountVerificationWorkflow.run, inp, **options)
    return await temporal.execute_update_with_start_workflow(
        AccountVerificationWorkflow.current, start_workflow_operation=operation
    )


async def submit_code(
    temporal: Client,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    channel: Channel,
    purpose: VerificationPurpose,
    code: str,
) -> CodeCheck:
    digest = otp.code_digest(settings.otp_secret.get_secret_value(), user_id, channel, code)
    # Typed by the result; the update methods type each call (see api/checkouts.py on why
    # not get_workflow_handle_for).
    handle = temporal.get_workflow_handle(
        verification_workflow_id(purpose, user_id, channel), result_type=VerificationState
    )
    return await workflow_calls.update(
        handle,
        AccountVerificationWorkflow.submit_code,
        CodeSubmission(digest=digest),
        gone="no code is pending; request a new one",
    )


async def resend(
    temporal: Client, *, user_id: uuid.UUID, channel: Channel, purpose: VerificationPurpose
) -> VerificationState:
    # Typed by the result; the update methods type each call (see api/checkouts.py on why
    # not get_workflow_handle_for).
    handle = temporal.get_workflow_handle(
        verification_workflow_id(purpose, user_id, channel), result_type=VerificationState
    )
    try:
        state = await workflow_calls.or_none(
            handle.execute_update(AccountVerificationWorkflow.resend)
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "ResendCooldown":
            raise TooManyRequests(cause.message, retry_after=int(cause.details[0])) from exc
        raise Conflict(f"{workflow_calls.reason(exc)}: {what_works(purpose, channel)}") from exc
    if state is None:
        raise Conflict(f"no code is pending to send again: {what_works(purpose, channel)}")
    return state


def what_works(purpose: VerificationPurpose, channel: Channel) -> str:
    """What a user does when a code can no longer be used or sent again: a new start."""
    if purpose == VerificationPurpose.login:
        return "ask for a new sign-in code with POST /api/v1/auth/phone/start"
    return f"start a new verification with POST /api/v1/auth/verification/{channel.value}"
