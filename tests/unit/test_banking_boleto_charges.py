"""What a late (or early) boleto costs on a payment date (domain/banking/boleto_charges.py): discount,
fine and interest in integer centavos, half-up rounding, due dates on weekends and holidays."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistec.domain.banking.boleto import BoletoError
from assistec.domain.banking.boleto_charges import (
    AmountDue,
    ChargeTerms,
    Interest,
    InterestKind,
    amount_due,
    bank_business_day,
    next_business_day,
)

DUE = date(2026, 3, 10)  # a Tuesday, not a holiday
TERMS = ChargeTerms(fine_bp=200, interest=Interest.monthly_bp(100))  # 2 % fine, 1 % a month


def test_paid_on_the_due_date_costs_the_face_amount() -> None:
    assert amount_due(10_000, DUE, DUE, TERMS) == AmountDue(10_000, 0, 0, 0, 0)


def test_paid_early_costs_the_face_amount() -> None:
    assert amount_due(10_000, DUE, DUE - timedelta(days=20), TERMS).total_cents == 10_000


def test_a_day_late_adds_the_fine_and_a_day_of_interest() -> None:
    # Given R$ 100,00 with 2 % fine and 1 % a month, When paid a day late
    due = amount_due(10_000, DUE, DUE + timedelta(days=1), TERMS)
    # Then R$ 2,00 fine and 10000 * 1 % / 30 = 3.33 centavos -> 3 of interest
    assert (due.fine_cents, due.interest_cents, due.days_late, due.total_cents) == (200, 3, 1, 10_203)


def test_a_month_late_is_a_full_month_of_interest() -> None:
    due = amount_due(10_000, DUE, DUE + timedelta(days=30), TERMS)
    assert (due.fine_cents, due.interest_cents, due.total_cents) == (200, 100, 10_300)


@pytest.mark.parametrize(
    ("days", "interest"),
    [
        (1, 3),  # 3.33... -> 3
        (2, 7),  # 6.66... -> 7
        (3, 10),  # 10 exactly
    ],
)
def test_interest_is_rounded_half_up_once(days: int, interest: int) -> None:
    assert amount_due(10_000, DUE, DUE + timedelta(days=days), TERMS).interest_cents == interest


def test_half_a_centavo_rounds_up() -> None:
    # 2 % of 25 centavos = 0.5 -> 1; 1 bp a day of 5,000 for 1 day = 0.5 -> 1
    assert amount_due(25, DUE, DUE + timedelta(days=1), ChargeTerms(fine_bp=200)).fine_cents == 1
    late = amount_due(5_000, DUE, DUE + timedelta(days=1), ChargeTerms(interest=Interest.daily_bp(1)))
    assert late.interest_cents == 1


def test_fixed_interest_per_day() -> None:
    late = amount_due(10_000, DUE, DUE + timedelta(days=5), ChargeTerms(interest=Interest.daily_cents(7)))
    assert (late.interest_cents, late.fine_cents) == (35, 0)


def test_discount_until_a_date() -> None:
    terms = ChargeTerms(discount_cents=500, discount_until=DUE - timedelta(days=5))
    assert amount_due(10_000, DUE, DUE - timedelta(days=5), terms).total_cents == 9_500
    assert amount_due(10_000, DUE, DUE - timedelta(days=4), terms).total_cents == 10_000


def test_percentage_discount() -> None:
    terms = ChargeTerms(discount_bp=333, discount_until=DUE)  # 3.33 % of 1,005 = 33.4665 -> 33
    assert amount_due(1_005, DUE, DUE, terms).discount_cents == 33


def test_due_on_a_saturday_is_on_time_the_next_monday() -> None:
    saturday = date(2026, 3, 14)
    assert saturday.weekday() == 5
    assert amount_due(10_000, saturday, date(2026, 3, 16), TERMS).total_cents == 10_000
    # Paid on Tuesday: three days late, counted from the Saturday
    late = amount_due(10_000, saturday, date(2026, 3, 17), TERMS)
    assert (late.days_late, late.fine_cents, late.interest_cents) == (3, 200, 10)


def test_due_on_carnaval_moves_to_ash_wednesday() -> None:
    # Carnaval 2026: Monday 16 and Tuesday 17 of February (Easter on 5 April)
    assert not bank_business_day(date(2026, 2, 16))
    assert not bank_business_day(date(2026, 2, 17))
    assert next_business_day(date(2026, 2, 14)) == date(2026, 2, 18)
    assert amount_due(10_000, date(2026, 2, 16), date(2026, 2, 18), TERMS).total_cents == 10_000


def test_the_business_day_rule_can_be_the_shops_own() -> None:
    # A city holiday the national calendar does not know
    city_holiday = DUE

    def business(day: date) -> bool:
        return day != city_holiday and bank_business_day(day)

    assert (
        amount_due(10_000, DUE, DUE + timedelta(days=1), TERMS, is_business_day=business).total_cents
        == 10_000
    )


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (ChargeTerms(fine_bp=-1), "fine_bp"),
        (ChargeTerms(fine_bp=10_001), "fine_bp"),
        (ChargeTerms(interest=Interest.daily_cents(-5)), "interest.value"),
        (ChargeTerms(discount_cents=100, discount_bp=100, discount_until=DUE), "discount"),
        (ChargeTerms(discount_cents=10_001, discount_until=DUE), "discount_cents"),
        (ChargeTerms(discount_cents=100), "discount_until"),
        (ChargeTerms(discount_cents=100, discount_until=DUE + timedelta(days=1)), "discount_until"),
    ],
)
def test_bad_terms_are_refused(terms: ChargeTerms, field: str) -> None:
    with pytest.raises(BoletoError) as err:
        amount_due(10_000, DUE, DUE, terms)
    assert (err.value.code, err.value.details["field"]) == ("boleto_invalid_charges", field)


terms_strategy = st.builds(
    ChargeTerms,
    fine_bp=st.integers(0, 10_000),
    interest=st.one_of(
        st.just(Interest.none()),
        st.builds(Interest.daily_cents, st.integers(0, 10_000)),
        st.builds(Interest.daily_bp, st.integers(0, 1_000)),
        st.builds(Interest.monthly_bp, st.integers(0, 10_000)),
    ),
)


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(st.integers(0, 10**10), terms_strategy, st.integers(1, 3_000), st.integers(1, 3_000))
def test_paying_later_never_costs_less(face: int, terms: ChargeTerms, days: int, more: int) -> None:
    earlier = amount_due(face, DUE, DUE + timedelta(days=days), terms)
    later = amount_due(face, DUE, DUE + timedelta(days=days + more), terms)
    assert later.total_cents >= earlier.total_cents >= face


@settings(deadline=None)  # no timed asserts: the machine is shared
@given(st.integers(0, 10**10), terms_strategy, st.integers(1, 3_000))
def test_components_are_within_half_a_centavo_of_the_exact_value(
    face: int, terms: ChargeTerms, days: int
) -> None:
    due = amount_due(face, DUE, DUE + timedelta(days=days), terms)
    exact_fine = Fraction(face * terms.fine_bp, 10_000)
    exact_interest = {
        InterestKind.NONE: Fraction(0),
        InterestKind.DAILY_CENTS: Fraction(terms.interest.value * days),
        InterestKind.DAILY_BP: Fraction(face * terms.interest.value * days, 10_000),
        InterestKind.MONTHLY_BP: Fraction(face * terms.interest.value * days, 10_000 * 30),
    }[terms.interest.kind]
    assert abs(due.fine_cents - exact_fine) <= Fraction(1, 2)
    assert abs(due.interest_cents - exact_interest) <= Fraction(1, 2)
    assert due.total_cents == face + due.fine_cents + due.interest_cents
