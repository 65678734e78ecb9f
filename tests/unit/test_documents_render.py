"""The shop's documents as PDF (services/documents): what they say, on which paper, and how they look.

The PDFs are read back with pypdf (text, sizes, links, metadata) and page 1 of each sample is
rasterised with PDFium and compared with the references in tests/fixtures/documents/ (see
tests/unit/documents_refs.py to regenerate them). The pictures of this run go to
$ARTIFACTS_DIR/documents/ (default .local/artifacts/documents/) for a person to look at.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import date, timedelta

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from assistec.domain.quotes import brl
from assistec.services.documents import (
    DeliveryDocument,
    DeviceInfo,
    IntakeDocument,
    Line,
    Party,
    QuoteDocument,
    ShopHeader,
    render,
    render_pdf,
)
from tests.unit.documents_refs import (
    CUSTOMER,
    DELIVERY,
    DEVICE,
    INTAKE,
    PICTURES,
    QUOTE,
    REFERENCES,
    REPO,
    SHOP,
    artifacts_dir,
    first_page,
)

MM = 72 / 25.4  # PDF points per millimetre
A4 = (595.28, 841.89)
THERMAL_WIDTH = 80 * MM
# Page 1 against its reference: the mean gray difference over the page, and the worst 24x24-pixel tile.
# A PDFium with other anti-aliasing stays under them; a missing block, a shifted layout or a blank page
# does not (measured: a section removed 5.4 / 84, a 1 px shift 5.1 / 51, a blank page 11.2 / 182).
MEAN_LIMIT = 3.0
TILE_LIMIT = 48
TILE = 24


def _read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def _text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (wrapping moves line breaks, not words)."""
    return " ".join(" ".join(page.extract_text() or "" for page in _read(pdf).pages).split())


def _lines(n: int, description: str = "Item") -> tuple[Line, ...]:
    return tuple(Line(f"{description} {i:03d}", 1 + i % 3, 1_990 + i) for i in range(1, n + 1))


def _quote_with(lines: tuple[Line, ...]) -> QuoteDocument:
    total = sum(line.total_cents for line in lines)
    return replace(QUOTE, lines=lines, discount_cents=0, total_cents=total)


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    """The four sample PDFs of the pictures, rendered once for the module."""
    return {name: render_pdf(document, paper) for name, document, paper in PICTURES}


def test_the_intake_receipt_says_what_was_left_and_on_which_terms(samples: dict[str, bytes]) -> None:
    # Given the intake of an iPhone with a cracked screen, on A4
    # When it is rendered
    text = _text(samples["intake-a4"])
    # Then it names the shop, the customer, the device as received, the problem, the shop's terms and
    # where to sign
    for expected in (
        "Conserta Já Assistência Técnica",
        "CNPJ 12.345.678/0001-95",
        "Ordem de serviço — comprovante de entrada",
        "OS 0042",
        "Entrada em 10/03/2025 14:30",
        "João Ninguém da Silva",
        "CPF 529.982.247-25",
        "Apple iPhone 13",
        "356938035643809",
        "Tela trincada no canto superior; riscos leves na traseira",
        "Capinha, Carregador",
        "Informada pelo cliente",
        "A tela não responde ao toque na parte de baixo e o aparelho desliga sozinho com 30% de bateria.",
        "Cliente pediu para não trocar a bateria sem avisar antes.",
        "https://consertaja.assistec.app/os/0042?t=8f3a2c",
        "Avisamos pelo WhatsApp quando o aparelho estiver pronto; a retirada é feita com este comprovante.",
        "Assinatura do cliente · 10/03/2025",
        "Página 1 de 1",
    ):
        assert expected in text, expected


def test_the_quote_prints_its_lines_and_consistent_totals(samples: dict[str, bytes]) -> None:
    # Given quote 3 of OS 0042: R$ 1.284,56 of lines, R$ 50,00 off
    # When it is rendered
    text = _text(samples["quote-a4"])
    # Then each line, the subtotal, the discount and the total are there in reais, with its validity
    for expected in (
        "Orçamento nº 3",
        "Válido até 18/03/2025",
        "Troca de tela (peça original) 1 R$ 980,00 R$ 980,00",
        "Película de vidro 2 R$ 27,28 R$ 54,56",
        "Subtotal R$ 1.284,56",
        "Desconto -R$ 50,00",
        "Total R$ 1.234,56",
        "https://consertaja.assistec.app/orcamento/3?t=c91d0e",
    ):
        assert expected in text, expected


def test_a_quote_without_discount_prints_only_its_total() -> None:
    # Given a quote whose total is the sum of its lines
    quote = _quote_with(QUOTE.lines)
    # When it is rendered
    text = _text(render_pdf(quote, "a4"))
    # Then there is no subtotal or discount row, only the total
    assert "Total R$ 1.284,56" in text
    assert "Desconto" not in text
    assert "Subtotal" not in text


