"""The page window of every list: `limit` and `offset`, bounded once for all routes.

An offset past PostgreSQL's bigint was a 500; an offset in the millions is a full scan that no
client needs (filters narrow a list, pages walk it). Both bounds are in the OpenAPI document, and
a value past them is a 422 that names the limit.

A list answered whole, without pages (a user's addresses, a request's photos), is bounded by what
it lists instead: `at_most(Model, n)` is its response model, a list of at most `n` (`maxItems` in
the document), where `n` is a bound the domain keeps (it refuses the item past it, or lists only
the newest `n`). tests/contract/test_list_limits.py fails on a list without either bound.
"""

# No `from __future__ import annotations`: the window's annotations use the factory's arguments,
# which FastAPI could not resolve from strings.
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import Field

MAX_OFFSET = 100_000


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int


def _window(default_limit: int, max_limit: int) -> Callable[..., Awaitable[Window]]:
    async def window(
        limit: Annotated[
            int, Query(ge=1, le=max_limit, description=f"Items per page (at most {max_limit})")
        ] = default_limit,
        offset: Annotated[
            int,
            Query(ge=0, le=MAX_OFFSET, description=f"Items to skip (at most {MAX_OFFSET:,})"),
        ] = 0,
    ) -> Window:
        return Window(limit=limit, offset=offset)

    return window


# What a customer's app pages through (orders, the public catalog) ...
CustomerPage = Annotated[Window, Depends(_window(20, 100))]
# ... and what staff screens page through: longer pages.
StaffPage = Annotated[Window, Depends(_window(50, 200))]


def at_most(model: type[Any], n: int) -> Any:
    """The response model of a list answered whole: at most `n` of `model`."""
    return Annotated[list[model], Field(max_length=n)]  # type: ignore[valid-type]
