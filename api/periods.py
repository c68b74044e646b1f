"""A period asked for in a list's query (`since` inclusive, `until` exclusive), checked once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime

Since = Annotated[AwareDatetime | None, Query(description="From this time (inclusive)")]
Until = Annotated[AwareDatetime | None, Query(description="Before this time")]


def check_period(since: datetime | None, until: datetime | None) -> None:
    """A 422 on `until` when the period is empty or backwards."""
    if since is not None and until is not None and until <= since:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "until"),
                    "msg": "must be after since",
                    "type": "value_error",
                }
            ]
        )
