"""The order status machine and the quote's money and text, as pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistec.domain import orders as machine
from assistec.domain import quotes as text
from assistec.domain.orders import Status


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (0, "R$ 0,00"),
        (5, "R$ 0,05"),
        (123456, "R$ 1.234,56"),
        (100000000, "R$ 1.000.000,00"),
        (-1235, "-R$ 12,35"),
    ],
)
def test_money_is_written_the_brazilian_way(cents: int, shown: str) -> None:
    assert text.brl(cents) == shown


@pytest.mark.parametrize(
    ("subtotal", "percent", "discount"),
    [
        (12345, Decimal(10), 1235),
        (12344, Decimal(10), 1234),
        (100, Decimal("33.33"), 33),
        (50, Decimal(100), 50),
    ],
)
def test_discounts_round_half_up_to_the_centavo(subtotal: int, percent: Decimal, discount: int) -> None:
    assert text.discount_cents(subtotal, percent) == discount


def test_templates_fill_known_fields_and_name_unknown_ones() -> None:
    assert text.render("{{CLIENTE}} paga {{ VALOR }} {{OUTRO}}", {"CLIENTE": "Ana", "VALOR": "R$ 1,00"}) == (
        "Ana paga R$ 1,00 {{OUTRO}}"
    )
    assert text.unknown_placeholders("{{VALOR}} {{TOTAL}} {{cliente}} {{XX}}") == ["TOTAL", "XX"]
    assert text.unknown_placeholders(text.DEFAULT_TEMPLATE) == []
    assert [text.working_days(d) for d in (0, 1, 5)] == ["no mesmo dia", "1 dia útil", "5 dias úteis"]


def test_every_open_status_can_be_cancelled_and_terminal_ones_accept_nothing() -> None:
    for status in Status:
        allowed = machine.allowed_from(status, [])
        if status in machine.TERMINAL:
            assert allowed == []
        else:
            assert Status.CANCELLED in allowed


def test_no_work_starts_without_approval() -> None:
    # The only ways into waiting_parts or repairing come from approved or from work already started
    work = {Status.WAITING_PARTS, Status.REPAIRING}
    sources = {s for s in Status for t in machine.allowed_from(s, []) if t in work}
    assert sources == {Status.APPROVED, Status.WAITING_PARTS, Status.REPAIRING, Status.QUALITY_CHECK}
    assert not (set(machine.allowed_from(Status.QUOTE_SENT, [])) & work)


def test_a_shop_tightens_but_never_strands_or_widens() -> None:
    assert machine.allowed_from(Status.REPAIRING, [("repairing", "ready")]) == [
        Status.WAITING_PARTS,
        Status.QUALITY_CHECK,
        Status.CANCELLED,
    ]
    assert machine.validate_disabled([("repairing", "ready")]) == []
    assert machine.validate_disabled([("received", "ready")]) == [
        "received → ready não é uma transição do fluxo padrão."
    ]
    assert machine.validate_disabled([("ready", "cancelled")]) == ["O cancelamento não pode ser desativado."]
    assert "Sem saída para diagnosing além do cancelamento." in machine.validate_disabled(
        [("diagnosing", "quote_sent")]
    )
    assert machine.validate_disabled([("quote_sent", "approved")]) == [
        "A decisão do cliente sobre o orçamento não pode ser desativada."
    ]
    assert machine.validate_disabled([("nada", "ready")]) == ["Status desconhecido em nada → ready."]
