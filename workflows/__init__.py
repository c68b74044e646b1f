"""Workflows: orchestration only. Every side effect is an activity (see activities/)."""

from workflows.account_verification import AccountVerificationWorkflow

WORKFLOWS = [AccountVerificationWorkflow]

__all__ = ["WORKFLOWS", "AccountVerificationWorkflow"]
