"""Sample documents and the pictures of their first pages (tests/unit/test_documents_render.py).

Regenerate the committed references after an intended layout change, then look at them:

    UPDATE_DOCUMENT_PICTURES=1 .venv/bin/python -m tests.unit.documents_refs
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

from assistec.services.documents import (
    DeliveryDocument,
    DeviceInfo,
    IntakeDocument,
    Line,
    Paper,
    Party,
    QuoteDocument,
    ShopHeader,
    render_pdf,
)

REPO = Path(__file__).resolve().parents[2]
REFERENCES = REPO / "tests" / "fixtures" / "documents"
SHOP_TZ = ZoneInfo("America/Sao_Paulo")
SCALE = 1.5  # 108 dpi: an A4 page is 893x1263 pixels, a thermal receipt 340 wide


def logo_png() -> bytes:
    """A small deterministic logo: a blue rounded square with a white wrench-ish bar."""
    image = Image.new("RGBA", (120, 80), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 119, 79), radius=14, fill=(25, 80, 160, 255))
    draw.rectangle((20, 34, 100, 46), fill=(255, 255, 255, 255))
    draw.ellipse((10, 26, 38, 54), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


SHOP = ShopHeader(
    name="Conserta Já Assistência Técnica",
    document="12.345.678/0001-95",
    phone="(11) 98765-4321",
    email="contato@consertaja.com.br",
    address="Rua Augusta, 1500, loja 3 — Consolação, São Paulo/SP, 01304-001",
    logo=logo_png(),
    terms=(
        "1. O orçamento é gratuito e fica pronto em até 3 dias úteis.\n"
        "2. Avisamos pelo WhatsApp quando o aparelho estiver pronto; a retirada é feita com este "
        "comprovante.\n"
        "3. A loja não se responsabiliza por dados do aparelho: faça um backup antes de deixá-lo.\n"
        "4. Aparelhos com sinais de líquido podem apresentar novos defeitos durante o reparo."
    ),
)
CUSTOMER = Party(
    name="João Ninguém da Silva", phone="(11) 91234-5678", document="529.982.247-25", email="joao@example.com"
)
DEVICE = DeviceInfo(
    kind="Celular",
    brand="Apple",
    model="iPhone 13",
    serial="356938035643809",
    condition="Tela trincada no canto superior; riscos leves na traseira",
    accessories=("Capinha", "Carregador"),
    password_given=True,
)
OPENED_AT = datetime(2025, 3, 10, 14, 30, tzinfo=SHOP_TZ)

INTAKE = IntakeDocument(
    shop=SHOP,
    customer=CUSTOMER,
    device=DEVICE,
    order_number="0042",
    opened_at=OPENED_AT,
    problem="A tela não responde ao toque na parte de baixo e o aparelho desliga sozinho com 30% de bateria.",
    notes="Cliente pediu para não trocar a bateria sem avisar antes.",
    tracking_url="https://consertaja.assistec.app/os/0042?t=8f3a2c",
)
QUOTE_LINES = (
    Line("Troca de tela (peça original)", 1, 98_000),
    Line("Bateria", 1, 25_000),
    Line("Película de vidro", 2, 2_728),
)
QUOTE = QuoteDocument(
    shop=SHOP,
    customer=CUSTOMER,
    device=DEVICE,
    order_number="0042",
    quote_number=3,
    issued_at=datetime(2025, 3, 11, 9, 15, tzinfo=SHOP_TZ),
    valid_until=date(2025, 3, 18),
    lines=QUOTE_LINES,
    discount_cents=5_000,
    total_cents=123_456,  # 980 + 250 + 54,56 - 50 = R$ 1.234,56
    notes="Prazo de 2 dias úteis após a aprovação.",
    approval_url="https://consertaja.assistec.app/orcamento/3?t=c91d0e",
)
DELIVERY = DeliveryDocument(
    shop=SHOP,
    customer=CUSTOMER,
    device=DEVICE,
    order_number="0042",
    delivered_at=datetime(2025, 3, 14, 17, 5, tzinfo=SHOP_TZ),
    services=QUOTE_LINES,
    total_cents=123_456,
    paid_cents=100_000,
    warranty_terms="Guarde este comprovante: ele é necessário para acionar a garantia.",
)

# (name, document, paper): one picture per document, and the thermal intake
PICTURES: tuple[tuple[str, IntakeDocument | QuoteDocument | DeliveryDocument, Paper], ...] = (
    ("intake-a4", INTAKE, "a4"),
    ("quote-a4", QUOTE, "a4"),
    ("delivery-a4", DELIVERY, "a4"),
    ("intake-thermal80", INTAKE, "thermal80"),
)


def first_page(pdf: bytes) -> Image.Image:
    """Page 1 rasterised by PDFium, in grayscale."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=SCALE).to_pil().convert("L")
    finally:
        document.close()


def artifacts_dir() -> Path:
    root = Path(os.environ.get("ARTIFACTS_DIR", REPO / ".local" / "artifacts"))
    return root / "documents"


def main() -> None:
    if os.environ.get("UPDATE_DOCUMENT_PICTURES") != "1":
        raise SystemExit("set UPDATE_DOCUMENT_PICTURES=1 to overwrite the reference pictures")
    REFERENCES.mkdir(parents=True, exist_ok=True)
    for name, document, paper in PICTURES:
        first_page(render_pdf(document, paper)).save(REFERENCES / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
