"""Property (hypothesis): a generated remessa reads back to the same titles, for every remessa
layout we write (each bank's agreement taken from its golden file)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistec.domain.banking.cnab import Instruction, RemessaItem
from assistec.domain.banking.cnab.banks import CNAB240
from assistec.domain.banking.cnab.remessa import build_remessa, read_remessa, records240
from tests.unit.cnab_support import fixture

GOLDEN = {
    "001": "brcobranca/remessa-banco_brasil-cnab240.rem",
    "104": "brcobranca/remessa-caixa-cnab240.rem",
    "748": "brcobranca/remessa-sicredi-cnab240.rem",
    "756": "brcobranca/remessa-bancoob-cnab240.rem",
    "033": "brcobranca/remessa-santander-cnab240.rem",
    "341": "python-cnab/cobranca.itau.rem",
}
TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-/"


def test_every_remessa_layout_is_covered() -> None:
    assert set(GOLDEN) == {code for code, bank in CNAB240.items() if bank.remessa is not None}


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(TEXT, max_size=max_size).map(str.strip)


def digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=size, max_size=size)


days = st.dates(date(2000, 1, 1), date(2099, 12, 31))
cents = st.integers(0, 10**12)


def items_for(code: str) -> st.SearchStrategy[RemessaItem]:
    rec, prof = records240(CNAB240[code])
    p, q = rec.seg_p.by_name, rec.seg_q.by_name
    has_r = "R" in prof.segments

    @st.composite
    def item(draw: Any) -> RemessaItem:
        fine = draw(cents) if has_r else 0
        return RemessaItem(
            nosso_numero=draw(digits(min(p["nosso_numero"].width, 17))),
            document_number=draw(text(p["document_number"].width).filter(bool)),
            due_date=draw(days),
            issue_date=draw(days),
            amount_cents=draw(st.integers(1, 10**13 - 1)),
            payer_name=draw(text(q["payer_name"].width)),
            payer_document=draw(st.one_of(digits(11), digits(14))),
            payer_address=draw(text(q["payer_address"].width)),
            payer_district=draw(text(q["payer_district"].width)),
            payer_zip=draw(digits(8)),
            payer_city=draw(text(q["payer_city"].width)),
            payer_state=draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)),
            instruction=draw(st.sampled_from(list(Instruction))),
            interest_per_day_cents=draw(cents),
            interest_from=draw(st.none() | days),
            fine_cents=fine,
            fine_from=draw(st.none() | days) if has_r else None,
            discount_cents=draw(cents),
            discount_until=draw(st.none() | days),
            abatement_cents=draw(cents),
        )

    return item()


@pytest.mark.parametrize("code", sorted(GOLDEN))
def test_generated_remessa_reads_back_to_the_same_titles(code: str) -> None:
    agreement = read_remessa(fixture(GOLDEN[code])).agreement
    rec, _ = records240(CNAB240[code])
    has_time = "file_time" in rec.file_header.by_name  # Santander's remessa header has no time

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(items=st.lists(items_for(code), min_size=1, max_size=5), sequence=st.integers(1, 999_999))
    def check(items: list[RemessaItem], sequence: int) -> None:
        at = datetime(2026, 11, 30, 8, 30, 15, tzinfo=ZoneInfo("America/Sao_Paulo"))
        data = build_remessa(agreement, items, sequence, at)
        back = read_remessa(data)
        assert back.items == tuple(items)
        assert back.sequence == sequence
        assert back.agreement == agreement
        assert back.generated_at.date() == at.date()
        assert back.generated_at.time() == (at.time() if has_time else time(0))

    check()
