"""The nosso número as the CNAB files carry it, both ways, per bank and layout (pure).

``written`` is what a remessa writes in its nosso número column for the agreement's boleto of
``sequence`` (the bank's number from ``boleto_banks``, with its check digit where the column holds
one); ``sequence_from_retorno`` reads a retorno's column back to that sequence. The second is built
on the first: a candidate sequence is cut out of the text, then ``written`` of it must give the same
text (zero padding aside), so a remessa and its retorno agree by construction, and a wrong check
digit, another convênio's prefix, another carteira's modality... give ``None`` (the occurrence is left
for a person, never matched to another boleto).

What each bank's column holds (remessa and retorno alike; tests/fixtures/cnab):
- Banco do Brasil, 7/8-digit convênio: convênio + sequence (17 digits), no check digit; 4/6-digit
  convênio: convênio + sequence + DV (module 11 "9 a 2", X for 10);
- Itaú CNAB 240: 8 digits and the DAC; CNAB 400: 8 digits (the DAC goes in another column);
- Bradesco CNAB 400: 11 digits and the DV (P for remainder 1); BTG: 11 digits, no DV;
- Caixa SIGCB: modality (1 RG, 2 SR) + issuer (4) + 15 digits, no DV;
- Santander: 12 digits and the DV in CNAB 240; 7 digits and the DV in CNAB 400 (8 columns);
- Sicoob: 7 digits and the DV, right-aligned with zeros (10 columns in 240, 12 in 400);
- Sicredi: year (2) + byte + 5 digits + DV over agência + posto + código do beneficiário + those 8
  (needs the agreement's posto: without it, None);
- Ailos: account (7) + its DV + 9 digits; Banco Inter: 7 digits and the DV (Bradesco's module).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from assistec.domain.banking import boleto_banks
from assistec.domain.banking.boleto import BoletoError
from assistec.domain.banking.cnab.banks import CNAB240, CNAB400
from assistec.domain.banking.cnab.errors import CnabError
from assistec.domain.banking.cnab.remessa import records240

# The layouts whose nosso número column has no room for the bank's check digit (Caixa's 17 digits
# are modality + issuer + sequence; Itaú's CNAB 400 carries 8 digits, the DAC apart).
_WITHOUT_CHECK_DIGIT = frozenset({("cnab240", "104"), ("cnab400", "104"), ("cnab400", "341")})
# Sicoob right-aligns the number with zeros; the others write it left-aligned.
_ZERO_PADDED = frozenset({"756"})
# The boletos table's nosso número: 17 digits at most.
_SEQUENCE_MAX = 99_999_999_999_999_999


class NossoNumeroTooLongError(ValueError):
    """The number does not fit the layout's column."""

    def __init__(self, value: str, width: int) -> None:
        super().__init__(f"{value} > {width}")
        self.value = value
        self.width = width


def remessa_width(bank_code: str, layout: str) -> int | None:
    """The width of the remessa's nosso número column; None when the project writes no remessa in
    that bank's layout."""
    try:
        if layout == "cnab240":
            bank = CNAB240.get(bank_code)
            if bank is not None and bank.remessa is not None:
                return records240(bank)[0].seg_p.by_name["nosso_numero"].width
        elif layout == "cnab400":
            bank400 = CNAB400.get(bank_code)
            if bank400 is not None and bank400.remessa is not None:
                return bank400.remessa.detail.by_name["nosso_numero"].width
    except CnabError:
        return None
    return None


def _canonical(agreement: boleto_banks.Agreement, layout: str, sequence: int, issued_on: date) -> str:
    nosso, _ = boleto_banks.nosso_numero_and_campo_livre(
        agreement,
        boleto_banks.BoletoRequest(sequence=sequence, due_date=None, amount_cents=1, issue_date=issued_on),
    )
    value = nosso.digits
    if (layout, agreement.bank_code) not in _WITHOUT_CHECK_DIGIT:
        value += nosso.check_digit
    return value


