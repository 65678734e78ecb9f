"""The boleto page (services/documents/boleto_pdf.py): what a person reads (pypdf's text) and what a
bank's scanner reads (the page rasterised by PDFium, one pixel row through the barcode, decoded as
ITF back to the 44 digits)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from assistec.domain.banking import itf
from assistec.domain.banking.boleto_banks import Agreement, BoletoRequest, issue_boleto, printed_bank_code
from assistec.services.documents.boleto_pdf import BoletoDocument, BoletoParty, render_boleto_pdf

DPI = 600  # the narrow bar (0.254 mm = 1/100 inch) is 6 pixels


def _boleto(**changes: object) -> BoletoDocument:
    # kivanio/brcobranca banco_brasil_spec.rb "convenio de 6 digitos": the numbers a bank published
    issued = issue_boleto(
        Agreement(bank_code="001", agency="4042", account="61900", wallet="18", agreement_code="123879"),
        BoletoRequest(
            sequence=1234, due_date=date(2008, 2, 1), amount_cents=13500, issue_date=date(2008, 1, 20)
        ),
    )
    fields: dict[str, object] = {
        "bank_name": "Banco do Brasil",
        "bank_code_printed": printed_bank_code("001"),
        "barcode": issued.barcode,
        "due_date": date(2008, 2, 1),
        "amount_cents": 13500,
        "beneficiary": BoletoParty(
            "Assistência Técnica São João Ltda", "12.345.678/0001-95", "Rua das Flores, 12 — Recife/PE"
        ),
        "agency_code": "4042-8 / 00061900-0",
        "nosso_numero": issued.nosso_numero.printed,
        "document_number": "OS 1042",
        "document_date": date(2008, 1, 20),
        "processing_date": date(2008, 1, 20),
        "payer": BoletoParty("Maria da Conceição", "123.456.789-09", "Av. Boa Viagem, 1000 — Recife/PE"),
        "wallet": "18",
        "instructions": ("Após o vencimento, multa de 2% e juros de 1% ao mês.", "Não receber após 30 dias."),
    }
    fields.update(changes)
    return BoletoDocument(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_boleto_pdf(_boleto())


def _scan_row(pdf: bytes) -> list[int]:
    """Run lengths of dark and light pixels along the row through the barcode's middle, from the first
    dark pixel of the barcode to its last (a scanner's pass)."""
    import pypdfium2  # type: ignore[import-untyped]

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=DPI / 72).to_pil().convert("L")
    finally:
        document.close()
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    # The barcode is the lowest thing drawn: the last row band with many dark runs
    for y in range(height - 1, 0, -1):
        row = [pixels[x, y] < 128 for x in range(width)]
        if sum(1 for i in range(1, width) if row[i] and not row[i - 1]) > 50:
            break
    else:
        raise AssertionError("no barcode on the page")
    middle = y - int(6.5 / 25.4 * DPI)  # 13 mm tall: scan through its middle
    row = [pixels[x, middle] < 128 for x in range(width)]
    first, last = row.index(True), width - 1 - row[::-1].index(True)
    runs: list[int] = []
    current, length = row[first], 0
    for dark in row[first : last + 1]:
        if dark == current:
            length += 1
        else:
            runs.append(length)
            current, length = dark, 1
    runs.append(length)
    return runs


def test_a_scanner_reads_the_printed_barcode(pdf: bytes) -> None:
    # Given the boleto page rasterised at 600 dpi, When one row through the barcode is read,
    # Then it decodes to the 44 digits the bank published
    assert itf.decode(_scan_row(pdf)) == "00192376900000135001238790123440420006190018"


def test_a_person_reads_the_numbers(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    # the linha digitável twice (receipt and ficha de compensação), as brcobranca published it
    assert text.count("00191.23876 90123.440423 00061.900189 2 37690000013500") == 2
    for expected in (
        "001-9",
        "Recibo do Pagador",
        "Ficha de Compensação",
        "01/02/2008",
        "R$ 135,00",
        "12387901234-5",
        "Maria da Conceição",
        "123.456.789-09",
        "Assistência Técnica São João Ltda",
        "multa de 2%",
    ):
        assert expected in text, expected
    assert reader.metadata is not None
    assert reader.metadata.title == "Boleto 12387901234-5"


def test_the_same_boleto_gives_the_same_bytes(pdf: bytes) -> None:
    assert render_boleto_pdf(_boleto()) == pdf


def test_no_due_date_prints_contra_apresentacao() -> None:
    issued = issue_boleto(
        Agreement(bank_code="237", agency="1172", account="0403005", wallet="09"),
        BoletoRequest(sequence=7, due_date=None, amount_cents=990, issue_date=date(2026, 1, 5)),
    )
    doc = _boleto(barcode=issued.barcode, due_date=None, amount_cents=990, bank_code_printed="237-2")
    text = PdfReader(io.BytesIO(render_boleto_pdf(doc))).pages[0].extract_text()
    assert "Contra-apresentação" in text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"barcode": "00192376900000135001238790123440420006190019"}, "dígito verificador"),
        ({"amount_cents": 13501}, "amount"),
        ({"amount_cents": -1}, "amount_cents"),
    ],
)
def test_a_boleto_that_does_not_add_up_is_not_printed(changes: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        _boleto(**changes)


def test_long_instructions_and_odd_characters_stay_in_their_boxes() -> None:
    # Given 40 lines of instructions and a payer name with characters DejaVu cannot draw
    doc = _boleto(
        payer=BoletoParty("Zé Müller 中文 😀"),
        instructions=tuple(f"Instrução número {n}" for n in range(1, 41)),
    )
    pdf = render_boleto_pdf(doc)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    # Then the instructions are cut at what their box holds, the name prints with placeholders,
    # and the page (one page) still scans
    assert "Instrução número 10" in text
    assert "Instrução número 11" not in text
    assert "Zé Müller □" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert itf.decode(_scan_row(pdf)) == doc.barcode
