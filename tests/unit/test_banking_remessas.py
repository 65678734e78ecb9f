"""The remessa use case's pure parts: the nosso número as each bank's remessa column carries it (as
the golden remessas in tests/fixtures/cnab write it), the file's name, each title's line, and a
boleto's interest and fine per line."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from assistec.db.remessas import TitleRow
from assistec.domain.banking.cnab import Instruction
from assistec.services.banking.remessas import (
    RemessaUnsupportedError,
    line_numbers,
    nosso_numero_width,
    remessa_filename,
    remessa_item,
    remessa_nosso_numero,
)

ISSUED = date(2026, 11, 30)
BB = {"branch": "1234", "account": "56789", "wallet": "17", "agreement_code": "1234567"}
SANTANDER = {"branch": "1234", "account": "56789", "wallet": "101", "agreement_code": "1234567"}


def _agreement(bank: str, layout: str, **fields: str) -> Any:
    return SimpleNamespace(
        bank_code=bank, layout=layout, **{"posto": None, "wallet_variation": None, **fields}
    )


@pytest.mark.parametrize(
    ("bank", "layout", "fields", "expected"),
    [
        # BB, 7-digit convênio: convênio + 10-digit sequence, no DV (golden "12345670000000123")
        ("001", "cnab240", BB,
         "12345670000000123"),
        ("001", "cnab400", BB,
         "12345670000000123"),
        # Caixa SIGCB: 17 digits = modality 1 + issuer 4 + 15 (golden "14000000000000123")
        ("104", "cnab240", {"branch": "1234", "account": "56789", "wallet": "RG", "agreement_code": "123456"},
         "14000000000000123"),
        # Santander: 12 digits and the DV in 240; 7 and the DV in 400
        ("033", "cnab240", SANTANDER,
         "0000000001236"),
        ("033", "cnab400", SANTANDER,
         "00001236"),
        # Sicoob: 7 digits and the DV, right-aligned with zeros (golden "0000429715")
        ("756", "cnab240", {"branch": "4327", "account": "3666", "wallet": "1", "agreement_code": "1234567"},
         "0000001235"),
        ("756", "cnab400", {"branch": "4327", "account": "3666", "wallet": "1", "agreement_code": "1234567"},
         "000000001235"),
        # Itaú CNAB 400: 8 digits, the DAC apart
        ("341", "cnab400", {"branch": "4459", "account": "17600", "wallet": "109", "agreement_code": "12345"},
         "00000123"),
        # Bradesco: 11 digits and the DV (golden "00000000123P")
        ("237", "cnab400", {"branch": "1234", "account": "1234567", "wallet": "9", "agreement_code": "123"},
         "000000001239"),
    ],
)  # fmt: skip
def test_the_nosso_numero_as_each_banks_remessa_writes_it(
    bank: str, layout: str, fields: dict[str, str], expected: str
) -> None:
    width = nosso_numero_width(bank, layout)
    assert remessa_nosso_numero(_agreement(bank, layout, **fields), 123, ISSUED, width) == expected
    assert len(expected) <= width


@pytest.mark.parametrize(("bank", "layout"), [("085", "cnab240"), ("208", "cnab240"), ("077", "cnab400"),
                                              ("104", "cnab400"), ("748", "cnab400")])  # fmt: skip
def test_layouts_without_remessa_are_refused_with_the_bank_named(bank: str, layout: str) -> None:
    with pytest.raises(RemessaUnsupportedError, match=bank):
        nosso_numero_width(bank, layout)


def test_sicredi_writes_its_nosso_numero_with_the_agreements_posto_and_refuses_one_without() -> None:
    width = nosso_numero_width("748", "cnab240")
    fields = {"branch": "0165", "account": "6238", "wallet": "1", "agreement_code": "12345"}
    # brcobranca's golden Sicredi 240 remessa (agência 0165, código 06238) writes 07/200003-1 in P 38-57;
    # its posto is not in the file, and posto 18 gives that check digit (as 8 other postos would)
    golden = _agreement("748", "cnab240", posto="18", **fields)
    assert remessa_nosso_numero(golden, 3, date(2007, 7, 14), width) == "072000031"
    assert remessa_nosso_numero(golden, 59, ISSUED, width) == "262000598"
    # another posto changes the check digit
    assert remessa_nosso_numero(
        _agreement("748", "cnab240", posto="17", **fields), 3, date(2007, 7, 14), width
    ) != ("072000031")
    # an agreement made before the posto existed: the remessa is refused, naming it
    with pytest.raises(RemessaUnsupportedError, match="Posto"):
        remessa_nosso_numero(_agreement("748", "cnab240", **fields), 123, ISSUED, width)


def test_the_filename_is_8_3_with_day_month_and_the_sequences_last_two_digits() -> None:
    assert remessa_filename(date(2026, 3, 7), 1) == "CB070301.REM"
    assert remessa_filename(date(2026, 12, 31), 1234) == "CB311234.REM"


def test_each_titles_first_line() -> None:
    assert line_numbers("cnab400", "341", ["register"] * 3) == [2, 3, 4]
    assert line_numbers("cnab240", "001", ["register"] * 3) == [3, 6, 9]  # P, Q, R per title


def _title(**over: Any) -> TitleRow:
    base: dict[str, Any] = {
        "boleto_id": uuid4(), "instruction_id": None, "instruction": "register", "new_due_date": None,
        "nosso_numero": 7, "amount_cents": 15_000, "issued_on": ISSUED, "due_date": date(2026, 12, 10),
        "interest_monthly_bp": 100, "fine_bp": 200, "discount_cents": 0, "discount_until": None,
        "status": "issued", "order_id": None, "customer_name": "Ana", "customer_document": "12345678909",
        "customer_address": {},
    }  # fmt: skip
    return TitleRow(**{**base, **over})


PAYER = {
    "payer_name": "Ana", "payer_document": "12345678909", "payer_address": "Rua A, 1", "payer_district": "",
    "payer_zip": "01001000", "payer_city": "São Paulo", "payer_state": "SP",
}  # fmt: skip


def test_a_titles_interest_and_fine_run_from_the_day_after_its_due_date() -> None:
    item = remessa_item(_title(), "00000007", PAYER)
    # 1% a month of R$ 150,00 over 30 days: R$ 0,05 a day; a 2% fine: R$ 3,00
    assert (item.interest_per_day_cents, item.fine_cents) == (5, 300)
    assert item.interest_from == item.fine_from == date(2026, 12, 11)
    assert (item.document_number, item.instruction) == ("7", Instruction.REGISTER)
    none = remessa_item(_title(interest_monthly_bp=0, fine_bp=0), "00000007", PAYER)
    assert (none.interest_per_day_cents, none.interest_from, none.fine_cents, none.fine_from) == (
        0,
        None,
        0,
        None,
    )


def test_a_due_date_change_carries_the_new_date() -> None:
    moved = date(2027, 1, 15)
    item = remessa_item(_title(instruction="change_due_date", new_due_date=moved), "00000007", PAYER)
    assert (item.instruction, item.due_date, item.interest_from) == (
        Instruction.CHANGE_DUE_DATE, moved, moved + timedelta(days=1),
    )  # fmt: skip