def written(
    agreement: boleto_banks.Agreement,
    layout: str,
    sequence: int,
    *,
    issued_on: date,
    width: int | None = None,
) -> str:
    """The nosso número of the agreement's boleto ``sequence`` as the layout's column carries it
    (``width`` columns when given: Santander's CNAB 400 keeps 7 digits and the DV of its 12-digit
    number; Sicoob's is right-aligned with zeros). ``BoletoError`` when the agreement lacks what the
    bank's number needs, ``NossoNumeroTooLongError`` when it does not fit the column."""
    value = _canonical(agreement, layout, sequence, issued_on)
    if width is None:
        return value
    if len(value) > width:
        value = value.lstrip("0").zfill(width)
    if len(value) > width:
        raise NossoNumeroTooLongError(value, width)
    return value.zfill(width) if agreement.bank_code in _ZERO_PADDED else value


def _whole(text: str) -> tuple[str, date | None] | None:
    return text, None


def _without_last(text: str) -> tuple[str, date | None] | None:
    return (text[:-1], None) if len(text) > 1 else None


def _bb(agreement: boleto_banks.Agreement) -> Callable[[str], tuple[str, date | None] | None]:
    convenio = agreement.agreement_code.strip()

    def cut(text: str) -> tuple[str, date | None] | None:
        if len(convenio) in (7, 8):  # convênio + sequence, no DV
            return (text[len(convenio) :], None) if text.startswith(convenio) else None
        # convênio + sequence + DV (a file may drop the convênio's leading zeros: compared below)
        return (text[len(convenio) : -1], None) if len(text) > len(convenio) + 1 else None

    return cut


def _caixa(text: str) -> tuple[str, date | None] | None:
    return (text[2:], None) if len(text) > 2 else None


def _ailos(text: str) -> tuple[str, date | None] | None:
    return (text[8:], None) if len(text) > 8 else None


def _sicredi(text: str) -> tuple[str, date | None] | None:
    # 9 digits: left-aligned in CNAB 240's column, right-aligned with zeros in CNAB 400's 15
    text = text.lstrip("0").zfill(9)
    if len(text) != 9:
        return None
    return text[3:8], date(2000 + int(text[:2]), 1, 1)


def _cutter(
    agreement: boleto_banks.Agreement, layout: str
) -> Callable[[str], tuple[str, date | None] | None] | None:
    bank = agreement.bank_code
    if bank == "001":
        return _bb(agreement)
    if bank == "104":
        return _caixa
    if bank == "085":
        return _ailos
    if bank == "748":
        return _sicredi
    if bank == "208" or (bank, layout) == ("341", "cnab400"):
        return _whole
    if bank in ("033", "077", "237", "341", "756"):
        return _without_last
    return None


def _comparable(text: str) -> str:
    return text.lstrip("0")


def sequence_from_retorno(agreement: boleto_banks.Agreement, layout: str, text: str) -> int | None:
    """The agreement's boleto sequence a retorno's nosso número column (``text``, as the file has it)
    names; None when the text is no number ``written`` gives for this agreement and layout (another
    convênio, a wrong check digit, blanks, letters where digits go) or the bank's number needs what
    the agreement does not hold."""
    text = text.strip()
    if not text or not text.isascii() or not text.isalnum():
        return None
    cut = _cutter(agreement, layout)
    if cut is None:
        return None
    candidate = cut(text.lstrip("0") if agreement.bank_code in _ZERO_PADDED else text)
    if candidate is None:
        return None
    digits, year = candidate
    if not digits or not digits.isdigit():
        return None
    sequence = int(digits)
    if not 0 < sequence <= _SEQUENCE_MAX:
        return None
    try:
        expected = _canonical(agreement, layout, sequence, year or date(2000, 1, 1))
    except BoletoError:
        return None
    return sequence if _comparable(expected) == _comparable(text) else None
