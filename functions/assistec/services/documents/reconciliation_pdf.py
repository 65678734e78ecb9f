"""The accountant's reconciliation report as a PDF (A4 landscape): the summary, then one table per
section (reconciled, expected without a statement line, statement credits without a receipt, tariffs
nobody accounted for), from the same rows as the CSV (domain/banking/report.py). Like the other
documents, fpdf2 is imported when the report is drawn, with the documents' fonts, and the same report
gives the same bytes (the creation date is the generation time given)."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from assistec.domain.banking.reconcile import ReconciliationReport
from assistec.domain.banking.report import SECTION_TITLES, ReportRow, brl_number, summary_rows
from assistec.services.documents.render import FAMILY, FONTS

MARGIN = 10.0
# Data, Tipo, Referência, Descrição, Esperado, Extrato, Tarifas, Diferença, Situação, Observação
WIDTHS = (18, 24, 34, 44, 20, 20, 16, 18, 30, 53)
HEADINGS = (
    "Data", "Tipo", "Referência", "Descrição", "Esperado", "Extrato", "Tarifas", "Diferença", "Situação",
    "Observação",
)  # fmt: skip
LONGEST = 160  # characters of a cell: a row must fit on a page


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _money(cents: int | None) -> str:
    return "" if cents is None else brl_number(cents)


def render_reconciliation_pdf(
    shop_name: str, report: ReconciliationReport, rows: list[ReportRow], *, generated_at: datetime
) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN + 4)
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_title(f"Conciliação bancária {report.start:%d/%m/%Y} a {report.end:%d/%m/%Y}")
    pdf.set_author(shop_name or "assistec")
    pdf.set_creator("assistec")
    pdf.set_lang("pt-BR")
    pdf.set_creation_date(generated_at)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 8, "Conciliação bancária", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 5, _cut(shop_name), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Gerado em {generated_at:%d/%m/%Y %H:%M}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in summary_rows(report):
        pdf.set_font(FAMILY, "B", 9)
        pdf.cell(70, 5, label)
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    for section, group in groupby(rows, key=lambda r: r.section):
        pdf.ln(4)
        pdf.set_font(FAMILY, "B", 11)
        pdf.cell(0, 7, SECTION_TITLES[section], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 7)
        with pdf.table(
            col_widths=WIDTHS,
            width=sum(WIDTHS),
            text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT", "LEFT"),
            headings_style=heading,
            line_height=3.6,
        ) as table:
            table.row(HEADINGS)
            for row in group:
                table.row(
                    (
                        f"{row.day:%d/%m/%Y}",
                        row.kind,
                        _cut(row.reference),
                        _cut(row.description),
                        _money(row.expected_cents),
                        _money(row.statement_cents),
                        _money(row.fees_cents),
                        _money(row.difference_cents),
                        row.status,
                        _cut(row.note),
                    )
                )
    if not rows:
        pdf.ln(4)
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(0, 5, "Nenhum movimento no período.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
