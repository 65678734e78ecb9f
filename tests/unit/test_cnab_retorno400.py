"""CNAB 400 retornos, per bank: values read by hand from the files' columns (the bank's positions),
the trailers' totals cross-checked where the layout defines them for the file (not the portfolio)."""

from __future__ import annotations

from datetime import date

import pytest

from assistec.domain.banking.cnab import CnabError, OccurrenceKind, Retorno, parse_retorno
from tests.unit.cnab_support import fixture

K = OccurrenceKind


def codes(r: Retorno) -> set[str]:
    return {d.code for d in r.defects}


def test_bb_cbr643_detail_type_7() -> None:
    r = parse_retorno(fixture("brcobranca/CBR64310.RET"))
    assert (r.bank_code, r.layout, r.variant) == ("001", "cnab400", "bb_cbr643")
    assert (r.agreement.agreement_code, r.agreement.branch, r.agreement.branch_dv) == ("1622420", "3325", "1")
    assert (r.agreement.account, r.agreement.account_dv) == ("28935", "3")
    assert (r.sequence, r.file_date) == (7, date(2009, 1, 20))
    assert r.defects == ()
    assert len(r.occurrences) == 26
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.line, first.nosso_numero, first.code, first.kind) == (
        2,
        "16224200000000003",
        "06",
        K.SETTLED,
    )
    assert (first.title_cents, first.paid_cents, first.fee_cents, first.credited_cents) == (
        9064,
        9064,
        500,
        8564,
    )
    assert (first.occurred_on, first.credited_on, first.due_date) == (
        date(2009, 1, 20),
        date(2009, 1, 22),
        None,
    )
    assert (last.line, last.nosso_numero, last.title_cents, last.paid_cents) == (
        27,
        "16224200000000055",
        56738,
        56738,
    )
    # BB's trailer totals are the portfolio's (and zeros here): only the sequence numbers are checked.
    assert r.totals.checked == ("sequence_numbers",)
    assert r.totals.records == 28


def test_bb_laravel_400() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__bb.ret"))
    assert r.variant == "bb_cbr643"
    assert codes(r) == {"no_final_newline"}
    (o,) = r.occurrences
    assert (o.nosso_numero, o.document_number, o.kind, o.title_cents) == (
        "12345670000000001",
        "1",
        K.ENTRY_CONFIRMED,
        10000,
    )
    assert (o.due_date, o.occurred_on) == (date(2016, 10, 20), date(2016, 10, 20))


def test_itau_400_brcobranca_trailer_totals_checked() -> None:
    r = parse_retorno(fixture("brcobranca/CNAB400ITAU.RET"))
    assert (r.variant, r.sequence, r.file_date) == ("itau400", 25, date(2013, 5, 20))
    assert (r.agreement.branch, r.agreement.account, r.agreement.account_dv) == ("730", "3511", "0")
    assert len(r.occurrences) == 52
    # 63-70, 8 digits: the CNAB 400 remessa has no DAC column
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.nosso_numero, first.code, first.kind) == (
        "00000011",
        "06",
        K.SETTLED,
    )  # 63-70: the 400 remessa has no DAC column
    # 254-266 is the net credited (Itaú's "valor principal"): the payer paid it plus the fee
    assert (first.title_cents, first.paid_cents, first.fee_cents, first.credited_on) == (
        4000,
        4000,
        210,
        date(2013, 5, 21),
    )
    assert first.credited_cents == 3790
    # (the write-off's column is read as the layout has it, nothing credited)
    assert last.credited_cents is None
    assert (last.line, last.nosso_numero, last.document_number, last.code, last.kind) == (
        53, "27714592", "0000002068", "09", K.WRITTEN_OFF,
    )  # fmt: skip
    assert (last.due_date, last.title_cents) == (date(2013, 5, 10), 4000)
    # Trailer 213-220 / 221-234: 52 details worth R$ 2.688,96 — the sum of the 52 title values.
    assert (r.totals.titles, r.totals.amount_cents) == (52, 268896)
    assert {"details", "details_cents", "sequence_numbers"} <= set(r.totals.checked)


