"""Staff: one search box for the whole panel (support may search; customers are refused)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, StaffUser
from domain.search import SearchResults, search

router = APIRouter(prefix="/admin/search", tags=["admin: search"])


@router.get("", response_model=SearchResults)
async def search_everything(
    _staff: StaffUser,
    db: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            description="A name, email or phone; R-1042, O-2077 or the bare digits; a receipt's "
            "number",
        ),
    ],
) -> SearchResults:
    """Customers by name, email or phone; requests and orders by number; receipts by number."""
    return await search(db, q=q)
