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
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import Conflict, TooManyRequests
from core.settings import Settings
from domain.accounts import otp
from domain.contracts import (
    CUSTOMER_ID,
    FLOW_STATUS,
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
    workflow_id = verification_workflow_id(purpose, user_id, channel)
    if restart:
        try:
            await temporal.get_workflow_handle(workflow_id).terminate(reason="contact changed")
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
    operation = WithStartWorkflowOperation(
        AccountVerificationWorkflow.run,
        VerificationStart(
            user_id=user_id,
            channel=channel,
            destination=destination,
            purpose=purpose,
            ttl_seconds=settings.otp_ttl_seconds,
            max_attempts=settings.otp_max_attempts,
            resend_cooldown_seconds=settings.otp_resend_cooldown_seconds,
            max_resends=settings.otp_max_resends,
        ),
        id=workflow_id,
        task_queue=settings.temporal_task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, str(user_id)),
                SearchAttributePair(FLOW_STATUS, "pending"),
            ]
        ),
        static_summary=f"{purpose.value} {channel.value} of user {user_id}",
    )
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
    try:
        return await handle.execute_update(
            AccountVerificationWorkflow.submit_code, CodeSubmission(digest=digest)
        )
    except WorkflowUpdateFailedError as exc:
        raise Conflict(_reason(exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("no code is pending; request a new one") from exc
        raise


async def resend(
    temporal: Client, *, user_id: uuid.UUID, channel: Channel, purpose: VerificationPurpose
) -> VerificationState:
    # Typed by the result; the update methods type each call (see api/checkouts.py on why
    # not get_workflow_handle_for).
    handle = temporal.get_workflow_handle(
        verification_workflow_id(purpose, user_id, channel), result_type=VerificationState
    )
    try:
        return await handle.execute_update(AccountVerificationWorkflow.resend)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "ResendCooldown":
            raise TooManyRequests(cause.message, retry_after=int(cause.details[0])) from exc
        raise Conflict(f"{_reason(exc)}: {what_works(purpose, channel)}") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(
                f"no code is pending to send again: {what_works(purpose, channel)}"
            ) from exc
        raise


def what_works(purpose: VerificationPurpose, channel: Channel) -> str:
    """What a user does when a code can no longer be used or sent again: a new start."""
    if purpose == VerificationPurpose.login:
        return "ask for a new sign-in code with POST /api/v1/auth/phone/start"
    return f"start a new verification with POST /api/v1/auth/verification/{channel.value}"


def _reason(exc: WorkflowUpdateFailedError) -> str:
    cause = exc.cause
    return getattr(cause, "message", None) or str(cause or exc)