def test_itau_400_laravel() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__itau.ret"))
    assert (r.variant, r.sequence, r.file_date) == ("itau400", 112, date(2013, 8, 22))
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.nosso_numero, first.document_number, first.title_cents, first.fee_cents) == (
        "00231327",
        "1A",
        38975,
        333,
    )
    assert (first.credited_cents, first.discount_cents, first.abatement_cents) == (20997, 17645, 19)
    assert first.paid_cents == 20997 + 333
    assert (last.nosso_numero, last.title_cents, last.credited_cents) == ("00237636", 54560, 34067)
    # what was credited is what was paid less the fee, on each settlement with sane values
    for o in r.occurrences[1:]:
        if o.kind is not K.SETTLED:
            continue
        assert (
            o.credited_cents
            == o.title_cents - o.discount_cents - o.abatement_cents + o.interest_cents - o.fee_cents
        )
        assert o.paid_cents == o.credited_cents + o.fee_cents
    assert (r.totals.titles, r.totals.amount_cents) == (4, 189576)


def test_itau_400_trailer_count_that_disagrees_is_refused() -> None:
    data = fixture("brcobranca/CNAB400ITAU.RET").replace(
        b"0000003200000000148705  21/05S0002500000052", b"0000003200000000148705  21/05S0002500000051"
    )
    with pytest.raises(CnabError) as exc:
        parse_retorno(data)
    assert exc.value.code == "trailer_mismatch"
    assert exc.value.details["found"] == 52


def test_bradesco_400_laravel_per_occurrence_totals() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__bradesco.ret"))
    assert (r.variant, r.sequence, r.file_date) == ("bradesco400", 42, date(2012, 4, 11))
    assert r.agreement.agreement_code == "00000000000004466911"
    assert r.agreement.company_name == "COOPERATIVA DE SERVICOS TECNIC"
    assert len(r.occurrences) == 7
    first, second, last = r.occurrences[0], r.occurrences[1], r.occurrences[-1]
    assert (first.nosso_numero, first.code, first.kind, first.title_cents, first.fee_cents) == (
        "000000000097", "02", K.ENTRY_CONFIRMED, 500, 252,
    )  # fmt: skip
    assert (first.due_date, first.document_number) == (date(2012, 4, 12), "15")
    assert (second.code, second.kind, second.paid_cents, second.credited_on) == (
        "06",
        K.SETTLED,
        500,
        date(2012, 4, 13),
    )
    assert (last.line, last.nosso_numero, last.code, last.kind, last.paid_cents) == (
        8,
        "000000000224",
        "17",
        K.SETTLED,
        2,
    )
    # Trailer: 1 entry (02) worth R$ 5,00 and 1 settlement (06) worth R$ 5,00 — both checked.
    assert {"entries", "entries_cents", "settled", "settled_cents"} <= set(r.totals.checked)


def test_bradesco_400_brcobranca_refused_its_trailer_sum_disagrees() -> None:
    # The maintainers edited this sample: the trailer says the 5 entries (02) total R$ 2.020,00;
    # the five details add up to R$ 2.730,00 (1.450 + 180 + 720 + 200 + 180). Not trusted.
    with pytest.raises(CnabError) as exc:
        parse_retorno(fixture("brcobranca/CNAB400BRADESCO.RET"))
    assert exc.value.code == "trailer_mismatch"
    assert exc.value.line == 8
    assert exc.value.details == {"field": "entries_cents", "declared": 202000, "found": 273000}


def test_santander_400_brcobranca_with_pix_record() -> None:
    r = parse_retorno(fixture("brcobranca/CNAB400SANTANDER.RET"))
    assert (r.variant, r.file_date) == ("santander400", date(2013, 5, 20))
    assert r.agreement.agreement_code == "00035110"
    assert {d.code: d.lines for d in r.defects} == {"other_records": (54,)}
    assert len(r.occurrences) == 52
    first, last = r.occurrences[0], r.occurrences[-1]
    assert (first.nosso_numero, first.kind, first.title_cents, first.paid_cents, first.fee_cents) == (
        "00000011", K.SETTLED, 4000, 3790, 210,
    )  # fmt: skip
    assert (last.line, last.nosso_numero, last.kind, last.due_date) == (
        53,
        "27714592",
        K.WRITTEN_OFF,
        date(2013, 5, 10),
    )
    assert r.totals.checked == ("sequence_numbers",)


