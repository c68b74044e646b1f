"""Dispatch on real rows: who fits a request and why (skill, zone, hours in the technician's own
time zone, other bookings, load), the ranking, and holding a technician for a window, with the
database's exclusion constraint as the final word on overlaps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict
from domain.catalog.models import ServiceCategory
from domain.service_requests.models import ServiceRequest
from domain.technicians import dispatch
from domain.technicians import service as technicians
from domain.technicians.dispatch import Fit, NotBookable, RequestFacts
from domain.technicians.models import TechnicianBooking
from domain.technicians.schemas import TechnicianIn
from tests.support.subscription_helpers import Bought, buy_plan
from tests.support.technician_helpers import nine_to_six

IST = ZoneInfo("Asia/Kolkata")


def at(day: int, clock: str, tz: ZoneInfo = IST) -> datetime:
    """A moment in January 2027 (Monday the 4th starts a week), IST unless told."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime(2027, 1, day, hours, minutes, tzinfo=tz)


def dash(text: str) -> str:
    """Test wording written with "-" between times and days, as dispatch writes it (en dash)."""
    return text.replace("-", "\u2013")


@dataclass
class World:
    db: AsyncSession
    bought: Bought
    categories: dict[str, uuid.UUID]
    phones: int = 0

    async def technician(self, name: str, **fields: Any) -> uuid.UUID:
        """A technician (plumbing, 560001, Mon-Fri 09:00-18:00 IST unless told), committed."""
        self.phones += 1
        values: dict[str, Any] = {
            "name": name,
            "phone": f"+9198123{self.phones:05}",
            "skills": ["plumbing"],
            "zones": ["560001"],
            "working_hours": nine_to_six(),
        }
        values.update(fields)
        technician = await technicians.create_technician(
            self.db, data=TechnicianIn.model_validate(values), actor_id=None
        )
        await self.db.commit()
        return technician.id

    async def request(
        self,
        start: datetime,
        end: datetime,
        *,
        postal_code: str = "560001",
        category: str = "plumbing",
    ) -> RequestFacts:
        """A service request (a row, as the service-request flow writes it) and its facts."""
        row = ServiceRequest(
            user_id=self.bought.buyer.id,
            subscription_id=self.bought.subscription_id,
            category_id=self.categories[category],
            address_id=self.bought.buyer.address_id,
            address={"line1": "12 MG Road", "city": "Bengaluru", "postal_code": postal_code},
            postal_code=postal_code,
            description="The kitchen tap leaks.",
            window_start=start,
            window_end=end,
            status="pending",
        )
        self.db.add(row)
        await self.db.commit()
        return RequestFacts(
            request_id=row.id,
            category_id=row.category_id,
            postal_code=postal_code,
            window_start=start,
            window_end=end,
        )

    async def booked(self, request_id: uuid.UUID) -> tuple[uuid.UUID, datetime, datetime] | None:
        row = (
            await self.db.execute(
                select(TechnicianBooking.technician_id, TechnicianBooking.during).where(
                    TechnicianBooking.request_id == request_id
                )
            )
        ).first()
        await self.db.commit()
        if row is None:
            return None
        assert row[1].lower is not None
        assert row[1].upper is not None
        return row[0], row[1].lower, row[1].upper

    async def book(self, facts: RequestFacts, technician_id: uuid.UUID) -> None:
        await dispatch.book(self.db, facts=facts, technician_id=technician_id)
        await self.db.commit()


@pytest.fixture
async def world(api: httpx.AsyncClient, db: AsyncSession) -> World:
    bought = await buy_plan(api, db)  # a real customer, subscription and categories
    categories = {
        slug: category_id
        for slug, category_id in await db.execute(select(ServiceCategory.slug, ServiceCategory.id))
    }
    await db.commit()
    return World(db=db, bought=bought, categories=categories)


def by_name(fits: Sequence[Fit]) -> dict[str, Fit]:
    return {fit.name: fit for fit in fits}


# --- who fits, and why --------------------------------------------------------------------------


