"""How the API drives CheckoutWorkflow and RefundWorkflow: start-or-find, nudge, ask."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from core import workflow_calls
from core.settings import Settings
from domain import workflow_facts, workflow_starts
from domain.contracts import (
    CheckoutInput,
    CheckoutState,
    OrderRef,
    PaymentNudge,
    RefundInput,
    checkout_workflow_id,
)
from domain.workflow_labels import OrderFacts, RefundFacts
from workflows.checkout import CheckoutWorkflow
from workflows.late_payment import LatePaymentWorkflow
from workflows.refund import RefundWorkflow


def _checkout(temporal: Client, order_id: uuid.UUID) -> WorkflowHandle[Any, CheckoutState]:
    # Typed by the result type rather than by `get_workflow_handle_for(CheckoutWorkflow.run)`:
    # mypy 2.4 sometimes fails to infer that overload's type variables (seen with the benchmark
    # modules in the same run); the signal, update and query methods type each call anyway.
    return temporal.get_workflow_handle(checkout_workflow_id(order_id), result_type=CheckoutState)


async def begin(
    temporal: Client,
    settings: Settings,
    *,
    order_id: uuid.UUID,
    user_id: uuid.UUID,
    facts: OrderFacts,
) -> CheckoutState | None:
    """Start the order's checkout (or find the running one) and return its state once the payment
    session exists (`payment`), in one round trip (update-with-start).

    None when the order's checkout already ended (paid, failed or expired): an order is checked
    out once; a new attempt is a new order with a new Idempotency-Key. `facts` is what the
    Web UI shows of it (plans, total, masked contact).
    """
    inp = CheckoutInput(
        order_id=order_id,
        user_id=user_id,
        timeout_seconds=settings.checkout_timeout_seconds,
        reconcile_every_seconds=settings.checkout_reconcile_seconds,
    )
    operation = WithStartWorkflowOperation(
        CheckoutWorkflow.run,
        inp,
        **workflow_starts.checkout(inp, settings.temporal_task_queue, facts),
    )
    try:
        return await temporal.execute_update_with_start_workflow(
            CheckoutWorkflow.payment_session, start_workflow_operation=operation
        )
    except WorkflowAlreadyStartedError:
        # The SDK sets the same error on the operation's start future; retrieve it, or asyncio
        # logs "Future exception was never retrieved" for every repeated checkout.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await operation.workflow_handle()
        return None


async def nudge(
    temporal: Client,
    settings: Settings,
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    user_id: uuid.UUID,
    source: str,
    event_id: str | None = None,
) -> None:
    """Tell the order's checkout that the payment may have moved. When its checkout already
    ended, a LatePaymentWorkflow asks the provider and settles a payment that landed late (its
    summary read from `db` then, not for every nudge)."""
    told = await workflow_calls.reached(
        _checkout(temporal, order_id).signal(
            CheckoutWorkflow.payment_event, PaymentNudge(source=source, event_id=event_id)
        )
    )
    if told:
        return
    ref = OrderRef(order_id=order_id)
    await temporal.start_workflow(
        LatePaymentWorkflow.run,
        ref,
        **workflow_starts.late_payment(
            ref,
            settings.temporal_task_queue,
            await workflow_facts.order(db, order_id),
            user_id=user_id,
            source=source,
        ),
    )


async def confirm(temporal: Client, *, order_id: uuid.UUID, source: str) -> CheckoutState | None:
    """The app says it paid: the workflow asks the provider now and answers with the outcome.
    None when the checkout has already ended (the database has the outcome then)."""
    try:
        return await workflow_calls.update(
            _checkout(temporal, order_id),
            CheckoutWorkflow.confirm_payment,
            PaymentNudge(source=source),
            gone="the checkout has ended",
        )
    except workflow_calls.WorkflowGone:
        return None


async def checkout_state(temporal: Client, *, order_id: uuid.UUID) -> CheckoutState | None:
    return await workflow_calls.or_none(_checkout(temporal, order_id).query(CheckoutWorkflow.state))


async def start_refund(
    temporal: Client,
    settings: Settings,
    *,
    refund_id: uuid.UUID,
    order_id: uuid.UUID,
    user_id: uuid.UUID,
    facts: RefundFacts,
) -> None:
    inp = RefundInput(refund_id=refund_id, order_id=order_id, user_id=user_id)
    with contextlib.suppress(WorkflowAlreadyStartedError):  # a retry finds it running/done
        await temporal.start_workflow(
            RefundWorkflow.run,
            inp,
            **workflow_starts.refund(inp, settings.temporal_task_queue, facts),
        )
