"""Workflows: orchestration only. Every side effect is an activity (see activities/)."""

from workflows.account_verification import AccountVerificationWorkflow
from workflows.checkout import CheckoutWorkflow, LatePaymentWorkflow
from workflows.refund import RefundWorkflow

WORKFLOWS = [AccountVerificationWorkflow, CheckoutWorkflow, LatePaymentWorkflow, RefundWorkflow]

__all__ = [
    "WORKFLOWS",
    "AccountVerificationWorkflow",
    "CheckoutWorkflow",
    "LatePaymentWorkflow",
    "RefundWorkflow",
]
