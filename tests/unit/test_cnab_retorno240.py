"""CNAB 240 retornos: every bank-issued file in the fixtures, values read by hand from the files'
columns (FEBRABAN T/U positions, or the bank's where it moves them), totals against the trailers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from assistec.domain.banking.cnab import CnabError, OccurrenceKind, parse_retorno
from tests.unit.cnab_support import fixture

K = OccurrenceKind


def defects(r: object) -> dict[str, tuple[int, ...]]:
    return {d.code: d.lines for d in r.defects}  # type: ignore[attr-defined]


def test_bb_brcobranca_stripped_lines() -> None:
    r = parse_retorno(fixture("brcobranca/CNAB240.RET"))
    assert (r.bank_code, r.layout, r.variant) == ("001", "cnab240", "bb240")
    assert r.agreement.company_document == "35643899000145"
    assert r.agreement.agreement_code == "0019999570014"
    assert (r.agreement.branch, r.agreement.branch_dv, r.agreement.account, r.agreement.account_dv) == (
        "1234", "5", "5432", "1",
    )  # fmt: skip
    assert r.file_date == date(2011, 12, 29)
    # Every one of the 74 lines lost its trailing spaces in the source repo: padded, and reported.
    assert defects(r)["short_lines"] == tuple(range(1, 75))
    assert len(r.occurrences) == 35
    first, last = r.occurrences[0], r.occurrences[-1]
    assert first.line == 3
    assert first.nosso_numero == "14499570000020673"
    assert (first.code, first.kind) == ("17", K.SETTLED)
    assert first.due_date is None  # 00000000 in the file
    assert (first.title_cents, first.paid_cents, first.credited_cents, first.fee_cents) == (
        34400,
        34400,
        34297,
        103,
    )
    assert (first.interest_cents, first.discount_cents, first.abatement_cents) == (9, 1, 2)
    assert (first.occurred_on, first.credited_on) == (date(2011, 12, 29), date(2012, 1, 2))
    assert last.line == 71
    assert last.nosso_numero == "14499570007451702"
    assert (last.title_cents, last.paid_cents, last.credited_cents) == (38000, 38000, 37897)
    # Trailers: lot 72 records (header + 70 details + trailer), file 1 lot / 74 records; BB leaves
    # the title totals as zeros (not informed), so only the counts are checked.
    assert r.totals.records == 74
    assert (r.totals.titles, r.totals.amount_cents) == (0, 0)
    assert r.totals.checked == ("file_lots", "file_records", "lot_records")


def test_bb_laravel_241_char_lot_header() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab240__banco_brasil.ret"))
    assert r.variant == "bb240"
    assert r.sequence == 257
    assert r.file_date == date(2011, 3, 21)
    assert r.agreement.company_name == "SAPATARIA E CONFECSOES JIBA"
    assert defects(r) == {"long_lines": (2,)}
    assert len(r.occurrences) == 5
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.nosso_numero, first.code, first.kind) == ("32948600000000196", "06", K.SETTLED)
    assert (first.due_date, first.title_cents, first.paid_cents, first.fee_cents, first.credited_cents) == (
        date(2011, 3, 23), 4000, 4000, 500, 3500,
    )  # fmt: skip
    assert (first.occurred_on, first.credited_on) == (date(2011, 3, 21), date(2011, 3, 23))
    assert (last.line, last.nosso_numero, last.due_date) == (11, "32948600000005048", date(2011, 4, 1))
    assert (last.title_cents, last.paid_cents, last.credited_cents) == (2880, 2880, 2380)
    assert r.totals.records == 14


@pytest.mark.parametrize(
    ("name", "bank", "first_nn", "last_nn"),
    [
        ("brcobranca/CNAB240SICOOB.RET", "756", "0000000083", "0000000123"),
        ("brcobranca/CNAB240AILOS.RET", "085", "000000000000083", "000000000000123"),
    ],
)
def test_sicoob_and_ailos_with_a_misaligned_header(name: str, bank: str, first_nn: str, last_nn: str) -> None:
    r = parse_retorno(fixture(name))
    assert r.bank_code == bank
    # Their headers lost 17 columns mid-line (date, time and sequence sit 17 columns early): those
    # fields are not guessed, they are left out and reported.
    assert r.file_date is None
    assert r.sequence is None
    assert "header_misaligned" in defects(r)
    assert defects(r)["short_lines"] == tuple(range(1, 11))
    assert r.agreement.company_document == "82991308000100"
    assert (r.agreement.branch, r.agreement.account, r.agreement.account_dv) == ("3039", "48981", "6")
    assert len(r.occurrences) == 3
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.nosso_numero, first.document_number, first.code, first.kind) == (
        first_nn, "000000000000001", "06", K.SETTLED,
    )  # fmt: skip
    assert (first.due_date, first.title_cents, first.paid_cents, first.fee_cents) == (
        date(2015, 8, 13),
        200,
        200,
        170,
    )
    assert (first.occurred_on, first.credited_on) == (date(2015, 8, 10), date(2015, 8, 10))
    assert (last.line, last.nosso_numero, last.document_number) == (7, last_nn, "000000000000013")
    assert r.totals.records == 10
    assert "lot_records" in r.totals.checked


def test_sicredi_totals_checked_against_the_lot_trailer() -> None:
    r = parse_retorno(fixture("brcobranca/CNAB240SICREDI.CRT"))
    assert (r.variant, r.sequence, r.file_date) == ("sicredi240", 5, date(2017, 4, 7))
    assert r.agreement.company_document == "40599552000102"
    assert r.agreement.company_name == "EMPRESALTDA ME"
    assert r.defects == ()
    first, last = r.occurrences
    assert (first.nosso_numero, first.code, first.kind, first.title_cents) == (
        "172000595",
        "02",
        K.ENTRY_CONFIRMED,
        995,
    )
    assert (first.due_date, first.occurred_on, first.credited_on) == (
        date(2017, 4, 13),
        date(2017, 4, 6),
        None,
    )
    assert (last.code, last.kind, last.fee_cents, last.credited_on) == ("28", K.FEE, 380, date(2017, 4, 6))
    # The lot trailer: 6 records, 2 titles, R$ 19,90 = 2 x 995: checked, not just read.
    assert (r.totals.titles, r.totals.amount_cents) == (2, 1990)
    assert {"lot_titles", "lot_amount", "lot_records", "file_records"} <= set(r.totals.checked)


def test_sicredi_trailer_sum_that_disagrees_is_refused() -> None:
    data = fixture("brcobranca/CNAB240SICREDI.CRT").replace(
        b"00000600000200000000000001990", b"00000600000200000000000001991"
    )
    with pytest.raises(CnabError) as exc:
        parse_retorno(data)
    assert exc.value.code == "trailer_mismatch"
    assert exc.value.line == 7


def test_caixa_sigcb() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab240__caixa.ret"))
    assert (r.variant, r.sequence, r.file_date) == ("caixa240", 1622, date(2014, 1, 6))
    assert (r.agreement.agreement_code, r.agreement.branch, r.agreement.branch_dv) == ("043210", "1234", "2")
    assert r.defects == ()
    assert len(r.occurrences) == 9
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.nosso_numero, first.kind, first.due_date) == (
        "24000000011136997",
        K.SETTLED,
        date(2014, 1, 2),
    )
    assert (first.title_cents, first.paid_cents, first.fee_cents, first.credited_on) == (
        8000,
        8000,
        125,
        date(2014, 1, 7),
    )
    assert (last.line, last.nosso_numero, last.due_date) == (19, "24000000000030572", date(2014, 1, 10))
    assert (last.title_cents, last.discount_cents, last.paid_cents, last.fee_cents) == (8000, 1000, 7000, 270)
    assert r.totals.records == 22


def test_santander_brcobranca_portfolio_totals_are_not_the_file() -> None:
    r = parse_retorno(fixture("brcobranca/CNAB240SANTANDER.RET"))
    assert (r.variant, r.sequence, r.file_date) == ("santander240", 34, date(2016, 4, 1))
    assert (r.agreement.agreement_code, r.agreement.branch, r.agreement.account) == (
        "007401949",
        "3163",
        "13002862",
    )
    first, last = r.occurrences
    assert (first.nosso_numero, first.code, first.kind, first.fee_cents) == (
        "0000000001406",
        "02",
        K.ENTRY_CONFIRMED,
        392,
    )
    assert (last.line, last.code, last.kind, last.paid_cents) == (5, "06", K.SETTLED, 1000)
    assert last.credited_on == date(2016, 4, 4)
    # Santander's lot trailer counts only the detail lines (4) and declares the portfolio (65
    # titles, R$ 11.904,75), not this file: read, not checked.
    assert (r.totals.titles, r.totals.amount_cents) == (65, 1190475)
    assert "lot_amount" not in r.totals.checked
    assert "lot_records" in r.totals.checked


@pytest.mark.parametrize(
    ("name", "nn", "due", "title", "paid", "fee", "credited_on"),
    [
        (
            "laravel-boleto/cnab240__santander.ret",
            "0000000001040",
            date(2014, 6, 4),
            1000,
            1100,
            324,
            date(2014, 6, 5),
        ),
        (
            "python-cnab/cobranca.santander.ret",
            "0000000000060",
            date(2011, 8, 4),
            4350,
            4350,
            264,
            date(2011, 8, 5),
        ),
    ],
)
def test_santander_single_title(
    name: str, nn: str, due: date, title: int, paid: int, fee: int, credited_on: date
) -> None:
    r = parse_retorno(fixture(name))
    assert r.variant == "santander240"
    assert r.defects == ()
    (o,) = r.occurrences
    assert (o.nosso_numero, o.code, o.kind) == (nn, "17", K.SETTLED)
    assert (o.due_date, o.title_cents, o.paid_cents, o.fee_cents, o.credited_on) == (
        due,
        title,
        paid,
        fee,
        credited_on,
    )


def test_itau_240() -> None:
    r = parse_retorno(fixture("python-cnab/cobranca.itau.ret"))
    assert (r.variant, r.sequence, r.file_date) == ("itau240", 4, date(2012, 7, 5))
    assert (r.agreement.branch, r.agreement.account, r.agreement.account_dv) == ("4459", "17600", "6")
    first, last = r.occurrences
    assert (first.nosso_numero, first.document_number, first.kind) == (
        "000000050",  # 8 digits + DAC
        "9999999996",
        K.ENTRY_CONFIRMED,
    )
    assert (first.due_date, first.title_cents, first.fee_cents) == (date(2012, 7, 1), 20000, 350)
    assert (last.nosso_numero, last.document_number, last.due_date, last.title_cents) == (
        "900000044", "9999999997", date(2012, 6, 30), 10000,
    )  # fmt: skip
    assert (r.totals.titles, r.totals.amount_cents) == (2, 30000)
    assert "lot_amount" in r.totals.checked


def test_btg_refused_its_header_is_not_240_columns() -> None:
    with pytest.raises(CnabError) as exc:
        parse_retorno(fixture("laravel-boleto/cnab240__btg.ret"))
    assert exc.value.code == "line_too_long"
    assert exc.value.line == 1
    assert exc.value.details == {"length": 308, "width": 240}


def test_btg_even_with_its_header_cut_its_trailers_do_not_add_up() -> None:
    data = fixture("laravel-boleto/cnab240__btg.ret")
    head, rest = data.split(b"\r\n", 1)
    with pytest.raises(CnabError) as exc:
        parse_retorno(head[:243] + b"\r\n" + rest)  # BOM (3 bytes) + 240 columns
    # The lot trailer says 1 record; the lot has 6 (header, 4 details, trailer).
    assert exc.value.code == "trailer_mismatch"
    assert exc.value.details == {"declared": 1, "found": 6}


def test_sispag_payments_are_not_cobranca() -> None:
    with pytest.raises(CnabError) as exc:
        parse_retorno(fixture("cnab240-ruby/SB22112AIT.RET"))
    assert exc.value.code == "not_cobranca"
    assert "SISPAG" in exc.value.message
    assert exc.value.line == 2


def test_remessa_is_not_a_retorno() -> None:
    with pytest.raises(CnabError) as exc:
        parse_retorno(fixture("brcobranca/remessa-banco_brasil-cnab240.rem"))
    assert exc.value.code == "not_retorno"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"OFXHEADER:100\nDATA:OFXSGML\n", "not_cnab"),
        (b"%PDF-1.4\n" + b"x" * 300, "not_cnab"),
        (b"99900000" + b" " * 232 + b"\n", "unknown_bank"),
    ],
)
def test_refusals(data: bytes, code: str) -> None:
    with pytest.raises(CnabError) as exc:
        parse_retorno(data)
    assert exc.value.code == code
    assert exc.value.message


def test_framing_defects_reported() -> None:
    good = fixture("brcobranca/CNAB240SICREDI.CRT")
    lines = good.split(b"\n")
    mixed = b"\xef\xbb\xbf" + b"\r\n".join(lines[:4]) + b"\n" + b"\n".join(lines[4:]).rstrip(b"\n")
    r = parse_retorno(mixed)
    assert {"bom", "mixed_line_endings", "no_final_newline"} <= set(defects(r))
    assert [o.nosso_numero for o in r.occurrences] == [
        o.nosso_numero for o in parse_retorno(good).occurrences
    ]


def test_truncated_and_bad_fields() -> None:
    good = fixture("brcobranca/CNAB240SICREDI.CRT")
    with pytest.raises(CnabError) as exc:
        parse_retorno(b"\n".join(good.split(b"\n")[:-2]))
    assert exc.value.code == "truncated"
    lines = good.split(b"\n")
    lines[2] = lines[2][:81] + b"00000000000099X" + lines[2][96:]  # T value with a letter
    with pytest.raises(CnabError) as exc:
        parse_retorno(b"\n".join(lines))
    assert exc.value.code == "invalid_field"
    assert exc.value.line == 3
    assert "title_cents" in exc.value.message


def test_check_agreement() -> None:
    from assistec.domain.banking.cnab import Agreement, check_agreement

    r = parse_retorno(fixture("laravel-boleto/cnab240__banco_brasil.ret"))  # convênio 0032948600014
    ours = Agreement(
        bank_code="001", company_document="02659953000176", company_name="X", branch="328", account="7536"
    )
    check_agreement(r, replace(ours, agreement_code="32948600014"))  # padding does not count
    for other in (
        replace(ours, agreement_code="32948600015"),
        replace(ours, bank_code="104", agreement_code="1"),
    ):
        with pytest.raises(CnabError) as exc:
            check_agreement(r, other)
        assert exc.value.code == "other_agreement"
    ailos = parse_retorno(fixture("brcobranca/CNAB240AILOS.RET"))  # no convênio stated: branch/account
    check_agreement(ailos, replace(ours, bank_code="085", branch="3039", account="48981"))
    with pytest.raises(CnabError):
        check_agreement(ailos, replace(ours, bank_code="085", branch="3039", account="48982"))
