"""Staff: the dispatch board. A day or a week of business days per technician (their working
stretches, time off and booked visits) with the queue of visits nobody has yet. Support may
read it; assigning stays at the service requests' routes (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NowDep, SessionDep, StaffUser
from api.periods import IsoDate
from domain import timefmt
from domain.technicians import board as boards

router = APIRouter(prefix="/admin/dispatch", tags=["admin: dispatch"])


@router.get("/board", response_model=boards.Board)
async def read_board(
    _staff: StaffUser,
    db: SessionDep,
    now: NowDep,
    first: Annotated[
        IsoDate | None,
        Query(
            alias="date", description="The first day (YYYY-MM-DD, a business day); today if none"
        ),
    ] = None,
    days: Annotated[int, Query(ge=1, le=7, description="1: a day; 7: a week")] = 1,
) -> boards.Board:
    """Each active technician's working hours, time off and booked visits over the days, in the
    business's zone, and the unassigned queue."""
    day = first or timefmt.local(now).date()
    return await boards.board(db, first=day, days=days)
