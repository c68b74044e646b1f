"""Every workflow the worker runs (`worker.build_worker`) and the replay test replays, and the
sandbox they run in."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.account_verification import AccountVerificationWorkflow
from workflows.campaign import CampaignWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.daily_report import DailyReportWorkflow
from workflows.late_payment import LatePaymentWorkflow
from workflows.refund import RefundWorkflow
from workflows.service_request import ServiceRequestWorkflow
from workflows.subscription import SubscriptionWorkflow

WORKFLOWS = [
    AccountVerificationWorkflow,
    CampaignWorkflow,
    CheckoutWorkflow,
    DailyReportWorkflow,
    LatePaymentWorkflow,
    RefundWorkflow,
    ServiceRequestWorkflow,
    SubscriptionWorkflow,
]

# The sandbox still refuses what would make a workflow non-deterministic (the clock, randomness,
# I/O, threads) when workflow code calls it. What it no longer does is import modules afresh for
# every run it brings into the cache: every module is passed through (imported once, shared).
# Workflow modules and what they import hold no state of their own (classes and constants only;
# keep it so), and the re-import was most of the cost of waking a workflow that had left the
# cache, which a reminder on a year-long subscription always has. All of them, not only this
# package: a model whose annotations are resolved on first use (pydantic) looks its module up in
# the sandbox's `sys.modules`, which must then hold it.
RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
)
