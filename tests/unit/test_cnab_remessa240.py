"""CNAB 240 remessa conformance: each golden remessa in the fixtures (other libraries' outputs, see
tests/fixtures/cnab/ATTRIBUTION.md) is read, rebuilt by ``build_remessa`` from the values read out
of it, and compared field by field (and the filler columns between fields) under the bank's
layout. Every difference must be one listed here, with the reason the bank's spec allows it; any
other difference fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistec.domain.banking.cnab import Agreement, CnabError, RemessaItem
from assistec.domain.banking.cnab.banks import CNAB240
from assistec.domain.banking.cnab.engine import Record
from assistec.domain.banking.cnab.remessa import build_remessa, read_remessa, records240
from tests.unit.cnab_support import fixture

SHOP_TZ = ZoneInfo("America/Sao_Paulo")
NSA = "the file sequence (NSA, FEBRABAN G018) is ours per agreement and never 0; the library left it 0"
COMPANY_USE = "'uso da empresa' (G072) is the company's free field: we repeat the document number"
NO_GUARANTOR = "sacador/avalista is optional (G053): the shop is the beneficiary itself, we send none"

ALLOWED: dict[str, dict[tuple[str, str], str]] = {
    "brcobranca/remessa-banco_brasil-cnab240.rem": {
        ("file_header", "sequence"): NSA,
        ("lot_header", "sequence"): NSA,
        ("segment_p", "company_use"): COMPANY_USE,
        ("lot_trailer", "filler 124-240"): "FEBRABAN's filler (CNAB) is blanks; brcobranca zero-fills it",
    },
    "brcobranca/remessa-sicredi-cnab240.rem": {
        ("file_header", "sequence"): NSA,
        ("lot_header", "sequence"): NSA,
        ("segment_p", "company_use"): COMPANY_USE,
    },
    "brcobranca/remessa-bancoob-cnab240.rem": {
        ("file_header", "sequence"): NSA,
        ("lot_header", "sequence"): NSA,
        ("segment_p", "company_use"): COMPANY_USE,
    },
    "brcobranca/remessa-caixa-cnab240.rem": {
        ("file_header", "app_version"): "212-215 is the company's application version (SIGCB): ours is blank",
    },
    "brcobranca/remessa-santander-cnab240.rem": {},
    "python-cnab/cobranca.itau.rem": {
        (
            "lot_header",
            "sequence",
        ): "python-cnab numbers the lot 90000001 and the file 900001; we use the file's",
        ("segment_q", "guarantor_doc_type"): NO_GUARANTOR,
        ("segment_q", "guarantor_document"): NO_GUARANTOR,
        ("segment_q", "guarantor_name"): NO_GUARANTOR,
    },
    "cnab240-ruby/sicoob_240_boletos.CED": {
        ("file_header", "bank_name"): "the bank's name (G061) is free text: we write SICOOB",
        (
            "lot_header",
            "recorded_on",
        ): "the recording date (G068): ours is the generation date, the library's was an older one",
        ("segment_p", "iof_cents"): "IOF (G032) applies to insurers' titles only: not a repair shop's",
        ("segment_p", "company_use"): COMPANY_USE,
        (
            "segment_q",
            "payer_city",
        ): "we write upper case, as the banks' manuals ask; the library kept 'Cidade'",
        ("segment_q", "guarantor_doc_type"): NO_GUARANTOR,
        ("segment_q", "guarantor_document"): NO_GUARANTOR,
        ("segment_q", "guarantor_name"): NO_GUARANTOR,
        ("segment_r", "discount2_code"): "a second discount is not in our model (one discount per boleto)",
        ("segment_r", "discount2_until"): "a second discount is not in our model",
        ("segment_r", "discount2_cents"): "a second discount is not in our model",
        ("segment_r", "message_3"): "free-text message lines (G073) are not written",
        ("segment_s", "not written"): "segment S (printed messages, optional) is not written",
        ("lot_trailer", "records"): "one record fewer in the lot: no segment S",
        ("file_trailer", "records"): "one record fewer in the file: no segment S",
    },
}


def _record_for(rec: Any, line: bytes) -> Record | None:
    rt = line[7]
    if rt == 48:
        return rec.file_header  # type: ignore[no-any-return]
    if rt == 49:
        return rec.lot_header  # type: ignore[no-any-return]
    if rt == 53:
        return rec.lot_trailer  # type: ignore[no-any-return]
    if rt == 57:
        return rec.file_trailer  # type: ignore[no-any-return]
    return {80: rec.seg_p, 81: rec.seg_q, 82: rec.seg_r}.get(line[13])


def _fillers(record: Record) -> list[tuple[int, int]]:
    covered: set[int] = set()
    for f in record.fields:
        covered.update(range(f.start, f.end + 1))
    runs, start = [], None
    for col in range(1, record.width + 2):
        if col <= record.width and col not in covered:
            start = col if start is None else start
        elif start is not None:
            runs.append((start, col - 1))
            start = None
    return runs


def diff240(bank_code: str, golden: bytes, ours: bytes) -> dict[tuple[str, str], tuple[Any, Any]]:
    rec, _ = records240(CNAB240[bank_code])
    g_lines = [line.ljust(240) for line in golden.replace(b"\r", b"").split(b"\n") if line]
    o_lines = [line for line in ours.split(b"\r\n") if line]
    diffs: dict[tuple[str, str], tuple[Any, Any]] = {}
    ours_iter = iter(o_lines)
    for g in g_lines:
        record = _record_for(rec, g)
        if record is None:
            diffs[(f"segment_{chr(g[13]).lower()}", "not written")] = (g[:14].decode(), None)
            continue
        o = next(ours_iter)
        assert _record_for(rec, o) is record, (g[:14], o[:14])
        dg, do = record.decode(g), record.decode(o)
        for name in dg:
            if dg[name] != do[name]:
                diffs[(record.name, name)] = (dg[name], do[name])
        for a, b in _fillers(record):
            if g[a - 1 : b] != o[a - 1 : b]:
                diffs[(record.name, f"filler {a}-{b}")] = (g[a - 1 : b], o[a - 1 : b])
    assert next(ours_iter, None) is None, "we wrote more records than the golden file has"
    return diffs


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_golden_remessa_rebuilt_field_by_field(name: str) -> None:
    golden = fixture(name)
    read = read_remessa(golden)
    ours = build_remessa(read.agreement, read.items, read.sequence or 1, read.generated_at)
    assert ours.endswith(b"\r\n")
    assert b"\n" not in ours.replace(b"\r\n", b"")
    assert all(len(line) == 240 for line in ours.split(b"\r\n")[:-1])
    diffs = diff240(read.bank_code, golden, ours)
    assert set(diffs) == set(ALLOWED[name]), diffs
    # And what we wrote reads back to the same titles (text as written: upper case, no accents).
    again = read_remessa(ours)
    assert again.items == tuple(map(_as_written, read.items))
    assert again.agreement == read.agreement


def _as_written(item: RemessaItem) -> RemessaItem:
    return replace(
        item,
        payer_name=item.payer_name.upper(),
        payer_address=item.payer_address.upper(),
        payer_district=item.payer_district.upper(),
        payer_city=item.payer_city.upper(),
    )


def test_values_read_from_golden_files() -> None:
    bb = read_remessa(fixture("brcobranca/remessa-banco_brasil-cnab240.rem"))
    (item,) = bb.items
    assert (bb.bank_code, bb.agreement.agreement_code, bb.agreement.branch, bb.agreement.account) == (
        "001", "1234567", "1234", "12345",
    )  # fmt: skip
    # BB's header convênio columns: convênio 001234567, 0014, carteira 12, variação 123
    assert (bb.agreement.wallet, bb.agreement.wallet_variation) == ("12", "123")
    assert (bb.generated_at.date(), bb.generated_at.time()) == (date(2015, 7, 14), time(16, 15, 15))
    assert (item.nosso_numero, item.document_number, item.amount_cents) == (
        "12345670000000123",
        "000000000006969",
        19990,
    )
    assert (item.due_date, item.issue_date, item.payer_document, item.payer_zip) == (
        date(2015, 7, 14), date(2015, 7, 14), "12345678901", "12345678",
    )  # fmt: skip
    itau = read_remessa(fixture("python-cnab/cobranca.itau.rem"))
    assert [(i.nosso_numero, i.amount_cents, i.interest_per_day_cents) for i in itau.items] == [
        ("900000002", 10000, 200),
        ("000000010", 20000, 200),
    ]
    ced = read_remessa(fixture("cnab240-ruby/sicoob_240_boletos.CED"))
    (c,) = ced.items
    assert (c.nosso_numero, c.amount_cents, c.discount_cents, c.discount_until, c.fine_cents) == (
        "0000006018", 200, 20, date(2013, 10, 25), 101,
    )  # fmt: skip


def _item(**over: Any) -> RemessaItem:
    base: dict[str, Any] = {
        "nosso_numero": "12345670000000123",
        "document_number": "OS-1234",
        "due_date": date(2026, 12, 10),
        "issue_date": date(2026, 11, 30),
        "amount_cents": 15990,
        "payer_name": "José da Conceição",
        "payer_document": "12345678909",
        "payer_address": "Rua das Flores, 10",
        "payer_district": "Centro",
        "payer_zip": "01001000",
        "payer_city": "São Paulo",
        "payer_state": "SP",
    }
    base.update(over)
    return RemessaItem(**base)


AGREEMENT = Agreement(
    bank_code="001",
    company_document="12345678000195",
    company_name="Assistência Técnica Ltda",
    branch="1234",
    branch_dv="3",
    account="12345",
    account_dv="5",
    agreement_code="1234567",
    wallet="17",
    wallet_variation="19",
)


def test_built_file_structure_and_accents() -> None:
    at = datetime(2026, 11, 30, 9, 5, tzinfo=SHOP_TZ)
    out = build_remessa(AGREEMENT, [_item(), _item(nosso_numero="12345670000000124")], 7, at)
    lines = out.split(b"\r\n")
    assert lines[-1] == b""
    assert len(lines) - 1 == 2 + 2 * 3 + 2
    assert lines[0][143:163] == b"30112026090500000007"  # date, time, NSA 7
    assert b"JOSE DA CONCEICAO" in lines[3]
    assert b"SAO PAULO" in lines[3]
    assert lines[-3][17:23] == b"000008"
    assert lines[-2][17:29] == b"000001000010"


def test_banco_do_brasil_headers_carry_convenio_0014_carteira_and_variation() -> None:
    out = build_remessa(AGREEMENT, [_item()], 1, datetime(2026, 11, 30, 9, 5, tzinfo=SHOP_TZ))
    file_header, lot_header = out.split(b"\r\n")[:2]
    # File header 33-52 and lot header 34-53: convênio (9, zero-padded) + 0014 + carteira (2) +
    # variação (3, zero-padded) + 2 blanks (BB's CNAB 240 manual; the golden brcobranca file alike)
    assert file_header[32:52] == b"001234567" + b"0014" + b"17" + b"019" + b"  "
    assert lot_header[33:53] == b"001234567" + b"0014" + b"17" + b"019" + b"  "
    assert file_header[52:58] == b"012343"  # the agência follows, untouched
    back = read_remessa(out).agreement
    assert (back.agreement_code, back.wallet, back.wallet_variation) == ("1234567", "17", "019")


@pytest.mark.parametrize("variation", ["", "1234", "1a"])
def test_banco_do_brasil_refuses_a_remessa_without_a_valid_variation(variation: str) -> None:
    with pytest.raises(CnabError) as exc:
        build_remessa(
            replace(AGREEMENT, wallet_variation=variation),
            [_item()],
            1,
            datetime(2026, 11, 30, tzinfo=SHOP_TZ),
        )
    assert exc.value.code == "wallet_variation_missing"
    assert "variação da carteira" in exc.value.message


def test_a_bank_without_those_columns_ignores_the_variation() -> None:
    sicoob = replace(AGREEMENT, bank_code="756", agreement_code="1234567", wallet="1", wallet_variation="")
    out = build_remessa(sicoob, [_item(nosso_numero="0000006018")], 1, datetime(2026, 11, 30, tzinfo=SHOP_TZ))
    assert read_remessa(out).agreement.wallet_variation == ""


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([], "empty_remessa"),
        ([_item(amount_cents=0)], "invalid_value"),
        ([_item(payer_zip="0100-100")], "invalid_value"),
        ([_item(amount_cents=10**16)], "field_overflow"),
    ],
)
def test_build_refusals(items: list[RemessaItem], code: str) -> None:
    with pytest.raises(CnabError) as exc:
        build_remessa(AGREEMENT, items, 1, datetime(2026, 11, 30, tzinfo=SHOP_TZ))
    assert exc.value.code == code
    assert exc.value.message
