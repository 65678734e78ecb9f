"""The nosso número both ways (domain/banking/nosso_numero.py): the remessa's column from the boleto's
sequence, and the retorno's column back to it — on the bank-issued and library fixtures' real values
where they allow (their check digits verify), and as a property for every bank layout with a remessa:
sequence -> written -> the retorno's column -> the same sequence; a wrong check digit, another
convênio's prefix or another carteira's modality gives None (never another boleto)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistec.domain.banking.boleto import BoletoError
from assistec.domain.banking.boleto_banks import Agreement
from assistec.domain.banking.cnab import parse_retorno
from assistec.domain.banking.cnab.banks import CNAB240, CNAB400
from assistec.domain.banking.nosso_numero import (
    NossoNumeroTooLongError,
    remessa_width,
    sequence_from_retorno,
    written,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cnab"
ISSUED = date(2026, 11, 30)


def _column(path: str) -> list[str]:
    return [o.nosso_numero for o in parse_retorno((FIXTURES / path).read_bytes()).occurrences]


# --- the fixtures' real values --------------------------------------------------------------------------

# (fixture, the agreement as its header and lines state it, layout, the sequences its lines name)
VERIFIED = [
    # Banco do Brasil, 7-digit convênio: convênio + 10-digit sequence (bank-issued CBR643)
    ("brcobranca/CBR64310.RET", Agreement("001", "3325", "28935", "17", "1622420"), "cnab400",
     {0: 3, 1: 30, 2: 31}),
    ("laravel-boleto/cnab240__banco_brasil.ret", Agreement("001", "0328", "7536", "17", "3294860"), "cnab240",
     {0: 196, 1: 236, 4: 5048}),
    ("laravel-boleto/cnab400__bb.ret", Agreement("001", "1111", "99999999", "17", "1234567"), "cnab400",
     {0: 1}),
    # Itaú CNAB 400: 8 digits, no DAC in this column
    ("brcobranca/CNAB400ITAU.RET", Agreement("341", "0730", "3511", "109"), "cnab400", {0: 11, 3: 107}),
    ("laravel-boleto/cnab400__itau.ret", Agreement("341", "0111", "12345", "109"), "cnab400", {0: 231327}),
    # Itaú CNAB 240: 8 digits and the DAC over agência 4459 + conta 17600 + carteira 109 + number
    ("python-cnab/cobranca.itau.ret", Agreement("341", "4459", "17600", "109"), "cnab240",
     {0: 5, 1: 90000004}),
    # Bradesco CNAB 400: 11 digits and the DV over carteira 09 + number
    ("laravel-boleto/cnab400__bradesco.ret", Agreement("237", "1234", "1234567", "09"), "cnab400",
     {0: 9, 2: 18, 3: 19, 4: 20, 5: 21}),
    # Santander CNAB 240: 12 digits and the DV; CNAB 400: 7 digits and the DV
    ("brcobranca/CNAB240SANTANDER.RET", Agreement("033", "3163", "13002862", "101", "7401949"), "cnab240",
     {0: 140, 1: 140}),
    ("laravel-boleto/cnab240__santander.ret", Agreement("033", "4567", "11111111", "101", "1111111"),
     "cnab240", {0: 104}),
    ("python-cnab/cobranca.santander.ret", Agreement("033", "2260", "13000401", "101", "5015243"),
     "cnab240", {0: 6}),
    ("laravel-boleto/cnab400__santander_pix.ret", Agreement("033", "1111", "9999999", "101", "0000000"),
     "cnab400", {0: 1}),
    # Caixa SIGCB: modality (2 SR, 1 RG) + issuer 4 + 15 digits
    ("laravel-boleto/cnab240__caixa.ret", Agreement("104", "1234", "1", "SR", "043210"), "cnab240",
     {0: 11136997, 4: 22247}),
    ("laravel-boleto/cnab400__cef.ret", Agreement("104", "1111", "1", "RG", "999999"), "cnab400", {0: 1}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "agreement", "layout", "expected"), VERIFIED, ids=[v[0] for v in VERIFIED])
def test_the_fixtures_nosso_numero_gives_the_sequence_its_check_digit_verified(
    path: str, agreement: Agreement, layout: str, expected: dict[int, int]
) -> None:
    column = _column(path)
    assert {i: sequence_from_retorno(agreement, layout, column[i]) for i in expected} == expected
    # and it is exactly what the remessa writes for that sequence (zero padding aside)
    for i, sequence in expected.items():
        assert written(agreement, layout, sequence, issued_on=ISSUED).lstrip("0") == column[i].lstrip("0")


def test_every_line_of_the_verified_fixtures_is_read() -> None:
    for path, agreement, layout, _ in VERIFIED:
        column = _column(path)
        read = [sequence_from_retorno(agreement, layout, text) for text in column]
        if path == "laravel-boleto/cnab400__itau.ret":
            continue  # its line 2 (code 25) names another carteira's title: checked below
        assert None not in read, (path, list(zip(column, read, strict=True)))


@pytest.mark.parametrize(
    ("path", "agreement", "layout"),
    [
        # brcobranca's BB 240 sample: the header's convênio is 1999957, its titles' prefix 1449957
        ("brcobranca/CNAB240.RET", Agreement("001", "1234", "5432", "17", "1999957"), "cnab240"),
        # brcobranca's "Santander 400" sample carries the Itaú sample's nossos números: their DVs fail
        ("brcobranca/CNAB400SANTANDER.RET", Agreement("033", "0730", "0", "101", "0035110"), "cnab400"),
    ],
)
def test_fixtures_whose_values_disagree_with_their_own_header_are_not_matched(
    path: str, agreement: Agreement, layout: str
) -> None:
    read = [sequence_from_retorno(agreement, layout, text) for text in _column(path)]
    if agreement.bank_code == "001":
        assert set(read) == {None}
    else:  # a number taken at random has the right DV about one time in eleven
        assert read.count(None) >= 0.8 * len(read), read


def test_a_wrong_check_digit_another_convenio_or_modality_is_refused() -> None:
    santander = Agreement("033", "3163", "13002862", "101", "7401949")
    assert sequence_from_retorno(santander, "cnab240", "0000000001406") == 140
    assert sequence_from_retorno(santander, "cnab240", "0000000001407") is None
    bradesco = Agreement("237", "1234", "1234567", "09")
    assert sequence_from_retorno(bradesco, "cnab400", "000000000097") == 9
    assert sequence_from_retorno(bradesco, "cnab400", "00000000009P") is None
    # another carteira changes Bradesco's DV: the same text names no boleto of it
    assert sequence_from_retorno(Agreement("237", "1234", "1234567", "19"), "cnab400", "000000000097") is None
    bb = Agreement("001", "3325", "28935", "17", "1622420")
    assert sequence_from_retorno(bb, "cnab400", "16224210000000003") is None
    caixa_rg = Agreement("104", "1234", "1", "RG", "043210")
    assert sequence_from_retorno(caixa_rg, "cnab240", "24000000011136997") is None
    for text in ("", "   ", "ABC", "0000000000", "16224200000000003X", "١٢٣"):
        assert sequence_from_retorno(bb, "cnab400", text) is None


def _sicredi(posto: str | None, account: str = "4146") -> Agreement:
    options = MappingProxyType({"post": posto} if posto is not None else {})
    return Agreement("748", "0390", account, "1", "04346", options=options)


def test_sicredi_without_its_posto_is_left_for_a_person() -> None:
    assert _column("brcobranca/CNAB240SICREDI.CRT")[0] == "172000595"
    assert sequence_from_retorno(_sicredi(None), "cnab240", "172000595") is None
    with pytest.raises(BoletoError, match="Posto"):
        written(_sicredi(None), "cnab240", 59, issued_on=ISSUED)


def test_sicredi_with_its_posto_reads_the_fixtures_number_when_the_check_digit_agrees() -> None:
    # CNAB240SICREDI.CRT (brcobranca's, cooperativa 0390, conta 4146-8) names 17/200059-5 twice; the
    # file does not state its posto: the check digit (module 11 over cooperativa + posto + código +
    # the 8 digits) holds for 9 of the 100 postos, and only those read it as sequence 59 of 2017
    column = _column("brcobranca/CNAB240SICREDI.CRT")
    reading = {p: sequence_from_retorno(_sicredi(f"{p:02d}"), "cnab240", column[0]) for p in range(100)}
    assert {p for p, s in reading.items() if s is not None} == {4, 16, 28, 41, 53, 65, 77, 89, 90}
    assert set(reading.values()) == {None, 59}
    assert written(_sicredi("04"), "cnab240", 59, issued_on=date(2017, 4, 13)) == "172000595"
    # another year's number, another byte or a wrong DV name no boleto of this agreement
    for text in ("162000595", "173000595", "172000596"):
        assert sequence_from_retorno(_sicredi("04"), "cnab240", text) is None


def test_sicredi_cnab_400_right_aligns_the_number_with_zeros() -> None:
    # The CNAB 400 retorno's 48-62 (laravel-boleto's anonymised sample: 16/200001-5, zero-padded)
    [text] = _column("laravel-boleto/cnab400__sicredi.ret")
    assert text == "00000162000015"
    sicredi = Agreement("748", "1234", "12345", "1", "12345", options=MappingProxyType({"post": "18"}))
    posto = next(
        f"{p:02d}"
        for p in range(100)
        if sequence_from_retorno(
            replace(sicredi, options=MappingProxyType({"post": f"{p:02d}"})), "cnab400", text
        )
    )
    assert (
        sequence_from_retorno(replace(sicredi, options=MappingProxyType({"post": posto})), "cnab400", text)
        == 1
    )


# --- the property: every bank layout with a remessa ---------------------------------------------------

# (bank, layout, agreement, the largest sequence its column carries)
CASES = [
    ("001", "cnab240", Agreement("001", "1234", "56789", "17", "1234567"), 10**10 - 1),
    ("001", "cnab400", Agreement("001", "1234", "56789", "17", "1234567"), 10**10 - 1),
    ("001", "cnab240", Agreement("001", "1234", "56789", "17", "123456"), 10**5 - 1),
    ("001", "cnab400", Agreement("001", "1234", "56789", "17", "1234"), 10**7 - 1),
    ("104", "cnab240", Agreement("104", "1234", "56789", "RG", "123456"), 10**15 - 1),
    ("104", "cnab240", Agreement("104", "1234", "56789", "SR", "123456"), 10**15 - 1),
    ("033", "cnab240", Agreement("033", "1234", "56789", "101", "1234567"), 10**12 - 1),
    ("033", "cnab400", Agreement("033", "1234", "56789", "101", "1234567"), 10**7 - 1),
    ("756", "cnab240", Agreement("756", "4327", "3666", "1", "1234567"), 10**7 - 1),
    ("756", "cnab400", Agreement("756", "4327", "3666", "1", "1234567"), 10**7 - 1),
    ("341", "cnab240", Agreement("341", "4459", "17600", "109"), 10**8 - 1),
    ("341", "cnab240", Agreement("341", "4459", "17600", "126"), 10**8 - 1),
    ("341", "cnab400", Agreement("341", "4459", "17600", "109"), 10**8 - 1),
    ("237", "cnab400", Agreement("237", "1234", "1234567", "09"), 10**11 - 1),
    # Sicredi: year + byte 2 + 5 digits + DV over cooperativa + posto + código + those 8
    (
        "748",
        "cnab240",
        Agreement("748", "0165", "6238", "1", "12345", MappingProxyType({"post": "18"})),
        10**5 - 1,
    ),
    (
        "748",
        "cnab240",
        Agreement("748", "0390", "4146", "1", "04346", MappingProxyType({"post": "04"})),
        10**5 - 1,
    ),
]


def _retorno_width(bank: str, layout: str) -> int:
    if layout == "cnab240":
        return CNAB240[bank].seg_t.by_name["nosso_numero"].width
    details = CNAB400[bank].details
    if not details:  # no retorno layout yet (Sicoob's CNAB 400): the remessa's column
        width = remessa_width(bank, layout)
        assert width is not None
        return width
    return (details.get("7") or details["1"]).by_name["nosso_numero"].width


def test_the_cases_cover_every_bank_layout_with_a_remessa() -> None:
    with_remessa = {
        (code, layout)
        for layout, banks in (("cnab240", CNAB240), ("cnab400", CNAB400))
        for code in banks
        if remessa_width(code, layout) is not None
    }
    assert {(bank, layout) for bank, layout, _, _ in CASES} == with_remessa


@pytest.mark.parametrize(
    ("bank", "layout", "agreement", "top"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2].agreement_code or c[2].wallet}-{c[2].agency}" for c in CASES],
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_sequence_written_into_the_remessa_reads_back_from_the_retorno_and_a_wrong_dv_never(
    bank: str, layout: str, agreement: Agreement, top: int, data: st.DataObject
) -> None:
    sequence = data.draw(st.integers(min_value=1, max_value=top))
    width = remessa_width(bank, layout)
    assert width is not None
    value = written(agreement, layout, sequence, issued_on=ISSUED, width=width)
    assert len(value) <= width
    # the retorno's column, of its own width, holds what the remessa wrote (blanks after it)
    column = value.ljust(_retorno_width(bank, layout))
    assert len(column) == _retorno_width(bank, layout)
    assert sequence_from_retorno(agreement, layout, column) == sequence
    # any other last character is another check digit (or another sequence's last digit): never this
    # boleto's — it reads as None, or as that other sequence, whose own number it is
    stripped = column.strip()
    for other in "0123456789XP":
        if other == stripped[-1]:
            continue
        changed = stripped[:-1] + other
        read = sequence_from_retorno(agreement, layout, changed)
        assert read != sequence
        if read is not None:
            assert written(agreement, layout, read, issued_on=ISSUED, width=width).lstrip(
                "0"
            ) == changed.lstrip("0")


def test_a_number_the_column_cannot_hold_is_refused_when_written() -> None:
    santander = Agreement("033", "1234", "56789", "101", "1234567")
    width = remessa_width("033", "cnab400")
    assert width == 8
    with pytest.raises(NossoNumeroTooLongError):
        written(santander, "cnab400", 10**8, issued_on=ISSUED, width=width)
