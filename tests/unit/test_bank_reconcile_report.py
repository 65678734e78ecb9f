"""The accountant's report rows and CSV: what a pt-BR spreadsheet opens, from one reconciliation."""

from __future__ import annotations

import csv
import io
from datetime import date

from assistec.domain.banking.reconcile import (
    ConfirmedMatch,
    ExpectedCredit,
    ExpectedSource,
    build_report,
    reconcile,
)
from assistec.domain.banking.report import Section, brl_number, report_csv, report_rows, summary_rows
from assistec.domain.banking.statements import LineKind, StatementLine

NOV = (date(2026, 11, 1), date(2026, 11, 30))


def _month():
    items = [
        ExpectedCredit("b1", ExpectedSource.BOLETO, 10_000, date(2026, 11, 3), "00012345678", 250),
        ExpectedCredit("b2", ExpectedSource.BOLETO, 20_000, date(2026, 11, 3), "00012345679", 250),
        ExpectedCredit("a1", ExpectedSource.ASAAS, 187_345, date(2026, 11, 16), "tra_9f8e7d6c5b4a"),
        ExpectedCredit("a2", ExpectedSource.ASAAS, 12_300, date(2026, 11, 18), "tra_000000000001"),
        ExpectedCredit("b3", ExpectedSource.BOLETO, 5_000, date(2026, 11, 19), "00012345680"),
    ]
    lines = [
        StatementLine("l1", date(2026, 11, 3), 30_000, "COBRANCA CRED LIQUIDACAO", LineKind.CREDIT),
        StatementLine("f1", date(2026, 11, 3), -500, "TAR COBRANCA", LineKind.FEE),
        StatementLine("l2", date(2026, 11, 16), 187_345, "TED ASAAS tra_9f8e7d6c5b4a", LineKind.CREDIT),
        StatementLine("pix", date(2026, 11, 23), 7_000, "PIX RECEBIDO JOSÉ", LineKind.CREDIT, document="771"),
        StatementLine("cesta", date(2026, 11, 30), -8_990, "CESTA DE SERVIÇOS", LineKind.FEE),
        StatementLine("l3", date(2026, 11, 24), 4_990, "COBRANCA CRED LIQUIDACAO", LineKind.CREDIT),
    ]
    confirmed = [ConfirmedMatch(("b3",), ("l3",))]  # the customer paid R$ 0,10 less; a person accepted
    result = reconcile(items, lines, confirmed)
    return result, build_report(result, *NOV)


def test_pt_br_numbers():
    assert [brl_number(c) for c in (0, 5, -350, 123456, 100000000)] == [
        "0,00",
        "0,05",
        "-3,50",
        "1.234,56",
        "1.000.000,00",
    ]


def test_rows_by_section_with_what_a_person_needs():
    result, _ = _month()
    rows = report_rows(result, *NOV)
    assert [(r.section, r.reference) for r in rows] == [
        (Section.MATCHED, "00012345678, 00012345679"),
        (Section.MATCHED, "tra_9f8e7d6c5b4a"),
        (Section.MATCHED, "00012345680"),
        (Section.EXPECTED_PENDING, "tra_000000000001"),
        (Section.STATEMENT_PENDING, "771"),
        (Section.FEE_PENDING, ""),
    ]
    batch, _, confirmed, pending, loose_credit, loose_fee = rows
    assert (batch.expected_cents, batch.statement_cents, batch.fees_cents, batch.difference_cents) == (
        30_000,
        30_000,
        500,
        0,
    )
    assert batch.status.startswith("Conciliado automaticamente (")
    assert batch.kind == "Boleto"
    assert confirmed.status == "Confirmado por uma pessoa"
    assert confirmed.difference_cents == -10
    assert pending.status == "Pendente"
    assert pending.note == "Nenhum lançamento parecido no extrato."
    assert loose_credit.description == "PIX RECEBIDO JOSÉ"
    assert (loose_fee.kind, loose_fee.fees_cents) == ("Tarifa", 8_990)


def test_the_csv_opens_in_a_pt_br_spreadsheet():
    result, report = _month()
    text = report_csv(report_rows(result, *NOV), report)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    summary = dict(r for r in rows[: len(summary_rows(report))])
    assert summary["Período"] == "01/11/2026 a 30/11/2026"
    assert summary["Taxa de conciliação automática"] == "60,00%"  # 3 of the 5 November items, automatically
    assert summary["Tarifas"] == "R$ 94,90"
    header = rows.index(
        [
            "Seção",
            "Data",
            "Tipo",
            "Referência",
            "Descrição",
            "Valor esperado",
            "Valor no extrato",
            "Tarifas",
            "Diferença",
            "Situação",
            "Observação",
        ]
    )
    first = rows[header + 1]
    assert first[:9] == [
        "Conciliados",
        "03/11/2026",
        "Boleto",
        "00012345678, 00012345679",
        "COBRANCA CRED LIQUIDACAO",
        "300,00",
        "300,00",
        "5,00",
        "0,00",
    ]
    assert len(rows) == header + 1 + 6
    assert text.endswith("\r\n")