async def test_suggest_ranks_eligible_first_then_by_score_each_with_its_reasons(
    world: World,
) -> None:
    asha = await world.technician("Asha")
    bala = await world.technician("Bala")
    chitra = await world.technician("Chitra", zones=["560002"])
    await world.technician("Farid", working_hours=nine_to_six("sat"))
    dev = await world.technician("Dev", is_active=False)
    esha = await world.technician("Esha", skills=["electrical"])
    # Bala has a job on Wednesday of the same week.
    await world.book(await world.request(at(6, "10:00"), at(6, "12:00")), bala)

    facts = await world.request(at(4, "10:00"), at(4, "12:00"))
    fits = await dispatch.suggest(world.db, facts=facts)

    assert [f.name for f in fits] == ["Asha", "Bala", "Farid", "Chitra"]  # not Dev, not Esha
    found = by_name(fits)
    assert found["Asha"] == Fit(
        technician_id=asha,
        name="Asha",
        eligible=True,
        score=100.0,
        reasons=[
            "knows Plumbing",
            "serves 560001",
            dash("free Mon 4 Jan, 10:00-12:00 IST"),
            "no jobs booked in the week around the visit",
        ],
        problems=[],
    )
    assert found["Bala"].eligible and found["Bala"].score == 90.0
    assert found["Bala"].reasons[-1] == "1 job booked in the week around the visit"
    assert not found["Farid"].eligible and found["Farid"].score == 80.0
    assert found["Farid"].problems == [dash("not working then (works Sat 09:00-18:00 IST)")]
    assert found["Farid"].reasons == [
        "knows Plumbing",
        "serves 560001",
        "no jobs booked in the week around the visit",
    ]
    assert found["Chitra"].technician_id == chitra
    assert (found["Chitra"].eligible, found["Chitra"].score) == (False, 60.0)
    assert found["Chitra"].problems == ["does not serve 560001"]

    assert [f.name for f in await dispatch.suggest(world.db, facts=facts, limit=2)] == [
        "Asha",
        "Bala",
    ]
    # Those suggest leaves out still get their problems from `fitness`.
    inactive = await dispatch.fitness(world.db, technician_id=dev, facts=facts)
    assert (inactive.eligible, inactive.problems) == (False, ["inactive"])
    unskilled = await dispatch.fitness(world.db, technician_id=esha, facts=facts)
    assert unskilled.problems == ["does not do Plumbing"]
    assert "knows Plumbing" not in unskilled.reasons
    # A fit is what the dispatch log stores: it survives JSON.
    assert Fit.model_validate_json(found["Asha"].model_dump_json()) == found["Asha"]
    with pytest.raises(Exception, match="frozen"):
        found["Asha"].score = 0  # type: ignore[misc]
    with pytest.raises(Exception, match="not found"):
        await dispatch.fitness(world.db, technician_id=uuid.uuid4(), facts=facts)


async def test_every_problem_is_listed_with_its_reason(world: World) -> None:
    nobody = await world.technician(
        "Nobody", skills=["carpentry"], zones=["110001"], working_hours={}, is_active=False
    )
    other = await world.request(at(4, "11:00"), at(4, "13:00"), category="carpentry")
    facts = await world.request(at(4, "10:00"), at(4, "12:00"), postal_code="560 002")
    assert facts.postal_code == "560002"
    fit = await dispatch.fitness(world.db, technician_id=nobody, facts=facts)
    assert fit.problems == [
        "inactive",
        "does not do Plumbing",
        "does not serve 560002",
        "not working then (no working hours set)",
    ]
    assert fit.score == 40.0  # free (20) and no load (20)

    busy = await world.technician("Busy", skills=["plumbing", "carpentry"])
    await world.book(
        await world.request(at(4, "09:00"), at(4, "10:30"), category="carpentry"), busy
    )
    await world.book(other, busy)
    fit = await dispatch.fitness(world.db, technician_id=busy, facts=facts)
    assert fit.problems == [
        "does not serve 560002",
        dash("booked Mon 4 Jan, 09:00-10:30 IST for another visit"),
        dash("booked Mon 4 Jan, 11:00-13:00 IST for another visit"),
    ]
    assert fit.reasons == [
        "knows Plumbing",
        "2 jobs booked in the week around the visit",
    ]


