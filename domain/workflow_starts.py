"""How each flow's workflow is started: its id, its search attributes, its summary and details in
the Web UI, and what a start finds when a workflow of that id exists (id conflict and reuse
policies). One function per flow, given the workflow's typed input and the display facts its
summary needs (`domain/workflow_labels.py`: a plan's name, an amount, a masked contact); the
caller names the workflow and spreads the options:

    await temporal.start_workflow(
        RefundWorkflow.run, inp, **workflow_starts.refund(inp, queue, facts)
    )

The display facts are given beside the input, never inside it: the input is kept in the
workflow's history, the summary and details are metadata the Web UI shows.

Every start of a flow goes through its function here, so the workflow is found by the same id
and filtered by the same search attributes wherever it was started: the API (with the workflow's
typed `run`) and the activities (by the workflow's name: activities never import workflows/).

Every flow starts with USE_EXISTING: a second start while one runs finds it (a retried request,
a concurrent click). What a start does once the workflow has ended is the flow's reuse policy.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from domain import workflow_labels as labels
from domain.campaigns.contracts import (
    CampaignRun,
    CampaignStatus,
    TestSend,
    campaign_test_key,
    campaign_workflow_id,
)
from domain.contracts import (
    CUSTOMER_ID,
    FLOW_STATUS,
    ORDER_ID,
    PLAN_ID,
    REQUEST_ID,
    REQUEST_STATUS,
    SUBSCRIPTION_ENDS_AT,
    SUBSCRIPTION_ID,
    CheckoutInput,
    CheckoutStatus,
    OrderRef,
    RefundInput,
    VerificationStart,
    checkout_workflow_id,
    late_payment_workflow_id,
    refund_workflow_id,
    verification_workflow_id,
)
from domain.display import Customer
from domain.service_requests.contracts import RequestInput, service_request_workflow_id
from domain.subscriptions.contracts import (
    RENEWAL_PAID_SIGNAL,
    RenewalPaid,
    SubscriptionInput,
    subscription_workflow_id,
)


class StartOptions(TypedDict):
    """The keyword arguments of `Client.start_workflow` and `WithStartWorkflowOperation` that
    say which workflow this is and how it is started."""

    id: str
    task_queue: str
    id_conflict_policy: WorkflowIDConflictPolicy
    id_reuse_policy: WorkflowIDReusePolicy
    search_attributes: TypedSearchAttributes | None
    static_summary: str
    static_details: str
    # A workflow that continues as new keeps its label in its memo too (labels.Label.memo).
    memo: NotRequired[dict[str, Any]]


class SignalStartOptions(StartOptions):
    """`Client.start_workflow` with a signal sent with the start (signal-with-start)."""

    start_signal: NotRequired[str]
    start_signal_args: NotRequired[list[Any]]


def _options(
    workflow_id: str,
    task_queue: str,
    *,
    reuse: WorkflowIDReusePolicy,
    label: labels.Label,
    attributes: list[SearchAttributePair[Any]] | None,
) -> StartOptions:
    return StartOptions(
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=reuse,
        search_attributes=None if attributes is None else TypedSearchAttributes(attributes),
        static_summary=label.summary,
        static_details=label.details,
    )


# The SDK's default: a start after the workflow ended starts a new run.
NEW_RUN_AFTER_END = WorkflowIDReusePolicy.ALLOW_DUPLICATE


def verification(inp: VerificationStart, task_queue: str) -> StartOptions:
    """AccountVerificationWorkflow: one pending per (purpose, user, channel); a new one once
    it has ended (verified, expired, locked)."""
    return _options(
        verification_workflow_id(inp.purpose, inp.user_id, inp.channel),
        task_queue,
        reuse=NEW_RUN_AFTER_END,
        label=labels.verification(
            inp.user_id,
            purpose=inp.purpose.value,
            channel=inp.channel.value,
            destination=inp.destination,
        ),
        attributes=[
            SearchAttributePair(CUSTOMER_ID, str(inp.user_id)),
            SearchAttributePair(FLOW_STATUS, "pending"),
        ],
    )


def checkout(inp: CheckoutInput, task_queue: str, facts: labels.OrderFacts) -> StartOptions:
    """CheckoutWorkflow: an order is checked out once; a start after it ended is refused
    (WorkflowAlreadyStartedError)."""
    return _options(
        checkout_workflow_id(inp.order_id),
        task_queue,
        reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        label=labels.checkout(inp.order_id, facts),
        attributes=[
            SearchAttributePair(CUSTOMER_ID, str(inp.user_id)),
            SearchAttributePair(ORDER_ID, str(inp.order_id)),
            SearchAttributePair(FLOW_STATUS, CheckoutStatus.creating_session.value),
        ],
    )


def late_payment(
    ref: OrderRef,
    task_queue: str,
    facts: labels.OrderFacts,
    *,
    user_id: uuid.UUID,
    source: str,
) -> StartOptions:
    """LatePaymentWorkflow: a payment event for an order whose checkout had ended; one at a
    time per order, a new one for a later event."""
    return _options(
        late_payment_workflow_id(ref.order_id),
        task_queue,
        reuse=NEW_RUN_AFTER_END,
        label=labels.late_payment(ref.order_id, facts, source),
        attributes=[
            SearchAttributePair(CUSTOMER_ID, str(user_id)),
            SearchAttributePair(ORDER_ID, str(ref.order_id)),
        ],
    )


def refund(inp: RefundInput, task_queue: str, facts: labels.RefundFacts) -> StartOptions:
    """RefundWorkflow started by the API (a subscription's cancellation starts its refunds as
    child workflows). Only a refund whose workflow failed is run again by a retried request."""
    return _options(
        refund_workflow_id(inp.refund_id),
        task_queue,
        reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        label=labels.refund(inp.refund_id, inp.order_id, facts),
        attributes=[
            SearchAttributePair(CUSTOMER_ID, str(inp.user_id)),
            SearchAttributePair(ORDER_ID, str(inp.order_id)),
        ],
    )


def campaign(inp: CampaignRun, task_queue: str, facts: labels.CampaignFacts) -> StartOptions:
    """CampaignWorkflow: a campaign is started once; its id is never used again after it ends."""
    label = labels.campaign(
        inp.campaign_id, facts, batch_size=inp.batch_size, rate=inp.rate_per_second
    )
    options = _options(
        campaign_workflow_id(inp.campaign_id),
        task_queue,
        reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        label=label,
        attributes=[SearchAttributePair(FLOW_STATUS, CampaignStatus.running.value)],
    )
    return StartOptions(**options, memo=label.memo())


def campaign_test(
    test: TestSend, task_queue: str, facts: labels.CampaignFacts, staff: Customer
) -> StartOptions:
    """CampaignTestWorkflow: one per test send; a retried request finds the one it started."""
    return _options(
        campaign_test_key(test.campaign_id, test.test_id),
        task_queue,
        reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        label=labels.campaign_test(test.campaign_id, facts, staff),
        attributes=None,
    )


def service_request(inp: RequestInput, task_queue: str, facts: labels.RequestFacts) -> StartOptions:
    """ServiceRequestWorkflow: the same request again is the same workflow."""
    return _options(
        service_request_workflow_id(inp.request_id),
        task_queue,
        reuse=NEW_RUN_AFTER_END,
        label=labels.service_request(
            inp.request_id,
            facts,
            postal_code=inp.postal_code,
            window_start=inp.window_start,
            window_end=inp.window_end,
        ),
        attributes=[
            SearchAttributePair(REQUEST_ID, str(inp.request_id)),
            SearchAttributePair(CUSTOMER_ID, str(inp.user_id)),
            SearchAttributePair(SUBSCRIPTION_ID, str(inp.subscription_id)),
            SearchAttributePair(REQUEST_STATUS, "pending"),
        ],
    )


def subscription(
    inp: SubscriptionInput,
    task_queue: str,
    facts: labels.SubscriptionFacts,
    *,
    renewal: RenewalPaid | None = None,
) -> SignalStartOptions:
    """SubscriptionWorkflow. Without `renewal`, started once, ever: a retry after the workflow
    has even ended finds the first run. With `renewal`, the renewal is signalled with the start
    (signal-with-start): a renewal may come after the workflow ended (expired), and gets a new
    run; a signal sent twice (a retry) is one period, recorded once per order."""
    ends: datetime = inp.upcoming[-1].ends_at if inp.upcoming else inp.period.ends_at
    label = labels.subscription(
        inp.subscription_id,
        inp.user_id,
        facts,
        period=inp.period.number,
        starts_at=inp.period.starts_at,
        ends_at=inp.period.ends_at,
        renewed_until=inp.upcoming[-1].ends_at if inp.upcoming else None,
    )
    options = _options(
        subscription_workflow_id(inp.subscription_id),
        task_queue,
        reuse=(
            WorkflowIDReusePolicy.REJECT_DUPLICATE
            if renewal is None
            else WorkflowIDReusePolicy.ALLOW_DUPLICATE
        ),
        label=label,
        attributes=[
            SearchAttributePair(SUBSCRIPTION_ID, str(inp.subscription_id)),
            SearchAttributePair(PLAN_ID, str(inp.plan_id)),
            SearchAttributePair(CUSTOMER_ID, str(inp.user_id)),
            SearchAttributePair(FLOW_STATUS, inp.status.value),
            SearchAttributePair(SUBSCRIPTION_ENDS_AT, ends),
        ],
    )
    options["memo"] = label.memo()
    if renewal is None:
        return SignalStartOptions(**options)
    return SignalStartOptions(
        **options, start_signal=RENEWAL_PAID_SIGNAL, start_signal_args=[renewal]
    )