def test_the_delivery_receipt_carries_the_legal_warranty_and_its_end(samples: dict[str, bytes]) -> None:
    # Given the iPhone delivered on 14/03/2025 with R$ 234,56 still to pay
    # When the receipt is rendered
    text = _text(samples["delivery-a4"])
    # Then it shows the money, the 90-day warranty until 12/06/2025 (CDC art. 26, II), its limits, the
    # shop's own terms and the customer's statement to sign
    for expected in (
        "Comprovante de entrega",
        "Entregue em 14/03/2025 17:05",
        "Total R$ 1.234,56",
        "Pago R$ 1.000,00",
        "Saldo a pagar R$ 234,56",
        "Garantia de 90 dias, válida até 12/06/2025",
        "Código de Defesa do Consumidor, art. 26, II",
        "90 (noventa) dias, contados da data desta entrega",
        "não cobre mau uso, quedas ou impactos, contato com líquidos ou umidade,",
        "nem intervenção de terceiros no aparelho após a entrega.",
        "Guarde este comprovante: ele é necessário para acionar a garantia.",
        "Recebi o aparelho em perfeito funcionamento.",
        "João Ninguém da Silva",
        "Assinatura do cliente · 14/03/2025",
    ):
        assert expected in text, expected


def test_a_longer_warranty_ends_later_and_a_paid_order_owes_nothing() -> None:
    # Given a shop that gives 180 days, and an order paid in full
    delivery = replace(DELIVERY, warranty_days=180, paid_cents=DELIVERY.total_cents)
    # When the receipt is rendered on thermal paper
    text = _text(render_pdf(delivery, "thermal80"))
    # Then the end date is 180 days after the delivery, and no balance is printed
    assert f"Garantia de 180 dias, válida até {date(2025, 3, 14) + timedelta(days=180):%d/%m/%Y}" in text
    assert "10/09/2025" in text
    assert "Saldo a pagar" not in text


def test_the_public_links_are_clickable(samples: dict[str, bytes]) -> None:
    # Given the intake and the quote, which carry the tracking and the approval addresses
    # When their first pages' link annotations are read
    def uris(pdf: bytes) -> list[str]:
        annotations = _read(pdf).pages[0].get("/Annots") or []
        return [a.get_object()["/A"]["/URI"] for a in annotations if "/A" in a.get_object()]

    # Then each address is a link to itself
    assert uris(samples["intake-a4"]) == ["https://consertaja.assistec.app/os/0042?t=8f3a2c"]
    assert uris(samples["quote-a4"]) == ["https://consertaja.assistec.app/orcamento/3?t=c91d0e"]
    assert uris(samples["delivery-a4"]) == []


def test_the_metadata_name_the_document_and_its_date(samples: dict[str, bytes]) -> None:
    # Given the sample quote
    # When its metadata are read
    reader = _read(samples["quote-a4"])
    meta = reader.metadata
    # Then the title, the author (the shop), the creator and the creation date are the document's own
    assert meta is not None
    assert meta.title == "Orçamento 3 — OS 0042"
    assert meta.author == "Conserta Já Assistência Técnica"
    assert meta.creator == "assistec"
    assert meta.creation_date == QUOTE.issued_at


def test_a4_pages_are_a4(samples: dict[str, bytes]) -> None:
    # Given the three A4 samples
    for name in ("intake-a4", "quote-a4", "delivery-a4"):
        # When their pages are measured
        pages = _read(samples[name]).pages
        # Then each is one A4 page
        assert len(pages) == 1, name
        box = pages[0].mediabox
        assert float(box.width) == pytest.approx(A4[0], abs=1)
        assert float(box.height) == pytest.approx(A4[1], abs=1)


def test_a_thermal_receipt_is_one_80mm_page_as_long_as_its_content(samples: dict[str, bytes]) -> None:
    # Given a one-line quote of a bare shop, the sample intake, and a 40-line quote
    bare = replace(
        _quote_with(_lines(1)),
        shop=ShopHeader(name="Oficina"),
        customer=Party(name="Ana"),
        device=DeviceInfo(kind="Celular"),
        valid_until=None,
        notes=None,
        approval_url=None,
    )
    receipts = [render_pdf(bare, "thermal80"), samples["intake-thermal80"]]
    receipts.append(render_pdf(_quote_with(_lines(40)), "thermal80"))
    # When their pages are measured
    heights = []
    for pdf in receipts:
        pages = _read(pdf).pages
        assert len(pages) == 1
        assert float(pages[0].mediabox.width) == pytest.approx(THERMAL_WIDTH, abs=1)
        heights.append(float(pages[0].mediabox.height))
    # Then the short one gets the 100 mm minimum and the others grow with what they hold
    assert heights[0] == pytest.approx(100 * MM, abs=1)
    assert 100 * MM < heights[1] < heights[2]
    # And the end of the longest one is on its page
    assert "Total R$ " in _text(receipts[2])