async def test_working_hours_are_read_in_the_technicians_own_time_zone(world: World) -> None:
    london = await world.technician(
        "Liam", timezone="Europe/London", working_hours={"mon": [["09:00", "17:00"]]}
    )
    los_angeles = await world.technician(
        "Lupe", timezone="America/Los_Angeles", working_hours={"sun": [["20:00", "24:00"]]}
    )
    morning = await world.request(at(4, "10:00"), at(4, "12:00"))  # 04:30 in London
    afternoon = await world.request(at(4, "15:00"), at(4, "17:00"))  # 09:30 in London

    fit = await dispatch.fitness(world.db, technician_id=london, facts=morning)
    assert fit.problems == [dash("not working then (works Mon 09:00-17:00 GMT)")]
    fit = await dispatch.fitness(world.db, technician_id=london, facts=afternoon)
    assert fit.eligible
    assert dash("free Mon 4 Jan, 09:30-11:30 GMT") in fit.reasons

    # Monday morning in India is Sunday evening in California.
    fit = await dispatch.fitness(world.db, technician_id=los_angeles, facts=morning)
    assert fit.eligible, fit.problems
    assert dash("free Sun 3 Jan, 20:30-22:30 PST") in fit.reasons
    fit = await dispatch.fitness(world.db, technician_id=los_angeles, facts=afternoon)
    assert fit.problems == [dash("not working then (works Sun 20:00-24:00 PST)")]


async def test_a_window_must_lie_within_one_stretch_of_one_day(world: World) -> None:
    owl = await world.technician(
        "Owl",
        working_hours={
            "mon": [["09:00", "13:00"], ["13:00", "18:00"], ["20:00", "24:00"]],
            "tue": [["00:00", "04:00"]],
        },
    )

    async def problems(start: datetime, end: datetime) -> list[str]:
        facts = await world.request(start, end)
        return (await dispatch.fitness(world.db, technician_id=owl, facts=facts)).problems

    assert await problems(at(4, "12:00"), at(4, "14:00")) == []  # touching stretches join
    assert await problems(at(4, "22:00"), at(5, "00:00")) == []  # up to midnight
    refused = [
        dash(
            "not working then (works Mon 09:00-13:00 and 13:00-18:00 and 20:00-24:00, "
            "Tue 00:00-04:00 IST)"
        )
    ]
    assert await problems(at(4, "23:00"), at(5, "01:00")) == refused  # spans two days
    assert await problems(at(4, "17:00"), at(4, "19:00")) == refused  # partly outside
    assert await problems(at(4, "08:00"), at(4, "09:30")) == refused
    facts = await world.request(at(4, "22:00"), at(5, "00:00"))
    fit = await dispatch.fitness(world.db, technician_id=owl, facts=facts)
    assert dash("free Mon 4 Jan, 22:00-24:00 IST") in fit.reasons


async def test_load_counts_the_jobs_in_the_seven_days_around_a_moment(world: World) -> None:
    asha = await world.technician(
        "Asha", working_hours={day: [["00:00", "24:00"]] for day in ("mon", "thu", "fri")}
    )
    for day in (4, 7, 11):  # Mon 4, Thu 7, Mon 11
        await world.book(await world.request(at(day, "10:00"), at(day, "12:00")), asha)
    assert await dispatch.load(world.db, technician_id=asha, around=at(4, "11:00")) == 2
    # Half-open spans: 7 Thu 23:00 counts from Mon 4 11:00 to Mon 11 11:00.
    assert await dispatch.load(world.db, technician_id=asha, around=at(7, "23:00")) == 3
    assert await dispatch.load(world.db, technician_id=asha, around=at(8, "00:00")) == 2
    assert await dispatch.load(world.db, technician_id=asha, around=at(11, "11:00")) == 1
    assert await dispatch.load(world.db, technician_id=asha, around=at(20, "11:00")) == 0

    # Ranking counts the other jobs, not the request's own booking.
    facts = await world.request(at(7, "23:00"), at(8, "00:00"))
    fit = await dispatch.fitness(world.db, technician_id=asha, facts=facts)
    assert fit.reasons[-1] == "3 jobs booked in the week around the visit"
    assert fit.score == 85.0  # 80 + 20 / (1 + 3)


