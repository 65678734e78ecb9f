"""The adapter from the pure CNAB and statement parsers to the intake's ``ParsedFile``
(services/banking/readers.py), on the bank-issued fixtures: every field mapped, keys stable and
unique, the agreement's identity without zero padding, refusals with the parser's code."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistec.domain.banking.cnab import parse_retorno
from assistec.domain.banking.statements import parse_statement
from assistec.services.banking.parsing import ParseRefused
from assistec.services.banking.readers import KEY_MAX, _key, read_bank_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    "path",
    [
        "brcobranca/CBR64310.RET",
        "brcobranca/CNAB240.RET",
        "brcobranca/CNAB240SANTANDER.RET",
        "brcobranca/CNAB400ITAU.RET",
        "brcobranca/CNAB400SANTANDER.RET",
        "laravel-boleto/cnab240__caixa.ret",
        "laravel-boleto/cnab400__bradesco.ret",
    ],
)
def test_each_occurrence_is_mapped_with_a_unique_stable_key(path: str) -> None:
    data = (FIXTURES / "cnab" / path).read_bytes()
    parsed, retorno = read_bank_file("retorno", data), parse_retorno(data)
    assert parsed.format == retorno.layout
    assert parsed.bank_code == retorno.bank_code
    assert len(parsed.occurrences) == len(retorno.occurrences) > 0
    for mine, theirs in zip(parsed.occurrences, retorno.occurrences, strict=True):
        assert (mine.line_number, mine.kind, mine.occurrence_code) == (
            theirs.line,
            theirs.kind.value,
            theirs.code,
        )
        assert (mine.amount_cents, mine.paid_cents, mine.fee_cents) == (
            theirs.title_cents,
            theirs.paid_cents,
            theirs.fee_cents,
        )
        assert (mine.interest_cents, mine.discount_cents) == (theirs.interest_cents, theirs.discount_cents)
        assert (mine.occurred_on, mine.credited_on) == (theirs.occurred_on, theirs.credited_on)
        assert 0 < len(mine.idempotency_key) <= KEY_MAX
    keys = [o.idempotency_key for o in parsed.occurrences]
    assert len(set(keys)) == len(keys)
    assert [o.idempotency_key for o in read_bank_file("retorno", data).occurrences] == keys
    assert parsed.defects == tuple(d.code for d in retorno.defects)


def test_the_agreement_identity_and_nosso_numero_are_read_without_padding() -> None:
    bb = read_bank_file("retorno", (FIXTURES / "cnab/brcobranca/CBR64310.RET").read_bytes())
    # BB's 17-digit nosso número of a 7-digit convênio, as the file writes it: the intake reads the
    # sequence with the agreement's rules (domain nosso_numero, tests/unit/test_banking_nosso_numero.py)
    assert (bb.agreement_code, bb.occurrences[0].nosso_numero_text) == ("1622420", "16224200000000003")
    assert all(o.nosso_numero is None for o in bb.occurrences)
    itau = read_bank_file("retorno", (FIXTURES / "cnab/brcobranca/CNAB400ITAU.RET").read_bytes())
    # Itaú's CNAB 400 states no convênio: its branch and account identify the agreement
    assert (itau.agreement_code, itau.branch, itau.account) == (None, "730", "3511")
    assert itau.occurrences[0].nosso_numero_text == "00000011"


def test_banco_do_brasils_cnab240_convenio_is_the_headers_first_nine_digits() -> None:
    # 33-52: convênio (9), then the collection code 0014, carteira and variation
    parsed = read_bank_file(
        "retorno", (FIXTURES / "cnab/laravel-boleto/cnab240__banco_brasil.ret").read_bytes()
    )
    assert parsed.agreement_code == "3294860"


def test_the_banks_due_date_and_reason_codes_are_kept_blank_reasons_as_none() -> None:
    santander = read_bank_file("retorno", (FIXTURES / "cnab/brcobranca/CNAB240SANTANDER.RET").read_bytes())
    entry, settled = santander.occurrences
    assert (entry.kind, entry.reasons, entry.due_date) == ("entry_confirmed", None, date(2016, 4, 1))
    assert (settled.kind, settled.reasons) == ("settled", "0400000000")


def test_statement_lines_keep_their_signed_centavos_and_the_readers_line_id() -> None:
    data = (FIXTURES / "statements/itau.csv").read_bytes()
    parsed, statement = read_bank_file("statement", data), parse_statement(data)
    assert parsed.format == "csv"
    lines = [line for line in statement.lines if line.amount_cents]
    assert [(e.posted_on, e.amount_cents) for e in parsed.statement_lines] == [
        (line.posted_on, line.amount_cents) for line in lines
    ]
    assert all(
        e.idempotency_key.endswith(line.line_id)
        for e, line in zip(parsed.statement_lines, lines, strict=True)
    )
    assert read_bank_file("statement", data) == parsed


def test_a_long_key_is_hashed_never_cut() -> None:
    long = _key("341", "1" * 300)
    assert len(long) <= KEY_MAX
    assert long != _key("341", "1" * 299)
    assert _key("341", "12345", "7") == "341:12345:7"


@pytest.mark.parametrize(
    ("kind", "path", "code"),
    [
        ("retorno", "statements/conforming_102.ofx", "not_cnab"),
        ("retorno", "cnab/brcobranca/remessa-itau-cnab400.rem", "not_retorno"),
        ("statement", "cnab/brcobranca/CNAB400ITAU.RET", "unknown_format"),
        ("statement", "statements/itau_bad_date.csv", None),
    ],
)
def test_refusals_carry_the_parsers_code_and_pt_br_message(kind: str, path: str, code: str | None) -> None:
    with pytest.raises(ParseRefused) as refused:
        read_bank_file(kind, (FIXTURES / path).read_bytes())  # type: ignore[arg-type]
    assert refused.value.code
    assert code is None or refused.value.code == code
    assert refused.value.message


def test_a_due_date_change_is_its_own_kind_in_every_layout_that_reports_it() -> None:
    from assistec.domain.banking.cnab import OccurrenceKind
    from assistec.domain.banking.cnab.banks import CNAB240, CNAB400

    tables = [CNAB240[b].occurrences for b in ("001", "033", "756", "341")]
    tables += [CNAB400[b].occurrences for b in ("001", "033", "237", "341", "748")]
    assert all(table["14"][0] is OccurrenceKind.DUE_DATE_CHANGED for table in tables)