def test_a_receipt_longer_than_a_viewer_accepts_continues_on_more_pages(
    samples: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given pages capped at 150 mm instead of the 5 m PDF viewers accept (the same rule, a smaller
    # number), and the sample intake, which is longer than that
    monkeypatch.setattr(render, "THERMAL_MAX_HEIGHT", 150.0)
    assert float(_read(samples["intake-thermal80"]).pages[0].mediabox.height) > 150 * MM
    # When it is rendered on thermal paper
    pdf = render_pdf(INTAKE, "thermal80")
    # Then it continues on more pages, none taller than the cap, and nothing is lost
    pages = _read(pdf).pages
    assert len(pages) == 2
    assert all(float(page.mediabox.height) == pytest.approx(150 * MM, abs=1) for page in pages)
    assert _text(pdf) == _text(samples["intake-thermal80"])
    # And the real cap is within the 200 inches (5080 mm) viewers accept
    monkeypatch.undo()
    assert render.THERMAL_MAX_HEIGHT <= 5080


def test_free_texts_of_any_length_print_without_breaking_the_layout() -> None:
    # Given a device condition of 600 words (far past one page) and a 1,000-character line description
    condition = " ".join(f"risco{i}" for i in range(1, 601))
    quote = _quote_with((Line("Tela " + "muito " * 200, 1, 100), *_lines(1)))
    intake = replace(INTAKE, device=replace(DEVICE, condition=condition))
    # When both are rendered on A4
    intake_text, quote_text = _text(render_pdf(intake, "a4")), _text(render_pdf(quote, "a4"))
    # Then the condition runs over the pages whole, and the description is cut short with an ellipsis
    # (a table row must fit on one page) while the rest of the quote prints
    assert "risco1 risco2" in intake_text
    assert "risco599 risco600 Acessórios" in intake_text
    assert "muito muito…" in quote_text
    assert "Item 001" in quote_text


@pytest.mark.parametrize("count", [120, 300])
def test_a_long_quote_breaks_across_a4_pages_with_its_table_heading_repeated(count: int) -> None:
    # Given a quote of 120 (or 300) lines
    quote = _quote_with(_lines(count))
    # When it is rendered on A4
    reader = _read(render_pdf(quote, "a4"))
    pages = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    # Then it spans pages numbered "Página n de N", each continuing the table under its heading
    assert len(pages) >= max(2, count // 45)
    assert f"Página 2 de {len(pages)}" in pages[1]
    assert f"Página {len(pages)} de {len(pages)}" in pages[-1]
    assert all("Descrição Qtd Valor unit. Total" in page for page in pages[1:])
    # And every line is printed exactly once, the total at the end
    everything = " ".join(pages)
    assert all(everything.count(f"Item {i:03d} ") == 1 for i in range(1, count + 1))
    assert f"Total {brl(quote.total_cents)}" in pages[-1]


def test_the_same_document_gives_the_same_bytes(samples: dict[str, bytes]) -> None:
    # Given the sample quote and thermal intake, rendered once
    # When they are rendered again
    again = [render_pdf(QUOTE, "a4"), render_pdf(INTAKE, "thermal80")]
    # Then the bytes are identical, and another document does give other bytes
    assert again == [samples["quote-a4"], samples["intake-thermal80"]]
    assert samples["quote-a4"] != render_pdf(replace(QUOTE, quote_number=4), "a4")


def test_any_name_survives_the_trip_through_the_pdf() -> None:
    # Given a customer and a shop whose names need more than Latin-1
    name = "Nguyễn Łukasz Muñoz — “Zé” • Ðặng"
    intake = replace(
        INTAKE,
        shop=replace(SHOP, name="Assistência Ñandú \u2018Técnica\u2019"),
        customer=replace(CUSTOMER, name=name),
    )
    # When the intake is rendered
    text = unicodedata.normalize("NFC", _text(render_pdf(intake, "a4")))
    # Then the names read back as written
    assert name in text
    assert "Assistência Ñandú \u2018Técnica\u2019" in text


def test_characters_without_a_glyph_print_as_a_placeholder(caplog: pytest.LogCaptureFixture) -> None:
    # Given a customer who wrote emoji in the name and the problem: a family (three people glued by
    # joiners), a phone and a wrench with its emoji selector, and a smiley DejaVu Sans happens to have
    intake = replace(
        INTAKE,
        customer=replace(CUSTOMER, name="Ana 😀 Souza 👨\u200d👩\u200d👧"),
        problem="Tela quebrada 📱🛠\ufe0f, não liga",
    )
    # When it is rendered
    text = _text(render_pdf(intake, "a4"))
    # Then it does not fail: each run of characters the font lacks is one placeholder, the rest is
    # intact, and the font was never asked for a glyph it does not have
    assert "Ana 😀 Souza □" in text
    assert "Tela quebrada □, não liga" in text
    assert "missing the following glyphs" not in caplog.text


def test_a_corrupt_logo_is_left_out_and_a_good_one_is_drawn(samples: dict[str, bytes]) -> None:
    # Given the sample shop with its logo, and the same shop whose logo bytes are broken
    broken = replace(SHOP, logo=b"\x89PNG\r\n\x1a\n" + b"\x00not really a png" * 10)
    # When both intakes are rendered
    good_pdf = samples["intake-a4"]
    broken_pdf = render_pdf(replace(INTAKE, shop=broken), "a4")
    # Then the good logo is an image of the page, the broken one is simply absent, and the rest prints
    assert len(_read(good_pdf).pages[0].images) == 1
    assert len(_read(broken_pdf).pages[0].images) == 0
    assert "Conserta Já Assistência Técnica" in _text(broken_pdf)


@pytest.mark.parametrize(
    ("build", "error"),
    [
        pytest.param(
            lambda: replace(QUOTE, total_cents=QUOTE.total_cents + 1), "not the lines'", id="total-off"
        ),
        pytest.param(
            lambda: replace(QUOTE, discount_cents=-5_000, total_cents=133_456), "discount_cents", id="neg"
        ),
        pytest.param(
            lambda: replace(QUOTE, discount_cents=200_000, total_cents=-71_544), "total_cents", id="over"
        ),
        pytest.param(lambda: replace(QUOTE, total_cents=1234.56), "integer amount of centavos", id="float"),
        pytest.param(lambda: Line("Tela", 1, -100), "unit_cents", id="negative-line"),
        pytest.param(lambda: Line("Tela", 0, 100), "quantity", id="zero-quantity"),
        pytest.param(
            lambda: replace(QUOTE, issued_at=QUOTE.issued_at.replace(tzinfo=None)), "aware", id="naive"
        ),
        pytest.param(
            lambda: replace(DELIVERY, paid_cents=DELIVERY.total_cents + 1), "paid_cents", id="overpaid"
        ),
        pytest.param(
            lambda: replace(DELIVERY, total_cents=DELIVERY.subtotal_cents + 1), "services'", id="over-sum"
        ),
        pytest.param(lambda: replace(DELIVERY, warranty_days=30), "legal 90", id="short-warranty"),
    ],
)
def test_an_inconsistent_document_is_refused(build, error: str) -> None:
    # Given amounts that do not add up, or a date without its time zone
    # When the document is built
    # Then it is refused before anything could print it
    with pytest.raises(ValueError, match=error):
        build()


def test_importing_the_renderer_does_not_import_fpdf() -> None:
    # Given a fresh interpreter
    script = (
        "import sys, assistec.services.documents, assistec.services.documents.render\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fpdf', 'PIL', 'fontTools'}))"
    )
    # When it imports the documents package and its renderer
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "functions")},
    )
    # Then neither fpdf nor what it pulls in (Pillow, fontTools) was loaded: rendering pays for them
    assert result.stdout.strip() == "[]"


