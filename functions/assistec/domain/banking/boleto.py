"""FEBRABAN boleto (bloqueto de cobrança) numbers: the 44-digit barcode and the 47-digit linha digitável.

Barcode (positions are 1-based, as in the FEBRABAN layout):

    01-03 bank code · 04 currency (9 = real) · 05 general check digit (mod 11)
    06-09 due-date factor · 10-19 amount in centavos · 20-44 campo livre (25 digits, the bank's own)

Linha digitável: the same numbers regrouped in five fields for typing, each of the first three with
its own mod-10 check digit:

    field 1: bank + currency + campo livre 1-5   + DV  -> AAABC.CCCCX
    field 2: campo livre 6-15                    + DV  -> DDDDD.DDDDDY
    field 3: campo livre 16-25                   + DV  -> EEEEE.EEEEEZ
    field 4: the barcode's general check digit         -> K
    field 5: due-date factor + amount                  -> UUUUVVVVVVVVVV

Due-date factor: days since 07/10/1997. It reached 9999 on 21/02/2025 and went back to 1000 on
22/02/2025 (FEBRABAN), so a factor names one date per 9,000-day cycle: turning a factor back into a
date needs a reference date (``factor_to_date``). Factor 0000 means "no due date" (contra-apresentação).

Everything here is pure: strings of digits in, strings of digits out, ``BoletoError`` (a stable
``code`` and a pt-BR ``message``) for anything that is not a valid boleto.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

FACTOR_BASE = date(1997, 10, 7)
FACTOR_MIN = 1000
FACTOR_MAX = 9999
FACTOR_CYCLE = FACTOR_MAX - FACTOR_MIN + 1  # 9,000 days
# The first date with factor 1000: earlier dates had factors below 1000 (1997-2000) and are not issued.
FIRST_DUE_DATE = FACTOR_BASE + timedelta(days=FACTOR_MIN)  # 2000-07-03
# A factor is read as the one date it names in [reference - DEFAULT_DAYS_BACK, + CYCLE): a boleto read
# today is at most ~8 years overdue or ~16 years ahead. Callers can move the window.
DEFAULT_DAYS_BACK = 3000

AMOUNT_DIGITS = 10
MAX_AMOUNT_CENTS = 10**AMOUNT_DIGITS - 1  # R$ 99.999.999,99
BARCODE_LENGTH = 44
LINHA_LENGTH = 47
CAMPO_LIVRE_LENGTH = 25
CURRENCY_REAL = "9"

# (start, end) of each linha digitável field in the 47 digits, and of its data in the barcode
_FIELD_SPANS = ((0, 10), (10, 21), (21, 32), (32, 33), (33, 47))
_SEPARATORS = frozenset(" .-\t\r\n")


class BoletoError(ValueError):
    """A boleto number or input that is not valid. ``code`` is stable (clients branch on it);
    ``message`` is pt-BR for people; ``details`` says where (e.g. which field's check digit)."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


# --- check digits -------------------------------------------------------------------------------


def mod10(digits: str) -> int:
    """FEBRABAN's modulo 10: weights 2,1,2,1... from the right, two-digit products summed digit by
    digit; the check digit is what takes the sum to the next multiple of ten."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11_remainder(digits: str, *, weights: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)) -> int:
    """Sum of the digits times ``weights`` cycling from the right, modulo 11 (the core every bank's
    modulo-11 variant shares; each variant maps the remainder to its own digit)."""
    total = sum(int(ch) * weights[i % len(weights)] for i, ch in enumerate(reversed(digits)))
    return total % 11


def barcode_check_digit(digits43: str) -> int:
    """The barcode's general check digit over its other 43 digits: modulo 11 with weights 2-9 from the
    right; 11 - remainder, except that 0, 10 and 11 become 1 (the digit is never 0)."""
    dv = 11 - mod11_remainder(digits43)
    return 1 if dv in (0, 10, 11) else dv


# --- due-date factor ----------------------------------------------------------------------------


def due_date_factor(due_date: date | None) -> int:
    """The 4-digit factor for ``due_date`` (0 for no due date), counting the 2025 rollover: 9999 on
    21/02/2025, 1000 again from 22/02/2025, and every 9,000 days after."""
    if due_date is None:
        return 0
    if due_date < FIRST_DUE_DATE:
        raise BoletoError(
            "boleto_due_date_out_of_range",
            "Data de vencimento anterior a 03/07/2000 não tem fator de vencimento válido.",
            due_date=due_date.isoformat(),
        )
    days = (due_date - FACTOR_BASE).days
    return FACTOR_MIN + (days - FACTOR_MIN) % FACTOR_CYCLE


def factor_to_date(factor: int, *, reference: date, days_back: int = DEFAULT_DAYS_BACK) -> date | None:
    """The date a factor names, read near ``reference`` (usually today, or the boleto's issue date):
    the only date with that factor in [reference - days_back, reference - days_back + 9,000).
    Factor 0 is "no due date" (None)."""
    if factor == 0:
        return None
    if not FACTOR_MIN <= factor <= FACTOR_MAX:
        raise BoletoError(
            "boleto_invalid_due_factor",
            "Fator de vencimento inválido: deve estar entre 1000 e 9999 (ou 0000, sem vencimento).",
            factor=factor,
        )
    if not 0 <= days_back < FACTOR_CYCLE:
        raise ValueError("days_back must be within one 9,000-day cycle")
    window_start = max(reference - timedelta(days=days_back), FIRST_DUE_DATE)
    first = FACTOR_BASE + timedelta(days=factor)  # the date in the first cycle (2000-2025)
    cycles = max(0, -(-(window_start - first).days // FACTOR_CYCLE))  # ceil division
    return first + timedelta(days=cycles * FACTOR_CYCLE)


# --- building -----------------------------------------------------------------------------------


def _require_digits(value: str, length: int, field: str, label: str) -> None:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise BoletoError(
            "boleto_invalid_field",
            f"{label} deve ter exatamente {length} dígitos numéricos.",
            field=field,
        )


def amount_field(amount_cents: int) -> str:
    """The 10-digit amount field; amounts that do not fit (or are negative) are refused."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise BoletoError("boleto_invalid_amount", "O valor deve ser um número inteiro de centavos.")
    if amount_cents < 0:
        raise BoletoError("boleto_invalid_amount", "O valor do boleto não pode ser negativo.")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise BoletoError(
            "boleto_amount_too_large",
            "O valor excede o máximo que cabe no código de barras (R$ 99.999.999,99).",
            amount_cents=amount_cents,
        )
    return f"{amount_cents:0{AMOUNT_DIGITS}d}"


def build_barcode(
    bank_code: str,
    due_date: date | None,
    amount_cents: int,
    campo_livre: str,
    *,
    currency: str = CURRENCY_REAL,
) -> str:
    """The 44-digit barcode from its parts (the general check digit computed here)."""
    _require_digits(bank_code, 3, "bank_code", "O código do banco")
    _require_digits(currency, 1, "currency", "O código da moeda")
    _require_digits(campo_livre, CAMPO_LIVRE_LENGTH, "campo_livre", "O campo livre")
    if bank_code[0] == "8":  # FEBRABAN keeps a leading 8 for arrecadação codes
        raise BoletoError("boleto_invalid_field", "Código de banco inválido para boleto.", field="bank_code")
    head = bank_code + currency
    tail = f"{due_date_factor(due_date):04d}" + amount_field(amount_cents) + campo_livre
    return head + str(barcode_check_digit(head + tail)) + tail


def barcode_to_linha(barcode: str) -> str:
    """The 47 digits of the linha digitável for a (validated) barcode, without punctuation."""
    validate_barcode(barcode)
    bank_currency, dv, factor_amount, free = barcode[0:4], barcode[4], barcode[5:19], barcode[19:44]
    fields = (bank_currency + free[0:5], free[5:15], free[15:25])
    return "".join(f + str(mod10(f)) for f in fields) + dv + factor_amount


def format_linha(linha: str) -> str:
    """The printed form: ``AAABC.CCCCX DDDDD.DDDDDY EEEEE.EEEEEZ K UUUUVVVVVVVVVV``."""
    digits = _digits_only(linha, LINHA_LENGTH, "linha digitável")
    f1, f2, f3, f4, f5 = (digits[a:b] for a, b in _FIELD_SPANS)
    return f"{f1[:5]}.{f1[5:]} {f2[:5]}.{f2[5:]} {f3[:5]}.{f3[5:]} {f4} {f5}"


# --- reading ------------------------------------------------------------------------------------


def _digits_only(text: str, length: int, what: str) -> str:
    if not isinstance(text, str):
        raise BoletoError("boleto_invalid_characters", f"A {what} deve ser um texto.")
    stray = {ch for ch in text if ch not in _SEPARATORS and not (ch.isascii() and ch.isdigit())}
    if stray:
        raise BoletoError(
            "boleto_invalid_characters",
            f"A {what} só pode ter dígitos (pontos e espaços são ignorados).",
            characters="".join(sorted(stray)),
        )
    digits = "".join(ch for ch in text if ch not in _SEPARATORS)
    if len(digits) != length:
        if digits.startswith("8") and len(digits) in (44, 48):
            # Arrecadação (utilities, taxes): another FEBRABAN layout, starting with 8
            raise BoletoError(
                "boleto_is_arrecadacao",
                "Este é um código de arrecadação (contas de consumo e tributos), não um boleto de cobrança.",
            )
        raise BoletoError(
            "boleto_invalid_length",
            f"A {what} deve ter {length} dígitos; foram informados {len(digits)}.",
            expected=length,
            got=len(digits),
        )
    return digits


def validate_barcode(barcode: str) -> str:
    """The barcode's 44 digits when its general check digit holds; BoletoError otherwise."""
    digits = _digits_only(barcode, BARCODE_LENGTH, "código de barras")
    if digits[0] == "8":
        raise BoletoError(
            "boleto_is_arrecadacao",
            "Este é um código de arrecadação (contas de consumo e tributos), não um boleto de cobrança.",
        )
    expected = barcode_check_digit(digits[:4] + digits[5:])
    if int(digits[4]) != expected:
        raise BoletoError(
            "boleto_check_digit",
            "Código de barras inválido: o dígito verificador geral não confere.",
            field="general",
        )
    return digits


def linha_to_barcode(linha: str) -> str:
    """The 44-digit barcode for a linha digitável typed with or without dots and spaces, after
    checking the three field digits (mod 10) and the general one (mod 11)."""
    digits = _digits_only(linha, LINHA_LENGTH, "linha digitável")
    if digits[0] == "8":
        raise BoletoError(
            "boleto_is_arrecadacao",
            "Este é um código de arrecadação (contas de consumo e tributos), não um boleto de cobrança.",
        )
    for number, (start, end) in enumerate(_FIELD_SPANS[:3], start=1):
        field = digits[start:end]
        if int(field[-1]) != mod10(field[:-1]):
            raise BoletoError(
                "boleto_check_digit",
                f"Linha digitável inválida: o dígito verificador do campo {number} não confere.",
                field=number,
            )
    f1, f2, f3, f4, f5 = (digits[a:b] for a, b in _FIELD_SPANS)
    barcode = f1[0:4] + f4 + f5 + f1[4:9] + f2[0:10] + f3[0:10]
    expected = barcode_check_digit(barcode[:4] + barcode[5:])
    if int(f4) != expected:
        raise BoletoError(
            "boleto_check_digit",
            "Linha digitável inválida: o dígito verificador geral (campo 4) não confere.",
            field=4,
        )
    return barcode


@dataclass(frozen=True, slots=True)
class BarcodeFields:
    """A valid barcode taken apart. ``due_date`` is the factor read near the reference date given to
    ``parse_barcode`` (None for factor 0000)."""

    barcode: str
    bank_code: str
    currency: str
    check_digit: int
    due_factor: int
    due_date: date | None
    amount_cents: int
    campo_livre: str

    @property
    def linha_digitavel(self) -> str:
        return barcode_to_linha(self.barcode)


def parse_barcode(barcode: str, *, reference: date, days_back: int = DEFAULT_DAYS_BACK) -> BarcodeFields:
    """A barcode's parts, after validating it (see ``factor_to_date`` for ``reference``)."""
    digits = validate_barcode(barcode)
    factor = int(digits[5:9])
    if 0 < factor < FACTOR_MIN:
        raise BoletoError(
            "boleto_invalid_due_factor",
            "Fator de vencimento inválido: deve estar entre 1000 e 9999 (ou 0000, sem vencimento).",
            factor=factor,
        )
    return BarcodeFields(
        barcode=digits,
        bank_code=digits[0:3],
        currency=digits[3],
        check_digit=int(digits[4]),
        due_factor=factor,
        due_date=factor_to_date(factor, reference=reference, days_back=days_back),
        amount_cents=int(digits[9:19]),
        campo_livre=digits[19:44],
    )


def parse_linha(linha: str, *, reference: date, days_back: int = DEFAULT_DAYS_BACK) -> BarcodeFields:
    """A linha digitável's parts (typed with or without punctuation), after validating it."""
    return parse_barcode(linha_to_barcode(linha), reference=reference, days_back=days_back)
