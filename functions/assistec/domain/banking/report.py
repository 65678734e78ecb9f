"""The accountant's reconciliation report as rows: one model for the CSV (rendered here) and the PDF
(services/documents renders it from the same rows). Pure; pt-BR labels, integer centavos."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from assistec.domain.banking.reconcile import (
    REASONS_PT,
    ExpectedCredit,
    ExpectedSource,
    Match,
    Reconciliation,
    ReconciliationReport,
)
from assistec.domain.banking.statements import LineKind, StatementLine


class Section(StrEnum):
    MATCHED = "matched"
    EXPECTED_PENDING = "expected_pending"  # expected, not on the statement
    STATEMENT_PENDING = "statement_pending"  # on the statement, nothing explains it
    FEE_PENDING = "fee_pending"  # a tariff debit no settlement accounts for


SECTION_TITLES = {
    Section.MATCHED: "Conciliados",
    Section.EXPECTED_PENDING: "Recebimentos esperados sem lançamento no extrato",
    Section.STATEMENT_PENDING: "Créditos no extrato sem recebimento correspondente",
    Section.FEE_PENDING: "Tarifas não atribuídas",
}
SOURCE_LABELS = {ExpectedSource.BOLETO: "Boleto", ExpectedSource.ASAAS: "Transferência Asaas"}


@dataclass(frozen=True, slots=True)
class ReportRow:
    section: Section
    day: date
    kind: str  # pt-BR: "Boleto", "Transferência Asaas", "Crédito no extrato", "Tarifa"
    reference: str  # nosso número(s), transfer id, or the bank's document/FITID
    description: str
    expected_cents: int | None
    statement_cents: int | None
    fees_cents: int | None
    difference_cents: int | None
    status: str  # pt-BR
    note: str  # pt-BR: why it matched, or what a person should look at


def brl_number(cents: int) -> str:
    """pt-BR number without the currency sign, as spreadsheets in Brazil read it: -1.234,56."""
    sign = "-" if cents < 0 else ""
    reais, centavos = divmod(abs(cents), 100)
    return f"{sign}{reais:,}".replace(",", ".") + f",{centavos:02d}"


def _references(items: list[ExpectedCredit]) -> str:
    refs = [i.reference or i.expected_id for i in items]
    shown = ", ".join(refs[:3])
    return f"{shown} (+{len(refs) - 3})" if len(refs) > 3 else shown


def _match_row(match: Match, result: Reconciliation) -> ReportRow:
    items = [result.expected_by_id[i] for i in match.expected_ids if i in result.expected_by_id]
    lines = [result.lines_by_id[i] for i in match.line_ids if i in result.lines_by_id]
    kinds = {SOURCE_LABELS[i.source] for i in items}
    day = min([i.credit_on for i in items] + [line.posted_on for line in lines], default=date.min)
    if match.confirmed:
        status = "Confirmado por uma pessoa"
    else:
        status = f"Conciliado automaticamente ({match.confidence}%)"
    note = REASONS_PT[match.reason]
    if match.alternatives:
        note += " Pode ser trocado por: " + ", ".join(match.alternatives) + "."
    if match.difference_cents and not match.confirmed and match.difference_cents == match.fees_cents:
        note += " A tarifa ainda não foi debitada no extrato."
    return ReportRow(
        section=Section.MATCHED,
        day=day,
        kind=" + ".join(sorted(kinds)) or "Recebimento",
        reference=_references(items) if items else ", ".join(match.expected_ids),
        description=" | ".join(dict.fromkeys(line.description for line in lines)),
        expected_cents=match.expected_cents,
        statement_cents=match.line_cents,
        fees_cents=match.fee_lines_cents or match.fees_cents,
        difference_cents=match.difference_cents,
        status=status,
        note=note,
    )


def _expected_row(item: ExpectedCredit, result: Reconciliation) -> ReportRow:
    suggestions = result.suggestions_for_expected.get(item.expected_id, ())
    if suggestions:
        best = suggestions[0]
        lines = ", ".join(best.line_ids)
        note = f"Sugestão: lançamento(s) {lines} (diferença {brl_number(best.difference_cents)})."
    else:
        note = "Nenhum lançamento parecido no extrato."
    return ReportRow(
        section=Section.EXPECTED_PENDING,
        day=item.credit_on,
        kind=SOURCE_LABELS[item.source],
        reference=item.reference or item.expected_id,
        description="",
        expected_cents=item.amount_cents,
        statement_cents=None,
        fees_cents=item.fee_cents or None,
        difference_cents=None,
        status="Pendente",
        note=note,
    )


def _line_row(line: StatementLine, result: Reconciliation) -> ReportRow:
    fee = line.kind is LineKind.FEE
    suggestions = result.suggestions_for_line.get(line.line_id, ())
    note = ""
    if suggestions:
        note = f"Sugestão: {', '.join(suggestions[0].expected_ids)}."
    return ReportRow(
        section=Section.FEE_PENDING if fee else Section.STATEMENT_PENDING,
        day=line.posted_on,
        kind="Tarifa" if fee else "Crédito no extrato",
        reference=line.document or line.fit_id or "",
        description=line.description,
        expected_cents=None,
        statement_cents=line.amount_cents,
        fees_cents=-line.amount_cents if fee else None,
        difference_cents=None,
        status="Pendente",
        note=note,
    )


def report_rows(result: Reconciliation, start: date, end: date) -> list[ReportRow]:
    """The period's rows, by section then date: matches (by their earliest date), expected credits
    without a line, credits without an expected item, tariffs nothing accounts for."""
    matched = [row for row in (_match_row(m, result) for m in result.matches) if start <= row.day <= end]
    expected = [_expected_row(i, result) for i in result.unmatched_expected if start <= i.credit_on <= end]
    lines = [_line_row(line, result) for line in result.unmatched_lines if start <= line.posted_on <= end]
    order = list(Section)
    return sorted(
        matched + expected + lines, key=lambda r: (order.index(r.section), r.day, r.reference, r.description)
    )


def summary_rows(report: ReconciliationReport) -> list[tuple[str, str]]:
    """The report's header for people: (label, value) pairs in pt-BR."""
    rate = report.auto_match_rate_bp
    return [
        ("Período", f"{report.start:%d/%m/%Y} a {report.end:%d/%m/%Y}"),
        ("Recebimentos esperados", f"{report.expected_count} (R$ {brl_number(report.expected_cents)})"),
        ("Conciliados", f"{report.matched_count} (R$ {brl_number(report.matched_cents)})"),
        ("Conciliados automaticamente", str(report.auto_matched_count)),
        ("Confirmados por uma pessoa", str(report.confirmed_count)),
        (
            "Esperados sem lançamento",
            f"{report.unmatched_expected_count} (R$ {brl_number(report.unmatched_expected_cents)})",
        ),
        (
            "Créditos sem recebimento",
            f"{report.unmatched_line_count} (R$ {brl_number(report.unmatched_line_cents)})",
        ),
        ("Tarifas", f"R$ {brl_number(report.fees_cents)}"),
        ("Diferenças", f"R$ {brl_number(report.differences_cents)}"),
        ("Taxa de conciliação automática", f"{rate // 100},{rate % 100:02d}%"),
    ]


CSV_HEADER = (
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
)


def report_csv(rows: list[ReportRow], report: ReconciliationReport) -> str:
    """The CSV an accountant opens in a pt-BR spreadsheet: ``;``-separated, dd/mm/yyyy, 1.234,56; the
    summary first, a blank line, then the rows. Encode it as UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for label, value in summary_rows(report):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(CSV_HEADER)

    def money(cents: int | None) -> str:
        return "" if cents is None else brl_number(cents)

    for row in rows:
        writer.writerow(
            [
                SECTION_TITLES[row.section],
                f"{row.day:%d/%m/%Y}",
                row.kind,
                row.reference,
                row.description,
                money(row.expected_cents),
                money(row.statement_cents),
                money(row.fees_cents),
                money(row.difference_cents),
                row.status,
                row.note,
            ]
        )
    return out.getvalue()