def test_santander_400_pix_laravel() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__santander_pix.ret"))
    assert codes(r) == {"no_final_newline", "other_records"}
    (o,) = r.occurrences
    assert (o.nosso_numero, o.kind, o.title_cents, o.due_date) == (
        "00000019",
        K.ENTRY_CONFIRMED,
        10000,
        date(2016, 10, 20),
    )


def test_caixa_400() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__cef.ret"))
    assert (r.variant, r.agreement.agreement_code, r.agreement.branch) == ("caixa400", "999999", "1111")
    (o,) = r.occurrences
    # Caixa's 400 code 02 is "baixa confirmada" (its entry is 01).
    assert (o.nosso_numero, o.code, o.kind, o.title_cents) == (
        "14000000000000001",
        "02",
        K.WRITTEN_OFF,
        10000,
    )
    assert (o.due_date, o.occurred_on) == (date(2016, 10, 19), date(2016, 10, 20))


def test_sicredi_400_zero_filled_header_date() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__sicredi.ret"))
    assert (r.variant, r.sequence) == ("sicredi400", 1)
    assert r.agreement.agreement_code == "99999"
    assert r.agreement.company_document == "99999999999999"
    # Sicredi writes the header date as AAAAMMDD; this sample holds "11111600": not a date, not guessed.
    assert r.file_date is None
    assert "header_misaligned" in codes(r)
    (o,) = r.occurrences
    assert (o.nosso_numero, o.kind, o.title_cents, o.due_date) == (
        "00000162000015",
        K.ENTRY_CONFIRMED,
        10000,
        date(2016, 11, 11),
    )


def test_inter_400() -> None:
    r = parse_retorno(fixture("laravel-boleto/cnab400__inter.ret"))
    assert (r.variant, r.file_date) == ("inter400", date(2021, 12, 6))
    (o,) = r.occurrences
    assert (o.document_number, o.code, o.kind, o.title_cents, o.paid_cents) == (
        "0000000001",
        "02",
        K.ENTRY_CONFIRMED,
        1000,
        0,
    )
    assert (o.due_date, o.occurred_on, o.credited_on) == (date(2021, 12, 7), date(2021, 12, 6), None)
    assert "details" in r.totals.checked
    assert r.totals.titles == 1


def test_400_out_of_order_sequence_refused() -> None:
    lines = fixture("laravel-boleto/cnab400__itau.ret").split(b"\r\n")
    lines[1], lines[2] = lines[2], lines[1]
    with pytest.raises(CnabError) as exc:
        parse_retorno(b"\r\n".join(lines))
    assert exc.value.code == "sequence_mismatch"
    assert exc.value.line == 2


def test_400_remessa_refused() -> None:
    with pytest.raises(CnabError) as exc:
        parse_retorno(fixture("brcobranca/remessa-itau-cnab400.rem"))
    assert exc.value.code == "not_retorno"


def test_the_collector_is_paused_while_reading_and_restored_after() -> None:
    """parse_retorno pauses Python's cyclic collector (its cost on a large file) and puts it back as
    it was: on after a parse, on after a refused file, and left off for a caller that had it off."""
    import gc

    seen: list[bool] = []
    assert gc.isenabled()
    parse_retorno(fixture("brcobranca/CNAB400ITAU.RET"))
    assert gc.isenabled()
    with pytest.raises(CnabError):
        parse_retorno(fixture("brcobranca/CNAB400ITAU.RET").replace(b"\n1", b"\n7", 1))
    assert gc.isenabled()
    gc.disable()
    try:
        parse_retorno(fixture("brcobranca/CNAB400ITAU.RET"))
        seen.append(gc.isenabled())
    finally:
        gc.enable()
    assert seen == [False]