def _difference(picture: Image.Image, reference: Image.Image) -> tuple[float, int]:
    diff = ImageChops.difference(picture, reference)
    tiles = diff.resize((max(1, diff.width // TILE), max(1, diff.height // TILE)), Image.Resampling.BOX)
    return ImageStat.Stat(diff).mean[0], tiles.getextrema()[1]


@pytest.mark.parametrize(("name", "document", "paper"), PICTURES, ids=[p[0] for p in PICTURES])
def test_the_first_page_looks_like_its_reference(
    name: str,
    document: IntakeDocument | QuoteDocument | DeliveryDocument,
    paper: str,
    samples: dict[str, bytes],
) -> None:
    # Given the sample document rendered, and its reference picture
    reference_path = REFERENCES / f"{name}.png"
    # When page 1 is rasterised (and kept for a person to look at)
    picture = first_page(samples[name])
    out = artifacts_dir()
    out.mkdir(parents=True, exist_ok=True)
    picture.save(out / f"{name}.png")
    if os.environ.get("UPDATE_DOCUMENT_PICTURES") == "1":
        picture.save(reference_path, optimize=True)
        pytest.skip(f"reference rewritten: {reference_path}")
    # Then it has the reference's size and differs from it only by rendering noise
    with Image.open(reference_path) as reference:
        assert picture.size == reference.size
        mean, worst_tile = _difference(picture, reference.convert("L"))
    look = f"see {out / f'{name}.png'} against {reference_path}"
    assert mean < MEAN_LIMIT, f"{name}: mean difference {mean:.2f}; {look}"
    assert worst_tile < TILE_LIMIT, f"{name}: a {TILE} px tile differs by {worst_tile}; {look}"
