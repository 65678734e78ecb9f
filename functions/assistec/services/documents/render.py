"""The shop's documents as PDF: A4 (paginated) or 80 mm thermal paper (one page as long as the content).

fpdf2, with fontTools and Pillow under it, takes over a second to import: it is imported when a document
is rendered, never at module import, so the functions that do not print keep their cold start. DejaVu
Sans is embedded (subset), so any name prints; a character it has no glyph for (emoji, mostly) prints as
a placeholder. The same document gives the same bytes: the creation date is the document's own.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistec.domain.quotes import brl
from assistec.domain.shop_documents import LOGO_MAX_SIDE
from assistec.services.documents.model import (
    DeliveryDocument,
    DeviceInfo,
    IntakeDocument,
    Line,
    Paper,
    Party,
    QuoteDocument,
    ShopHeader,
)

if TYPE_CHECKING:
    from fpdf import FPDF
    from PIL.Image import Image

Document = IntakeDocument | QuoteDocument | DeliveryDocument

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
PLACEHOLDER = "□"
A4_HEIGHT = 297.0
THERMAL_MIN_HEIGHT = 100.0
THERMAL_MAX_HEIGHT = 5000.0  # PDF viewers refuse pages over 200 inches: past it, a receipt gets pages
FOOTER_ROOM = 18.0  # A4: the page numbers' band
LONGEST_CELL = 500  # the API takes 200; 500 is about 40 mm of a thermal receipt's column
LOGO_MAX_PIXELS = 600  # enough for 35 mm at 300 dpi; a big upload does not bloat every PDF
SECONDARY = 85  # gray of the less important text
INVISIBLE = {"Cc", "Cf", "Cs", "Me", "Mn"}  # controls, joiners, stray marks: dropped when not drawable
VARIATION_SELECTORS = range(0xFE00, 0xFE10)  # emoji presentation: meaningless without an emoji font

LEGAL_WARRANTY = (
    "Garantia legal (Código de Defesa do Consumidor, art. 26, II): o serviço executado e as peças "
    "substituídas têm garantia de 90 (noventa) dias, contados da data desta entrega, contra defeitos "
    "do serviço prestado e das peças empregadas. A garantia não cobre mau uso, quedas ou impactos, "
    "contato com líquidos ou umidade, nem intervenção de terceiros no aparelho após a entrega."
)


@dataclass(frozen=True, slots=True)
class Sheet:
    """A paper's geometry (mm) and type sizes (pt)."""

    width: float
    margin: float
    paginated: bool
    body: float
    small: float
    heading: float
    title: float
    logo_box: tuple[float, float]
    label_width: float
    columns: tuple[tuple[str, float], ...]  # the lines table: (column, width)


# fmt: off
SHEETS: dict[str, Sheet] = {
    "a4": Sheet(
        width=210, margin=15, paginated=True, body=10, small=8, heading=10.5, title=15, logo_box=(35, 20),
        label_width=36, columns=(("description", 104), ("quantity", 14), ("unit", 31), ("total", 31)),
    ),
    "thermal80": Sheet(
        width=80, margin=4, paginated=False, body=8, small=7, heading=8.5, title=10.5, logo_box=(30, 18),
        label_width=21, columns=(("description", 42), ("quantity", 8), ("total", 22)),
    ),
}
# fmt: on

COLUMNS: dict[str, tuple[str, str, Callable[[Line], str]]] = {  # heading, alignment, text
    "description": ("Descrição", "LEFT", lambda line: _shortened(line.description)),
    "quantity": ("Qtd", "CENTER", lambda line: str(line.quantity)),
    "unit": ("Valor unit.", "RIGHT", lambda line: brl(line.unit_cents)),
    "total": ("Total", "RIGHT", lambda line: brl(line.total_cents)),
}


def render_pdf(document: Document, paper: Paper) -> bytes:
    """The document as a PDF on A4 or on 80 mm thermal paper (deterministic bytes)."""
    sheet = SHEETS[paper]
    if sheet.paginated:
        return bytes(_draw(document, sheet, A4_HEIGHT, breaks=True).output())
    # One page as long as the receipt: a first pass on a page that never breaks measures it
    measured = _draw(document, sheet, THERMAL_MIN_HEIGHT, breaks=False).y + 2 * sheet.margin
    height = min(max(THERMAL_MIN_HEIGHT, measured), THERMAL_MAX_HEIGHT)
    return bytes(_draw(document, sheet, height, breaks=measured > THERMAL_MAX_HEIGHT).output())


def _when(moment: datetime | date) -> str:
    return f"{moment:%d/%m/%Y %H:%M}" if isinstance(moment, datetime) else f"{moment:%d/%m/%Y}"


