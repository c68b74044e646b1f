"""Every workflow the worker runs (`worker.build_worker`) and the replay test replays, and the
sandbox they run in."""

from __future__ import annotations

from typing import Literal

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.account_verification import AccountVerificationWorkflow
from workflows.campaign import CampaignWorkflow
from workflows.campaign_test import CampaignTestWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.daily_report import DailyReportWorkflow
from workflows.late_payment import LatePaymentWorkflow
from workflows.refund import RefundWorkflow
from workflows.service_request import ServiceRequestWorkflow
from workflows.subscription import SubscriptionWorkflow

WORKFLOWS = [
    AccountVerificationWorkflow,
    CampaignWorkflow,
    CampaignTestWorkflow,
    CheckoutWorkflow,
    DailyReportWorkflow,
    LatePaymentWorkflow,
    RefundWorkflow,
    ServiceRequestWorkflow,
    SubscriptionWorkflow,
]

# STRICT is the SDK's own sandbox: it imports a workflow's modules afresh for every run it brings
# into the cache and hands them guarded stand-ins of what is non-deterministic (the clock,
# randomness, I/O), so a workflow that calls one fails. SHARED passes every module through: imported
# once, shared by every run, the workflow modules' own guards gone (their imports are the real
# modules); the re-import was most of the cost of waking a workflow that had left the cache, which
# a reminder on a year-long subscription always has. Workflow modules hold no state of their own
# (classes and constants only; keep it so). The worker runs SHARED unless WORKER_SANDBOX=strict;
# the tests and the replay test run STRICT, so a non-deterministic call still fails a test.
STRICT = SandboxedWorkflowRunner()
SHARED = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
)


def runner(mode: Literal["shared", "strict"]) -> SandboxedWorkflowRunner:
    return SHARED if mode == "shared" else STRICT
