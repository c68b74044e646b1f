"""A period asked for in a list's query (`since` inclusive, `until` exclusive), checked once;
and the types of every date and time a path or query parameter takes.

A date or a time in a parameter is written as the document says (ISO 8601, `format: date` or
`date-time`): pydantic would also read a number as seconds since 1970 (`?until=0` was
1970-01-01). `IsoDate` and `IsoDateTime` refuse that, among the parameter's own errors (after
the caller's token and role are checked, like any invalid input).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BeforeValidator

# How a date (and a date-time) starts when written as ISO 8601 says: the rest is pydantic's.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_8601(value: Any) -> Any:
    if isinstance(value, str) and not ISO_DATE.match(value):
        raise ValueError("a date as YYYY-MM-DD (a time after it: ISO 8601)")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_8601)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(iso_8601)]

Since = Annotated[IsoDateTime | None, Query(description="From this time (inclusive)")]
Until = Annotated[IsoDateTime | None, Query(description="Before this time")]


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
