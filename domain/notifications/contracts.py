"""What a workflow hands the notifications activity: a kind, who is to be told, a key, and the
business ids the words are made from (never the words)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, model_validator

from core.errors import FieldProblem
from domain.contracts import Contract

# Ids and small values only: the activity reads everything else (names, times, amounts) itself,
# so what the history keeps is the same whatever the template says.
Ref = str | int | bool | None


class To(Contract):
    """Exactly one of: a user; a technician (their account); every active user of a staff role."""

    user_id: uuid.UUID | None = None
    technician_id: uuid.UUID | None = None
    role: Annotated[str, Field(pattern="^(admin|support)$")] | None = None

    @model_validator(mode="after")
    def _one(self) -> To:
        if sum(x is not None for x in (self.user_id, self.technician_id, self.role)) != 1:
            raise FieldProblem("user_id", "To names exactly one of user_id, technician_id, role")
        return self


class Send(Contract):
    """Send `kind` to `to`, once per `key` and recipient (the key is the business id and step,
    e.g. `request:<id>:3:assigned`; each recipient's message is `<key>:<user id>`)."""

    kind: str
    key: Annotated[str, Field(min_length=1, max_length=160)]
    to: To
    refs: dict[str, Ref] = Field(default_factory=dict)


class Sent(Contract):
    """What happened: messages written now (not found from an earlier attempt) and deliveries by
    status."""

    messages: int
    deliveries: dict[str, int] = Field(default_factory=dict)
