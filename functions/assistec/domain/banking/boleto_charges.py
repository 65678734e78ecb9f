"""What a boleto costs on a given payment date: discount until a date, fine (multa) and interest (juros
de mora) after the due date. Integer centavos throughout.

Rules (the common terms of Brazilian bank agreements; a shop's agreement states its own numbers):
- Rates are integer basis points (1 bp = 0.01 %): a 2 % fine is ``fine_bp=200``, 1 % a month interest
  is ``Interest.monthly_bp(100)``. No floats anywhere.
- A due date on a weekend or bank holiday moves to the next business day: paying then is on time
  (FEBRABAN). Paid later, interest counts every calendar day from the original due date.
- Fine: once, on the face amount, when paid late.
- Interest: simple, on the face amount, per calendar day late; "monthly" rates are pro rata over a
  30-day commercial month.
- Discount: on or before ``discount_until`` (which cannot be after the due date); that date is not
  moved off weekends and holidays.
- Rounding: each component is computed exactly (fractions of a centavo) and rounded once, half up,
  to the centavo; the total is face - discount + fine + interest of the rounded components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from assistec.domain.banking.boleto import BoletoError
from assistec.domain.holidays import is_holiday

BP = 10_000  # basis points in 100 %


class InterestKind(StrEnum):
    NONE = "none"
    DAILY_CENTS = "daily_cents"  # a fixed amount per day late
    DAILY_BP = "daily_bp"  # basis points of the face amount per day late
    MONTHLY_BP = "monthly_bp"  # basis points of the face amount per 30-day month, pro rata per day


@dataclass(frozen=True, slots=True)
class Interest:
    kind: InterestKind = InterestKind.NONE
    value: int = 0  # centavos per day, or basis points (per day or per month)

    @classmethod
    def none(cls) -> Interest:
        return cls()

    @classmethod
    def daily_cents(cls, cents: int) -> Interest:
        return cls(InterestKind.DAILY_CENTS, cents)

    @classmethod
    def daily_bp(cls, bp: int) -> Interest:
        return cls(InterestKind.DAILY_BP, bp)

    @classmethod
    def monthly_bp(cls, bp: int) -> Interest:
        return cls(InterestKind.MONTHLY_BP, bp)


@dataclass(frozen=True, slots=True)
class ChargeTerms:
    """A boleto's late-payment and early-payment terms. One discount form at most: a fixed amount
    (``discount_cents``) or a rate of the face amount (``discount_bp``)."""

    fine_bp: int = 0
    interest: Interest = Interest()
    discount_cents: int = 0
    discount_bp: int = 0
    discount_until: date | None = None


@dataclass(frozen=True, slots=True)
class AmountDue:
    face_cents: int
    discount_cents: int
    fine_cents: int
    interest_cents: int
    days_late: int  # calendar days after the original due date (0 when on time)

    @property
    def total_cents(self) -> int:
        return self.face_cents - self.discount_cents + self.fine_cents + self.interest_cents


def bank_business_day(day: date) -> bool:
    """No weekends, no national holidays, no Carnaval Monday/Tuesday or Corpus Christi (banks close)."""
    return day.weekday() < 5 and is_holiday(day, optional=True) is None


def next_business_day(day: date, is_business_day: Callable[[date], bool] = bank_business_day) -> date:
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def _round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _check_terms(face_cents: int, due_date: date, terms: ChargeTerms) -> None:
    def bad(message: str, field: str) -> BoletoError:
        return BoletoError("boleto_invalid_charges", message, field=field)

    if isinstance(face_cents, bool) or not isinstance(face_cents, int) or face_cents < 0:
        raise bad("O valor do boleto deve ser um número inteiro de centavos, não negativo.", "face_cents")
    for name, value in (
        ("fine_bp", terms.fine_bp),
        ("interest.value", terms.interest.value),
        ("discount_cents", terms.discount_cents),
        ("discount_bp", terms.discount_bp),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad("Multa, juros e desconto devem ser inteiros não negativos.", name)
    if terms.fine_bp > BP or terms.discount_bp > BP:
        raise bad("Multa e desconto percentuais não podem passar de 100%.", "fine_bp")
    if terms.discount_cents and terms.discount_bp:
        raise bad("Informe o desconto em valor ou em percentual, não os dois.", "discount")
    if terms.discount_cents > face_cents:
        raise bad("O desconto não pode ser maior que o valor do boleto.", "discount_cents")
    if (terms.discount_cents or terms.discount_bp) and terms.discount_until is None:
        raise bad("Informe até quando vale o desconto.", "discount_until")
    if terms.discount_until is not None and terms.discount_until > due_date:
        raise bad("O desconto não pode valer depois do vencimento.", "discount_until")


def amount_due(
    face_cents: int,
    due_date: date,
    payment_date: date,
    terms: ChargeTerms,
    *,
    is_business_day: Callable[[date], bool] = bank_business_day,
) -> AmountDue:
    """What a boleto of ``face_cents`` due on ``due_date`` costs when paid on ``payment_date``."""
    _check_terms(face_cents, due_date, terms)
    discount = 0
    if terms.discount_until is not None and payment_date <= terms.discount_until:
        discount = terms.discount_cents or _round_half_up(face_cents * terms.discount_bp, BP)
    if payment_date <= next_business_day(due_date, is_business_day):
        return AmountDue(face_cents, discount, 0, 0, 0)
    days = (payment_date - due_date).days
    fine = _round_half_up(face_cents * terms.fine_bp, BP)
    kind, value = terms.interest.kind, terms.interest.value
    if kind is InterestKind.DAILY_CENTS:
        interest = value * days
    elif kind is InterestKind.DAILY_BP:
        interest = _round_half_up(face_cents * value * days, BP)
    elif kind is InterestKind.MONTHLY_BP:
        interest = _round_half_up(face_cents * value * days, BP * 30)
    else:
        interest = 0
    return AmountDue(face_cents, 0, fine, interest, days)