# --- holding a technician -----------------------------------------------------------------------


async def test_book_refuses_each_problem_with_its_reason(world: World) -> None:
    facts = await world.request(at(4, "10:00"), at(4, "12:00"))
    cases = {
        await world.technician("Dev", is_active=False): "inactive",
        await world.technician("Esha", skills=["electrical"]): "does not do Plumbing",
        await world.technician("Chitra", zones=["560002"]): "does not serve 560001",
        await world.technician("Farid", working_hours=nine_to_six("sat")): dash(
            "not working then (works Sat 09:00-18:00 IST)"
        ),
    }
    busy = await world.technician("Bala")
    await world.book(await world.request(at(4, "11:30"), at(4, "13:00")), busy)
    cases[busy] = dash("booked Mon 4 Jan, 11:30-13:00 IST for another visit")

    for technician_id, problem in cases.items():
        fit = await dispatch.fitness(world.db, technician_id=technician_id, facts=facts)
        with pytest.raises(NotBookable) as refused:
            await dispatch.book(world.db, facts=facts, technician_id=technician_id)
        await world.db.rollback()
        assert isinstance(refused.value, Conflict)
        assert refused.value.problems == [problem] == fit.problems
        assert refused.value.detail == f"{fit.name} cannot take this visit: {problem}"
    assert await world.booked(facts.request_id) is None


async def test_book_is_idempotent_and_moves_the_request_to_another_technician(
    world: World,
) -> None:
    asha = await world.technician("Asha")
    bala = await world.technician("Bala")
    facts = await world.request(at(4, "10:00"), at(4, "12:00"))
    await world.book(facts, asha)
    assert await world.booked(facts.request_id) == (asha, facts.window_start, facts.window_end)
    await world.book(facts, asha)  # again: nothing changes
    assert await world.booked(facts.request_id) == (asha, facts.window_start, facts.window_end)
    # Asha's own booking for this request is not "another visit".
    fit = await dispatch.fitness(world.db, technician_id=asha, facts=facts)
    assert fit.eligible
    assert fit.reasons[-1] == "no jobs booked in the week around the visit"
    # Even deactivated since, a repeated booking (a retried activity) stands.
    await technicians.update_technician(
        world.db,
        technician_id=asha,
        data=technicians.TechnicianUpdate(is_active=False),
        actor_id=None,
    )
    await world.db.commit()
    await world.book(facts, asha)

    await world.book(facts, bala)
    assert await world.booked(facts.request_id) == (bala, facts.window_start, facts.window_end)
    overlapping = await world.request(at(4, "11:00"), at(4, "13:00"))
    bala_fit = await dispatch.fitness(world.db, technician_id=bala, facts=overlapping)
    assert bala_fit.problems == [dash("booked Mon 4 Jan, 10:00-12:00 IST for another visit")]
    back_to_back = await world.request(at(4, "12:00"), at(4, "14:00"))
    await world.book(back_to_back, bala)  # a booking ending at 12:00 does not overlap one at 12:00


async def test_of_two_concurrent_bookings_of_one_technician_exactly_one_succeeds(
    world: World, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    asha = await world.technician("Asha")
    first = await world.request(at(4, "10:00"), at(4, "12:00"))
    second = await world.request(at(4, "11:00"), at(4, "13:00"))
    # Both pass the early check before either writes: only the database can refuse one.
    checked = asyncio.Barrier(2)
    assess = dispatch._assess_all

    async def assess_then_wait(*args: Any, **kwargs: Any) -> Any:
        result = await assess(*args, **kwargs)
        await checked.wait()
        return result

    monkeypatch.setattr(dispatch, "_assess_all", assess_then_wait)

    async def attempt(facts: RequestFacts) -> NotBookable | None:
        async with sessions() as session:
            try:
                await dispatch.book(session, facts=facts, technician_id=asha)
            except NotBookable as exc:
                await session.rollback()
                return exc
            await session.commit()
            return None

    outcomes = await asyncio.wait_for(asyncio.gather(attempt(first), attempt(second)), 30)
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0].__cause__, IntegrityError)  # the constraint said no
    winner = first if outcomes[0] is None else second
    loser = second if winner is first else first
    start = winner.window_start.astimezone(IST).strftime("%H:%M")
    end = winner.window_end.astimezone(IST).strftime("%H:%M")
    assert refused[0].problems == [dash(f"booked Mon 4 Jan, {start}-{end} IST for another visit")]
    assert await world.booked(winner.request_id) is not None
    assert await world.booked(loser.request_id) is None


