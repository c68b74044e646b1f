"""Retry policies and timeouts the workflows share: one home, so a change is made once.

A value here is part of the commands a workflow issues (an activity's retry policy and timeout),
but not of what replay compares, so changing it does not break a recorded history; it changes how
every running workflow retries from its next command on.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# A write to (or read of) our own database: quick to retry, for as long as it takes.
DB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# One database step (an activity or local activity that reads or writes the read model).
STEP_TIMEOUT = timedelta(seconds=30)
# One campaign step (freezing the audience into campaign_recipients, writing a status): it may
# read the whole customer base, so it has minutes, not seconds.
CAMPAIGN_STEP_TIMEOUT = timedelta(minutes=5)
