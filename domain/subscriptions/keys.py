"""The keys a subscription's writes and messages are idempotent by, built and read here alone.

    sub:{id}:period:{n}                 the renewal order of period n (and the provider's key)
    sub:{id}:period:{n}:retry:{k}       its k-th dunning retry (a new order)
    sub:{id}:period:{n}:{kind}          a change or message of period n (timeline and outbox)

They are stored (orders.idempotency_key, subscription_events.event_key, the outbox) and sent to
payment providers: every one must stay byte-identical across versions. Pure: the workflow
imports this module too.
"""

from __future__ import annotations

import uuid

PREFIX = "sub:"


def period_key(subscription_id: uuid.UUID | str, period: int, kind: str | None = None) -> str:
    """`sub:{id}:period:{n}`, or `sub:{id}:period:{n}:{kind}` for a change or message of it."""
    key = f"{PREFIX}{subscription_id}:period:{period}"
    return key if kind is None else f"{key}:{kind}"


def renewal_key(subscription_id: uuid.UUID | str, period: int, attempt: int = 0) -> str:
    """The renewal order that pays for period `period`: its first charge (`attempt` 0), or
    the `attempt`-th dunning retry (`...:retry:{k}`)."""
    return period_key(subscription_id, period, f"retry:{attempt}" if attempt else None)


def subscription_of(key: str) -> uuid.UUID | None:
    """The subscription a key of this module belongs to; None for any other key."""
    if not key.startswith(PREFIX):
        return None
    return uuid.UUID(key.split(":")[1])
