"""A boleto as a PDF page (A4): the payer's receipt above the cut line, FEBRABAN's "ficha de
compensação" below it, with the ITF barcode a bank's scanner reads.

The numbers come from domain/banking (issue_boleto, printed_bank_code): this module only draws them.
Like the other documents, fpdf2 is imported when a boleto is drawn, and the same boleto gives the same
bytes (the creation date is the processing date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from assistec.domain.banking.boleto import barcode_to_linha, format_linha, validate_barcode
from assistec.domain.quotes import brl
from assistec.services.documents.itf_barcode import DEFAULT_HEIGHT_MM, DEFAULT_NARROW_MM, draw_itf
from assistec.services.documents.render import FAMILY, FONTS, SHEETS, Layout, logo_image

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_WIDTH = 210.0
MARGIN = 10.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
RIGHT_COLUMN = 50.0  # Vencimento, Agência/Código, Nosso número, Valor: FEBRABAN's right-hand column
ROW = 9.0
LABEL_PT = 6.0
VALUE_PT = 8.5
QUIET_ZONE = 6.0  # blank mm left and right of the barcode
SHOP_LOGO_BOX = (35.0, 14.0)  # the shop's logo, at most this wide and tall (mm)


@dataclass(frozen=True, slots=True)
class BoletoParty:
    name: str
    document: str | None = None  # CPF/CNPJ, already formatted
    address: str | None = None


@dataclass(frozen=True, slots=True)
class BoletoDocument:
    """What a boleto prints. ``barcode`` is the 44 digits (the linha digitável is derived from it);
    ``bank_code_printed`` is e.g. "001-9" (domain.banking.boleto_banks.printed_bank_code);
    ``agency_code`` and ``nosso_numero`` as the bank prints them."""

    bank_name: str
    bank_code_printed: str
    barcode: str
    due_date: date | None
    amount_cents: int
    beneficiary: BoletoParty
    agency_code: str
    nosso_numero: str
    document_number: str
    document_date: date
    processing_date: date
    payer: BoletoParty
    wallet: str = ""
    document_kind: str = "DM"  # espécie do documento: duplicata mercantil
    acceptance: str = "N"
    payment_place: str = "Pagável em qualquer banco até o vencimento"
    instructions: Sequence[str] = ()
    guarantor: BoletoParty | None = None  # sacador/avalista
    # The shop's logo (PNG/JPEG), printed with its name above the payer's receipt; None: the name only.
    shop_logo: bytes | None = None

    def __post_init__(self) -> None:
        validate_barcode(self.barcode)
        if type(self.amount_cents) is not int or self.amount_cents < 0:
            raise ValueError("amount_cents must be a non-negative integer amount of centavos")
        if int(self.barcode[9:19]) != self.amount_cents:
            raise ValueError("the barcode's amount is not the boleto's amount")


def _date(day: date | None) -> str:
    return "Contra-apresentação" if day is None else f"{day:%d/%m/%Y}"


def _party(party: BoletoParty) -> str:
    name = f"{party.name} — {party.document}" if party.document else party.name
    return f"{name}\n{party.address}" if party.address else name


class _Page:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        # the documents' own cleaning: what DejaVu cannot draw is dropped or shown as one placeholder
        self.clean = Layout(pdf, SHEETS["a4"]).clean

    def text(
        self, x: float, y: float, w: float, text: str, *, size: float, bold: bool = False, align: str = "L"
    ) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", size)
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(
            w, self.pdf.font_size * 1.25, self.clean(text), align=align, new_x="LEFT", new_y="NEXT"
        )

    def fitted(self, text: str, w: float, *, size: float, lines: int) -> str:
        """``text`` cut to the first ``lines`` lines it wraps to in a column ``w`` wide."""
        self.pdf.set_font(FAMILY, "", size)
        wrapped = self.pdf.multi_cell(
            w, self.pdf.font_size * 1.25, self.clean(text), dry_run=True, output="LINES"
        )
        if not isinstance(wrapped, list):  # output="LINES" gives the lines alone
            raise TypeError("fpdf2 multi_cell(output='LINES') did not return a list")
        return "\n".join(wrapped[:lines])

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        label: str,
        value: str = "",
        *,
        align: str = "L",
        bold: bool = False,
    ) -> None:
        """A field: thin frame, small label at the top, value under it."""
        self.pdf.rect(x, y, w, h)
        self.text(x + 0.8, y + 0.6, w - 1.6, label, size=LABEL_PT)
        if value:
            self.text(x + 0.8, y + 3.2, w - 1.6, value, size=VALUE_PT, bold=bold, align=align)

    def bank_header(self, y: float, doc: BoletoDocument, right: str, *, right_size: float) -> float:
        pdf = self.pdf
        self.text(MARGIN, y + 1.5, 55, doc.bank_name, size=11, bold=True)
        pdf.line(MARGIN + 57, y, MARGIN + 57, y + 8)
        self.text(MARGIN + 57, y + 1.2, 20, doc.bank_code_printed, size=13, bold=True, align="C")
        pdf.line(MARGIN + 77, y, MARGIN + 77, y + 8)
        pdf.set_font(FAMILY, "B", right_size)
        while pdf.get_string_width(right) > WIDTH - 80 and right_size > 6:  # one line, whatever the font
            right_size -= 0.25
            pdf.set_font(FAMILY, "B", right_size)
        self.text(MARGIN + 78, y + 2.0, WIDTH - 78, right, size=right_size, bold=True, align="R")
        pdf.line(MARGIN, y + 8, MARGIN + WIDTH, y + 8)
        return y + 8


def _receipt(page: _Page, doc: BoletoDocument, y: float, linha: str) -> float:
    y = page.bank_header(y, doc, "Recibo do Pagador", right_size=10)
    left = WIDTH - RIGHT_COLUMN
    page.box(MARGIN, y, left, ROW, "Beneficiário", doc.beneficiary.name)
    page.box(
        MARGIN + left, y, RIGHT_COLUMN, ROW, "Agência / Código do beneficiário", doc.agency_code, align="R"
    )
    y += ROW
    page.box(MARGIN, y, left, ROW, "Pagador", doc.payer.name)
    page.box(MARGIN + left, y, RIGHT_COLUMN, ROW, "Nosso número", doc.nosso_numero, align="R")
    y += ROW
    third = left / 3
    page.box(MARGIN, y, third, ROW, "Número do documento", doc.document_number)
    page.box(MARGIN + third, y, third, ROW, "Data do documento", _date(doc.document_date))
    page.box(MARGIN + 2 * third, y, third, ROW, "Vencimento", _date(doc.due_date), bold=True)
    page.box(
        MARGIN + left,
        y,
        RIGHT_COLUMN,
        ROW,
        "(=) Valor do documento",
        brl(doc.amount_cents),
        align="R",
        bold=True,
    )
    y += ROW
    page.box(MARGIN, y, WIDTH, ROW, "Linha digitável", linha)
    y += ROW
    page.text(MARGIN, y + 1, WIDTH, "Autenticação mecânica", size=LABEL_PT, align="R")
    return y + 12


def _shop_header(page: _Page, doc: BoletoDocument, y: float) -> float:
    """The beneficiary (the shop) as its own documents show it: logo, then name, above the receipt."""
    indent = 0.0
    logo = logo_image(doc.shop_logo)
    if logo is not None:
        scale = min(SHOP_LOGO_BOX[0] / logo.width, SHOP_LOGO_BOX[1] / logo.height)
        width, height = logo.width * scale, logo.height * scale
        page.pdf.image(logo, x=MARGIN, y=y, w=width, h=height)
        indent = width + 4
    page.text(MARGIN + indent, y + 1, WIDTH - indent, doc.beneficiary.name, size=12, bold=True)
    if doc.beneficiary.document:
        page.text(MARGIN + indent, y + 7, WIDTH - indent, doc.beneficiary.document, size=VALUE_PT)
    return y + SHOP_LOGO_BOX[1] + 4


def _cut_line(page: _Page, y: float) -> float:
    pdf = page.pdf
    pdf.set_dash_pattern(dash=1.2, gap=1.2)
    pdf.line(MARGIN, y, MARGIN + WIDTH, y)
    pdf.set_dash_pattern()
    page.text(MARGIN, y + 0.8, WIDTH, "Corte na linha pontilhada", size=LABEL_PT, align="R")
    return y + 8


def _compensation(page: _Page, doc: BoletoDocument, y: float, linha: str) -> float:
    y = page.bank_header(y, doc, linha, right_size=10.5)
    left = WIDTH - RIGHT_COLUMN
    page.box(MARGIN, y, left, ROW, "Local de pagamento", doc.payment_place)
    page.box(MARGIN + left, y, RIGHT_COLUMN, ROW, "Vencimento", _date(doc.due_date), align="R", bold=True)
    y += ROW
    beneficiary = _party(doc.beneficiary)
    tall = ROW + 3.5 if doc.beneficiary.address else ROW
    page.box(MARGIN, y, left, tall, "Beneficiário", beneficiary)
    page.box(
        MARGIN + left, y, RIGHT_COLUMN, tall, "Agência / Código do beneficiário", doc.agency_code, align="R"
    )
    y += tall
    cells = (
        ("Data do documento", _date(doc.document_date), 28.0),
        ("Número do documento", doc.document_number, 34.0),
        ("Espécie doc.", doc.document_kind, 20.0),
        ("Aceite", doc.acceptance, 12.0),
        ("Data do processamento", _date(doc.processing_date), left - 94.0),
    )
    x = MARGIN
    for label, value, w in cells:
        page.box(x, y, w, ROW, label, value)
        x += w
    page.box(MARGIN + left, y, RIGHT_COLUMN, ROW, "Nosso número", doc.nosso_numero, align="R")
    y += ROW
    cells = (
        ("Uso do banco", "", 28.0),
        ("Carteira", doc.wallet, 20.0),
        ("Espécie", "R$", 14.0),
        ("Quantidade", "", 26.0),
        ("Valor", "", left - 88.0),
    )
    x = MARGIN
    for label, value, w in cells:
        page.box(x, y, w, ROW, label, value)
        x += w
    page.box(
        MARGIN + left,
        y,
        RIGHT_COLUMN,
        ROW,
        "(=) Valor do documento",
        brl(doc.amount_cents),
        align="R",
        bold=True,
    )
    y += ROW
    sums = (
        "(-) Desconto / Abatimento",
        "(-) Outras deduções",
        "(+) Mora / Multa",
        "(+) Outros acréscimos",
        "(=) Valor cobrado",
    )
    instructions_height = ROW * len(sums)
    page.box(MARGIN, y, left, instructions_height, "Instruções (texto de responsabilidade do beneficiário)")
    instructions = page.fitted("\n".join(doc.instructions), left - 1.6, size=VALUE_PT - 0.5, lines=10)
    page.text(MARGIN + 0.8, y + 3.5, left - 1.6, instructions, size=VALUE_PT - 0.5)
    for i, label in enumerate(sums):
        page.box(MARGIN + left, y + i * ROW, RIGHT_COLUMN, ROW, label)
    y += instructions_height
    payer_height = ROW + 3.5
    page.box(MARGIN, y, WIDTH, payer_height, "Pagador", _party(doc.payer))
    y += payer_height
    guarantor = _party(doc.guarantor) if doc.guarantor else ""
    page.box(MARGIN, y, WIDTH, ROW - 2, "Sacador / Avalista", guarantor)
    y += ROW - 2
    page.text(
        MARGIN, y + 0.8, WIDTH, "Autenticação mecânica — Ficha de Compensação", size=LABEL_PT, align="R"
    )
    y += 5
    draw_itf(
        page.pdf, doc.barcode, MARGIN + QUIET_ZONE, y, narrow=DEFAULT_NARROW_MM, height=DEFAULT_HEIGHT_MM
    )
    return y + DEFAULT_HEIGHT_MM


def render_boleto_pdf(doc: BoletoDocument) -> bytes:
    """The boleto as a one-page A4 PDF (deterministic bytes)."""
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.add_page()
    page = _Page(pdf)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    linha = format_linha(barcode_to_linha(doc.barcode))
    y = _shop_header(page, doc, MARGIN)
    y = _receipt(page, doc, y, linha)
    y = _cut_line(page, y)
    _compensation(page, doc, y, linha)
    pdf.set_title(f"Boleto {doc.nosso_numero}")
    pdf.set_author(doc.beneficiary.name)
    pdf.set_creator("assistec")
    pdf.set_lang("pt-BR")
    pdf.set_creation_date(datetime.combine(doc.processing_date, time(), tzinfo=UTC))
    return bytes(pdf.output())
