"""Every workflow the worker runs (`worker.build_worker`) and the replay test replays."""

from __future__ import annotations

from workflows.account_verification import AccountVerificationWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.daily_report import DailyReportWorkflow
from workflows.late_payment import LatePaymentWorkflow
from workflows.refund import RefundWorkflow
from workflows.service_request import ServiceRequestWorkflow
from workflows.subscription import SubscriptionWorkflow

WORKFLOWS = [
    AccountVerificationWorkflow,
    CheckoutWorkflow,
    DailyReportWorkflow,
    LatePaymentWorkflow,
    RefundWorkflow,
    ServiceRequestWorkflow,
    SubscriptionWorkflow,
]