async def test_a_moved_window_takes_its_booking_along_unless_the_technician_cannot(
    world: World,
) -> None:
    asha = await world.technician("Asha")
    facts = await world.request(at(4, "10:00"), at(4, "12:00"))
    await world.book(facts, asha)

    later = RequestFacts(
        request_id=facts.request_id,
        category_id=facts.category_id,
        postal_code=facts.postal_code,
        window_start=at(4, "14:00"),
        window_end=at(4, "16:00"),
    )
    await dispatch.move_booking(world.db, facts=later)
    await world.db.commit()
    assert await world.booked(facts.request_id) == (asha, later.window_start, later.window_end)
    await dispatch.move_booking(world.db, facts=later)  # again: nothing to do

    with pytest.raises(ValueError, match="end after it starts"):
        RequestFacts(**{**later.__dict__, "window_start": at(9, "10:00")})
    saturday = RequestFacts(
        **{**later.__dict__, "window_start": at(9, "10:00"), "window_end": at(9, "12:00")}
    )
    with pytest.raises(NotBookable) as refused:
        await dispatch.move_booking(world.db, facts=saturday)
    await world.db.rollback()
    assert refused.value.problems == [dash("not working then (works Mon-Fri 09:00-18:00 IST)")]

    other = await world.request(at(4, "16:00"), at(4, "18:00"))
    await world.book(other, asha)
    overlapping = RequestFacts(
        **{**later.__dict__, "window_start": at(4, "15:00"), "window_end": at(4, "17:00")}
    )
    with pytest.raises(NotBookable) as refused:
        await dispatch.move_booking(world.db, facts=overlapping)
    await world.db.rollback()
    assert refused.value.problems == [dash("booked Mon 4 Jan, 16:00-18:00 IST for another visit")]
    assert await world.booked(facts.request_id) == (asha, later.window_start, later.window_end)

    # A request nobody is booked for has nothing to move.
    unbooked = await world.request(at(5, "10:00"), at(5, "12:00"))
    await dispatch.move_booking(
        world.db, facts=RequestFacts(**{**unbooked.__dict__, "window_end": at(5, "13:00")})
    )
    assert await world.booked(unbooked.request_id) is None


async def test_releasing_a_booking_frees_the_technician_and_is_idempotent(world: World) -> None:
    asha = await world.technician("Asha")
    facts = await world.request(at(4, "10:00"), at(4, "12:00"))
    await world.book(facts, asha)
    await dispatch.release_booking(world.db, request_id=facts.request_id)
    await world.db.commit()
    assert await world.booked(facts.request_id) is None
    await dispatch.release_booking(world.db, request_id=facts.request_id)
    await dispatch.release_booking(world.db, request_id=uuid.uuid4())
    await world.db.commit()
    overlapping = await world.request(at(4, "11:00"), at(4, "13:00"))
    await world.book(overlapping, asha)


def test_request_facts_are_normalised_and_checked() -> None:
    facts = RequestFacts(
        request_id=uuid.uuid4(),
        category_id=uuid.uuid4(),
        postal_code=" ka 01 ab ",
        window_start=at(4, "10:00"),
        window_end=at(4, "12:00"),
    )
    assert facts.postal_code == "KA01AB"
    assert facts.window_start == datetime(2027, 1, 4, 4, 30, tzinfo=UTC)
    assert facts.window_start.tzinfo is UTC
    with pytest.raises(ValueError, match="time-zone-aware"):
        RequestFacts(**{**facts.__dict__, "window_start": datetime(2027, 1, 4, 10)})
