"""Numbers people say and type: a request is R-1042, an order O-2077 (each from its own database
sequence), a receipt by its gap-free number. Shown in every answer's `number`, and read back from
what someone typed into a search ("R-1042", "r 1042", "#1042", or the bare digits)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

REQUEST_PREFIX = "R"
ORDER_PREFIX = "O"
# The words that mean a receipt, before its digits ("receipt 12", "rcpt 12").
RECEIPT_WORDS = ("receipt", "rcpt", "rec")
# Within a bigint, whatever was typed.
MAX_DIGITS = 18

_TYPED = re.compile(rf"^\s*#?\s*([a-z]*)\s*[-#:.]?\s*(\d{{1,{MAX_DIGITS}}})\s*$", re.I)


def _formatter(prefix: str) -> Any:
    def number(value: Any) -> Any:
        return f"{prefix}-{value}" if isinstance(value, int) else value

    return number


RequestNumber = Annotated[
    str,
    BeforeValidator(_formatter(REQUEST_PREFIX)),
    Field(description="The request's number as people say it, e.g. R-1042", examples=["R-1042"]),
]
OrderNumber = Annotated[
    str,
    BeforeValidator(_formatter(ORDER_PREFIX)),
    Field(description="The order's number as people say it, e.g. O-2077", examples=["O-2077"]),
]


def request_number(value: int) -> str:
    return f"{REQUEST_PREFIX}-{value}"


def order_number(value: int) -> str:
    return f"{ORDER_PREFIX}-{value}"


@dataclass(frozen=True)
class Typed:
    """A number someone typed and what it may be: a bare number may be any of the three."""

    value: int
    request: bool
    order: bool
    receipt: bool


def typed_number(text: str) -> Typed | None:
    """What a search text names by number, or None when it is no number (a name, an email)."""
    found = _TYPED.match(text)
    if found is None:
        return None
    word, digits = found.group(1).lower(), found.group(2)
    value = int(digits)
    if word == "":
        return Typed(value, request=True, order=True, receipt=True)
    if word == REQUEST_PREFIX.lower():
        return Typed(value, request=True, order=False, receipt=False)
    if word == ORDER_PREFIX.lower():
        return Typed(value, request=False, order=True, receipt=False)
    if word in RECEIPT_WORDS:
        return Typed(value, request=False, order=False, receipt=True)
    return None
