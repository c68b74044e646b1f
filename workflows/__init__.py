"""Workflows: orchestration only. Every side effect is an activity (see activities/)."""

from workflows.account_verification import AccountVerificationWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.refund import RefundWorkflow

WORKFLOWS = [AccountVerificationWorkflow, CheckoutWorkflow, RefundWorkflow]

__all__ = ["WORKFLOWS", "AccountVerificationWorkflow", "CheckoutWorkflow", "RefundWorkflow"]
