"""The subscription's rules as plain functions (domain/subscriptions/policy.py, keys.py): no
Temporal, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.subscriptions import keys, policy
from domain.subscriptions.contracts import (
    Allowance,
    PeriodKind,
    PeriodTerms,
    Policy,
    RenewalPaid,
    Reservation,
    ReservationStatus,
    SubscriptionStatus,
)

DAY = timedelta(days=1)
START = datetime(2026, 1, 1, tzinfo=UTC)
PLUMBING, CLEANING = uuid.uuid4(), uuid.uuid4()
ORDER = uuid.uuid4()


def terms(**changes: object) -> PeriodTerms:
    base = PeriodTerms(
        number=1,
        kind=PeriodKind.initial,
        starts_at=START,
        ends_at=START + 365 * DAY,
        plan_version_id=uuid.uuid4(),
        order_id=ORDER,
        paid_minor=365_00,
        currency="INR",
        allowance=Allowance(visit_cap=3, per_category={PLUMBING: 2, CLEANING: 2}),
    )
    return base.model_copy(update=changes)


def rules(**changes: object) -> Policy:
    base = Policy(
        reminder_seconds=[30 * 86_400, 7 * 86_400, 86_400],
        grace_seconds=15 * 86_400,
        auto_renew_lead_seconds=2 * 86_400,
        dunning_retry_seconds=[86_400, 3 * 86_400, 5 * 86_400],
        pre_debit_notice_seconds=24 * 3_600,
        refund_full_within_days=14,
        quote_ttl_seconds=600,
        provider="stripe",
    )
    return base.model_copy(update=changes)


def visit(category: uuid.UUID, status: ReservationStatus, period: int = 1) -> Reservation:
    return Reservation(request_id=uuid.uuid4(), category_id=category, period=period, status=status)


END = START + 365 * DAY


# --- what is due ---------------------------------------------------------------------------------


def test_reminders_fall_before_the_end_earliest_first_and_never_before_the_start() -> None:
    assert [(d.kind, d.at) for d in policy.reminders(terms(), rules())] == [
        ("reminder:30", END - 30 * DAY),
        ("reminder:7", END - 7 * DAY),
        ("reminder:1", END - DAY),
    ]
    short = terms(ends_at=START + 10 * DAY)
    assert [d.kind for d in policy.reminders(short, rules())] == ["reminder:7", "reminder:1"]
    assert policy.reminder_kind(90) == "reminder:90s"


def test_the_next_due_is_the_earliest_reminder_not_sent_then_the_period_end() -> None:
    due = policy.next_due(
        terms(),
        rules(),
        status=SubscriptionStatus.active,
        renewed=False,
        done=set(),
        charges=[],
    )
    assert due == policy.Due(END - 30 * DAY, "reminder:30")
    every = {"reminder:30", "reminder:7", "reminder:1"}
    due = policy.next_due(
        terms(), rules(), status=SubscriptionStatus.active, renewed=False, done=every, charges=[]
    )
    assert due == policy.Due(END, "period_end")


def test_in_grace_the_next_due_is_its_end_and_once_renewed_only_the_period_end() -> None:
    grace = policy.next_due(
        terms(), rules(), status=SubscriptionStatus.grace, renewed=False, done=set(), charges=[]
    )
    assert grace == policy.Due(END + 15 * DAY, "grace_end")
    renewed = policy.next_due(
        terms(),
        rules(),
        status=SubscriptionStatus.active,
        renewed=True,
        done=set(),
        charges=[policy.Due(START, "charge")],
    )
    assert renewed == policy.Due(END, "period_end")


def test_the_first_charge_is_a_lead_before_the_end_with_a_pre_debit_notice_on_razorpay() -> None:
    fresh = policy.Charging()
    stripe = policy.charges_due(terms(), rules(), fresh, done=set(), now=START)
    assert stripe == [policy.Due(END - 2 * DAY, "charge")]
    razorpay = policy.charges_due(terms(), rules(provider="razorpay"), fresh, done=set(), now=START)
    assert razorpay == [
        policy.Due(END - 3 * DAY, "pre_debit"),
        policy.Due(END - 2 * DAY, "charge"),
    ]
    noticed = policy.charges_due(
        terms(), rules(provider="razorpay"), fresh, done={"pre_debit"}, now=START
    )
    assert [d.kind for d in noticed] == ["charge"]
    short = terms(ends_at=START + DAY)  # the lead would be before the start: at the start
    assert policy.charge_at(short, rules()) == START


def test_declined_charges_are_retried_on_the_dunning_schedule_within_grace() -> None:
    failed = END - 2 * DAY
    first = policy.Charging(attempt=1, first_failure=failed)
    assert policy.charges_due(terms(), rules(), first, done=set(), now=failed) == [
        policy.Due(failed + DAY, "retry:1")
    ]
    assert policy.dunning_retry(failed, 3, terms(), rules()) == failed + 5 * DAY
    assert policy.dunning_retry(failed, 4, terms(), rules()) is None  # past the last
    # A retry that would fall after grace's end is none.
    short_grace = rules(grace_seconds=2 * 86_400)
    assert policy.dunning_retry(failed, 3, terms(), short_grace) is None
    last = policy.Charging(attempt=3, first_failure=failed)
    assert policy.charges_due(terms(), short_grace, last, done=set(), now=failed) == []


def test_a_charge_the_provider_still_settles_is_asked_about_again_an_hour_on() -> None:
    now = END - DAY
    out = policy.Charging(attempt=1, processing=True)
    assert policy.charges_due(terms(), rules(), out, done=set(), now=now) == [
        policy.Due(now + policy.PROCESSING_CHECK, "check_charge")
    ]


def test_the_schedule_shows_the_next_reminder_and_charge_while_live_and_not_renewed() -> None:
    charges = [policy.Due(END - 3 * DAY, "pre_debit"), policy.Due(END - 2 * DAY, "charge")]

    def shown(status: SubscriptionStatus, renewed: bool) -> tuple[object, object]:
        return policy.schedule(
            terms(), rules(), status=status, renewed=renewed, done={"reminder:30"}, charges=charges
        )

    # The pre-debit notice is no charge.
    assert shown(SubscriptionStatus.active, False) == (END - 7 * DAY, END - 2 * DAY)
    assert shown(SubscriptionStatus.cancelled, False) == (None, None)
    assert shown(SubscriptionStatus.active, True) == (None, None)


# --- the visit ledger ----------------------------------------------------------------------------


def test_visits_left_count_every_reservation_of_the_period_not_released() -> None:
    booked = [
        visit(PLUMBING, ReservationStatus.reserved),
        visit(PLUMBING, ReservationStatus.consumed),
        visit(CLEANING, ReservationStatus.released),
        visit(CLEANING, ReservationStatus.consumed, period=0),  # an earlier period's
    ]
    assert policy.visits_left(terms(), booked) == ({PLUMBING: 0, CLEANING: 2}, 1)


def test_a_visit_is_refused_with_the_reason() -> None:
    two = [visit(PLUMBING, ReservationStatus.reserved)] * 2
    active = SubscriptionStatus.active
    assert policy.cannot_reserve(active, terms(), [], PLUMBING) is None
    assert policy.cannot_reserve(active, terms(), two, PLUMBING) == (
        "all 2 visits of this category in this period are booked or used"
    )
    three = [*two, visit(CLEANING, ReservationStatus.consumed)]
    assert policy.cannot_reserve(active, terms(), three, CLEANING) == (
        "all 3 visits of this period are booked or used"
    )
    assert policy.cannot_reserve(active, terms(), [], uuid.uuid4()) == (
        "this plan does not cover that category"
    )
    assert policy.cannot_reserve(SubscriptionStatus.expired, terms(), [], PLUMBING) == (
        "this subscription is expired: it has no visits to book"
    )


# --- renewing and extending ----------------------------------------------------------------------


def test_a_renewal_adds_the_next_period_from_the_start_given() -> None:
    paid = RenewalPaid(
        order_id=uuid.uuid4(),
        plan_version_id=uuid.uuid4(),
        validity_days=30,
        paid_minor=50_00,
        currency="INR",
        allowance=Allowance(visit_cap=1, per_category={PLUMBING: 1}),
    )
    nxt = policy.renewed_period(terms(), paid, starts_at=END)
    assert (nxt.number, nxt.starts_at, nxt.ends_at) == (2, END, END + 30 * DAY)
    assert (nxt.order_id, nxt.paid_minor, nxt.kind) == (paid.order_id, 50_00, PeriodKind.renewal)


def test_a_short_development_day_shortens_the_renewed_period_and_names_reminders_in_days() -> None:
    """SUBSCRIPTION_DAY_SECONDS (development only, `make chaos`): the day's length travels in the
    Policy; a Policy without it (every recorded history) keeps a real day."""
    assert Policy.model_validate(rules().model_dump(exclude={"day_seconds"})).day_seconds == 86_400
    short = rules(day_seconds=3, reminder_seconds=[7 * 3, 3])
    paid = RenewalPaid(
        order_id=uuid.uuid4(),
        plan_version_id=uuid.uuid4(),
        validity_days=12,
        paid_minor=50_00,
        currency="INR",
        allowance=Allowance(visit_cap=1, per_category={PLUMBING: 1}),
    )
    nxt = policy.renewed_period(terms(), paid, starts_at=END, day_seconds=short.day_seconds)
    assert nxt.ends_at == END + timedelta(seconds=36)
    due = policy.reminders(nxt, short)
    assert [d.kind for d in due] == ["reminder:7", "reminder:1"]
    assert [d.at for d in due] == [
        nxt.ends_at - timedelta(seconds=21),
        nxt.ends_at - timedelta(seconds=3),
    ]


def test_an_extension_moves_the_end_and_every_period_paid_ahead() -> None:
    ahead = terms(number=2, starts_at=END, ends_at=END + 365 * DAY)
    period, upcoming = policy.extended(terms(), [ahead], 10)
    assert period.ends_at == END + 10 * DAY
    assert (upcoming[0].starts_at, upcoming[0].ends_at) == (END + 10 * DAY, END + 375 * DAY)


# --- cancellation --------------------------------------------------------------------------------


def test_cancelling_early_with_no_visit_used_refunds_in_full() -> None:
    quote_id = uuid.uuid4()
    quote = policy.cancellation_quote(
        terms(), [], [], rules(), now=START + 3 * DAY, quote_id=quote_id
    )
    assert (quote.quote_id, quote.refund_minor, quote.period) == (quote_id, 365_00, 1)
    assert [(r.order_id, r.amount_minor) for r in quote.refunds] == [(ORDER, 365_00)]
    assert quote.valid_until == START + 3 * DAY + timedelta(seconds=600)
    assert quote.why.startswith("a full refund of")


def test_cancelling_later_refunds_the_time_left_less_the_visits_used_and_renewals_in_full() -> None:
    used = [
        visit(PLUMBING, ReservationStatus.consumed),
        visit(PLUMBING, ReservationStatus.reserved),
    ]
    renewal = uuid.uuid4()
    ahead = terms(number=2, starts_at=END, ends_at=END + 365 * DAY, order_id=renewal)
    quote = policy.cancellation_quote(
        terms(), [ahead], used, rules(), now=START + 73 * DAY, quote_id=uuid.uuid4()
    )
    # 292 of 365 days left: 292_00; one visit used at 365_00 // 3 = 121_66.
    assert [(r.order_id, r.amount_minor) for r in quote.refunds] == [
        (ORDER, 292_00 - 121_66),
        (renewal, 365_00),
    ]
    assert quote.refund_minor == 292_00 - 121_66 + 365_00
    assert quote.why.endswith("and the renewal for period 2 in full")
    assert "less 1 visit used" in quote.why


def test_nothing_paid_nothing_refunded() -> None:
    quote = policy.cancellation_quote(
        terms(paid_minor=0), [], [], rules(), now=START, quote_id=uuid.uuid4()
    )
    assert (quote.refund_minor, quote.refunds) == (0, [])


# --- keys ----------------------------------------------------------------------------------------


def test_keys_are_built_and_read_by_one_pair_byte_for_byte() -> None:
    sid = uuid.UUID("6f1c2b9e-0000-4000-8000-000000000001")
    assert keys.renewal_key(sid, 2) == f"sub:{sid}:period:2"
    assert keys.renewal_key(sid, 2, 3) == f"sub:{sid}:period:2:retry:3"
    assert keys.period_key(sid, 1, "reminder:30") == f"sub:{sid}:period:1:reminder:30"
    assert keys.subscription_of(keys.renewal_key(sid, 2, 1)) == sid
    assert keys.subscription_of("3f2a8c1e-checkout-key") is None