def _shortened(text: str) -> str:
    """One line of at most LONGEST_CELL characters, cut at a word: a table row must fit on one page."""
    text = " ".join(text.split())
    if len(text) <= LONGEST_CELL:
        return text
    cut = text[: LONGEST_CELL - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def _id_kind(document: str) -> str:
    return {11: "CPF", 14: "CNPJ"}.get(sum(c.isalnum() for c in document), "Documento")


@cache
def _pdf_class() -> type[FPDF]:
    from fpdf import FPDF

    class Pdf(FPDF):
        footer_text = ""

        def footer(self) -> None:
            if self.footer_text:
                self.set_y(-12)
                self.set_font(FAMILY, size=7.5)
                self.set_text_color(SECONDARY)
                self.cell(0, 4, self.footer_text)
                self.set_x(self.l_margin)
                self.cell(0, 4, f"Página {self.page_no()} de {{nb}}", align="R")

    return Pdf


def readable_logo(data: bytes) -> bool:
    """Whether ``data`` is a logo the documents can print: a PNG or JPEG that decodes, of at most
    LOGO_MAX_SIDE pixels a side (what ``render_pdf`` would otherwise leave out)."""
    return _logo(data) is not None


def logo_image(data: bytes | None) -> Image | None:
    """The logo ready to draw (scaled down, decoded under the size limits), or None: what the other
    pages (the boleto) print of a shop's logo."""
    return _logo(data)


def _logo(data: bytes | None) -> Image | None:
    if not data:
        return None
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
            if max(image.size) > LOGO_MAX_SIDE:  # read from the header: a bomb is never decoded
                return None
            image.thumbnail((LOGO_MAX_PIXELS, LOGO_MAX_PIXELS))
            transparent = image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
            return image.convert("RGBA" if transparent else "RGB")
    except Exception:  # whatever a broken upload makes Pillow raise, the document prints without it
        return None


def _draw(document: Document, sheet: Sheet, height: float, *, breaks: bool) -> FPDF:
    pdf = _pdf_class()(unit="mm", format=(sheet.width, height))
    pdf.set_margins(sheet.margin, sheet.margin)
    pdf.set_auto_page_break(breaks, margin=FOOTER_ROOM if sheet.paginated else sheet.margin)
    pdf.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
    layout = Layout(pdf, sheet)
    order = f"OS {document.order_number}"
    if sheet.paginated:
        pdf.footer_text = layout.clean(f"{document.shop.name} · {order}")  # type: ignore[attr-defined]
    pdf.add_page()
    layout.header(document.shop)
    match document:
        case IntakeDocument():
            _intake(layout, document)
            title, moment = f"Comprovante de entrada — {order}", document.opened_at
        case QuoteDocument():
            _quote(layout, document)
            title, moment = f"Orçamento {document.quote_number} — {order}", document.issued_at
        case DeliveryDocument():
            _delivery(layout, document)
            title, moment = f"Comprovante de entrega — {order}", document.delivered_at
    pdf.set_title(title)
    pdf.set_author(document.shop.name)
    pdf.set_creator("assistec")
    pdf.set_lang("pt-BR")
    pdf.set_creation_date(moment)  # the document's own date, so the same document gives the same bytes
    return pdf


class Layout:
    """The blocks the documents are made of, drawn for one sheet (A4 or thermal)."""

    def __init__(self, pdf: FPDF, sheet: Sheet) -> None:
        from fpdf.fonts import FontFace

        self.pdf, self.sheet = pdf, sheet
        self.glyphs = frozenset(pdf.fonts["dejavu"].cmap) & frozenset(pdf.fonts["dejavuB"].cmap)  # type: ignore[union-attr]
        self.align = "L" if sheet.paginated else "C"
        self.heading_style = FontFace(emphasis="BOLD", fill_color=235 if sheet.paginated else None)
        self.line_height = 0.0
        pdf.set_draw_color(150)
        pdf.set_line_width(0.2)

    def clean(self, text: str) -> str:
        """The text with what the font cannot draw dropped (invisible) or shown as one placeholder."""
        kept: list[str] = []
        for char in unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\t", " ")):
            category = unicodedata.category(char)
            if category == "Cf" or ord(char) in VARIATION_SELECTORS:
                continue  # joiners and selectors only glue emoji together: a run of them is one placeholder
            if char == "\n" or ord(char) in self.glyphs:
                kept.append(char)
            elif category not in INVISIBLE and kept[-1:] != [PLACEHOLDER]:
                kept.append(PLACEHOLDER)
        return "".join(kept)

    def font(self, size: float, *, bold: bool = False, secondary: bool = False) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", size)
        self.pdf.set_text_color(SECONDARY if secondary and self.sheet.paginated else 0)  # thermal: black only
        self.line_height = self.pdf.font_size * 1.4

    def write(self, text: str, *, align: str | None = None, indent: float = 0, link: str = "") -> None:
        from fpdf.enums import WrapMode

        self.pdf.set_x(self.sheet.margin + indent)
        self.pdf.multi_cell(
            0,
            self.line_height,
            self.clean(text),
            align=align or self.align,
            link=link,
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=WrapMode.CHAR if link else WrapMode.WORD,
        )

    def header(self, shop: ShopHeader) -> None:
        pdf, sheet = self.pdf, self.sheet
        top, indent, logo_bottom = pdf.y, 0.0, pdf.y
        logo = _logo(shop.logo)
        if logo is not None:
            scale = min(sheet.logo_box[0] / logo.width, sheet.logo_box[1] / logo.height)
            width, height = logo.width * scale, logo.height * scale
            x = sheet.margin if sheet.paginated else (sheet.width - width) / 2
            pdf.image(logo, x=x, y=top, w=width, h=height)
            logo_bottom = top + height
            if sheet.paginated:
                indent = width + 5
            else:
                pdf.set_y(logo_bottom + 2)
        self.font(sheet.title - 1, bold=True)
        self.write(shop.name, indent=indent)
        self.font(sheet.small, secondary=True)
        contact = " · ".join(part for part in (shop.phone, shop.email) if part)
        for detail in (shop.document and f"{_id_kind(shop.document)} {shop.document}", contact, shop.address):
            if detail:
                self.write(detail, indent=indent)
        pdf.set_y(max(pdf.y, logo_bottom) + 2)
        self.rule()

    def rule(self) -> None:
        self.pdf.line(self.sheet.margin, self.pdf.y, self.sheet.width - self.sheet.margin, self.pdf.y)
        self.pdf.ln(1.5)

    def title(self, title: str, facts: Sequence[str]) -> None:
        self.font(self.sheet.title, bold=True)
        self.write(title)
        self.font(self.sheet.body)
        self.write("  ·  ".join(facts))

    def section(self, name: str) -> None:
        pdf = self.pdf
        pdf.ln(2.5)
        if pdf.will_page_break(20):  # keep a heading with what follows it
            pdf.add_page()
        self.font(self.sheet.heading, bold=True)
        with pdf.local_context(fill_color=235):  # tables take the current fill for their cells
            height = self.line_height + 0.5
            pdf.cell(0, height, self.clean(name), fill=self.sheet.paginated, new_x="LMARGIN", new_y="NEXT")
        if not self.sheet.paginated:  # thermal heads print no gray: a rule instead
            self.rule()
        pdf.ln(0.8)

    def fields(self, rows: Sequence[tuple[str, str | None]]) -> None:
        # Label and value side by side, the value wrapping in its column: no table, whose rows cannot
        # break across pages, so a value of any length prints
        for label, value in rows:
            if value:
                self.font(self.sheet.body, bold=True)
                self.pdf.cell(self.sheet.label_width, self.line_height, label)
                self.font(self.sheet.body)
                self.write(value, align="L", indent=self.sheet.label_width)

    def paragraph(self, text: str, *, small: bool = False) -> None:
        self.font(self.sheet.small if small else self.sheet.body)
        self.write(text, align="L")

    def text_section(self, name: str, text: str | None, *, small: bool = False) -> None:
        if text:
            self.section(name)
            self.paragraph(text, small=small)

    def link_section(self, name: str, caption: str, url: str | None) -> None:
        if url:
            self.text_section(name, caption)
            self.pdf.set_text_color(20, 70, 170)
            self.write(url, align="L", link=url)

    def lines(self, lines: Sequence[Line]) -> None:
        if not lines:
            self.paragraph("Nenhum item.")
            return
        self.font(self.sheet.body)
        columns = [COLUMNS[name] for name, _ in self.sheet.columns]
        with self.pdf.table(
            col_widths=[width for _, width in self.sheet.columns],
            text_align=[c[1] for c in columns],
            borders_layout="HORIZONTAL_LINES",
            headings_style=self.heading_style,
            line_height=self.line_height,
            padding=(0.6, 0.8),
            repeat_headings=1,
        ) as table:
            table.row([heading for heading, _, _ in columns])
            for line in lines:
                table.row([self.clean(text(line)) for _, _, text in columns])

    def totals(self, rows: Sequence[tuple[str, int]], *, strong: str = "Total") -> None:
        pdf, value_width = self.pdf, self.sheet.columns[-1][1]
        pdf.ln(1)
        if pdf.will_page_break(len(rows) * self.line_height):  # the totals stay together
            pdf.add_page()
        for label, cents in rows:
            self.font(self.sheet.body, bold=label == strong)
            pdf.cell(pdf.epw - value_width, self.line_height, label, align="R")
            pdf.cell(value_width, self.line_height, brl(cents), align="R", new_x="LMARGIN", new_y="NEXT")

    def signature(self, statement: str | None, name: str, moment: datetime) -> None:
        pdf, sheet = self.pdf, self.sheet
        pdf.ln(4)
        if pdf.will_page_break(40):  # the statement, the line and the name stay together
            pdf.add_page()
        if statement:
            self.paragraph(statement)
        pdf.ln(14)
        width = 100 if sheet.paginated else pdf.epw
        pdf.line((sheet.width - width) / 2, pdf.y, (sheet.width + width) / 2, pdf.y)
        pdf.ln(1)
        self.font(sheet.body, bold=True)
        self.write(name, align="C")
        self.font(sheet.small, secondary=True)
        self.write(f"Assinatura do cliente · {_when(moment.date())}", align="C")


def _parties(layout: Layout, customer: Party, device: DeviceInfo, *, intake: bool = False) -> None:
    layout.section("Cliente")
    id_kind = _id_kind(customer.document) if customer.document else ""
    layout.fields(
        [
            ("Nome", customer.name),
            ("Telefone", customer.phone),
            (id_kind, customer.document),
            ("E-mail", customer.email),
        ]
    )
    layout.section("Aparelho")
    rows = [
        ("Tipo", device.kind),
        ("Modelo", " ".join(part for part in (device.brand, device.model) if part)),
        ("IMEI/série", device.serial),
    ]
    if intake:
        rows += [
            ("Estado", device.condition),
            ("Acessórios", ", ".join(device.accessories) or "Nenhum"),
            ("Senha", "Informada pelo cliente" if device.password_given else "Não informada"),
        ]
    layout.fields(rows)


def _priced_lines(layout: Layout, name: str, lines: Sequence[Line], total: int) -> list[tuple[str, int]]:
    """The lines' table, and the rows of totals under it (the discount only when there is one)."""
    layout.section(name)
    layout.lines(lines)
    subtotal = sum(line.total_cents for line in lines)
    if total == subtotal:
        return [("Total", total)]
    return [("Subtotal", subtotal), ("Desconto", total - subtotal), ("Total", total)]


def _intake(layout: Layout, doc: IntakeDocument) -> None:
    layout.title(
        "Ordem de serviço — comprovante de entrada",
        [f"OS {doc.order_number}", f"Entrada em {_when(doc.opened_at)}"],
    )
    _parties(layout, doc.customer, doc.device, intake=True)
    layout.text_section("Problema relatado", doc.problem)
    layout.text_section("Observações", doc.notes)
    layout.link_section("Acompanhe o serviço", "Consulte o andamento do seu aparelho em:", doc.tracking_url)
    layout.text_section("Termos e condições", doc.shop.terms, small=True)
    statement = "Li e concordo com os termos e condições acima." if doc.shop.terms else None
    layout.signature(statement, doc.customer.name, doc.opened_at)


def _quote(layout: Layout, doc: QuoteDocument) -> None:
    facts = [f"OS {doc.order_number}", f"Emitido em {_when(doc.issued_at)}"]
    if doc.valid_until:
        facts.append(f"Válido até {_when(doc.valid_until)}")
    layout.title(f"Orçamento nº {doc.quote_number}", facts)
    _parties(layout, doc.customer, doc.device)
    layout.totals(_priced_lines(layout, "Serviços e peças", doc.lines, doc.total_cents))
    layout.text_section("Observações", doc.notes)
    layout.link_section("Aprovação", "Aprove ou recuse este orçamento em:", doc.approval_url)


def _delivery(layout: Layout, doc: DeliveryDocument) -> None:
    layout.title(
        "Comprovante de entrega", [f"OS {doc.order_number}", f"Entregue em {_when(doc.delivered_at)}"]
    )
    _parties(layout, doc.customer, doc.device)
    rows = _priced_lines(layout, "Serviços realizados", doc.services, doc.total_cents)
    rows.append(("Pago", doc.paid_cents))
    if doc.paid_cents < doc.total_cents:
        rows.append(("Saldo a pagar", doc.total_cents - doc.paid_cents))
    layout.totals(rows)
    layout.section("Garantia")
    layout.font(layout.sheet.body, bold=True)
    layout.write(f"Garantia de {doc.warranty_days} dias, válida até {_when(doc.warranty_until)}", align="L")
    layout.paragraph(LEGAL_WARRANTY, small=True)
    if doc.warranty_terms:
        layout.paragraph(doc.warranty_terms, small=True)
    layout.signature("Recebi o aparelho em perfeito funcionamento.", doc.customer.name, doc.delivered_at)
