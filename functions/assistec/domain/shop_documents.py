"""The shop's printed documents (intake receipt, quote, delivery receipt): their kinds and papers, how
their files are named and where they are kept, how long their links live, and the logo printed on them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Literal
from uuid import UUID, uuid4

DocumentKind = Literal["intake", "quote", "delivery"]
PaperName = Literal["a4", "thermal80"]

# CDC art. 26, II: 90 days to claim a defect of a durable product or service; a shop may give more.
LEGAL_WARRANTY_DAYS = 90

# A document's download link: long enough to open or share at once, short enough not to travel.
LINK_EXPIRES_S = 5 * 60
PDF = "application/pdf"

# What the customer's file is called (pt-BR, ASCII: every browser and phone keeps it as it is).
_FILE_WORDS: dict[str, str] = {"intake": "entrada", "quote": "orcamento", "delivery": "entrega"}
# What each document is called in the message that carries it.
TITLES: dict[str, str] = {
    "intake": "Comprovante de entrada",
    "quote": "Orçamento",
    "delivery": "Comprovante de entrega",
}

DEVICE_KINDS_PT = {"phone": "Celular", "tablet": "Tablet", "computer": "Computador", "other": "Outro"}

# The shop's logo: PNG or JPEG, uploaded straight to S3 with a presigned form.
LOGO_MAX_BYTES = 512 * 1024
LOGO_UPLOAD_EXPIRES_S = 10 * 60
LOGO_URL_EXPIRES_S = 5 * 60
LOGO_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}
# A small file can still unpack into a huge picture (a "decompression bomb"): the logo's pixels are
# limited before it is decoded. 4000 px a side is more than any print needs.
LOGO_MAX_SIDE = 4000
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_LOGO_FILE = re.compile(rf"{_UUID}\.(png|jpg)")


def order_number(number: int) -> str:
    """The order's number as the documents print it: at least four digits (``0042``)."""
    return f"{number:04d}"


def filename(number: int, kind: DocumentKind, paper: PaperName) -> str:
    """The file's name as the customer saves it: ``OS-0042-orcamento.pdf`` (``-80mm`` on thermal)."""
    suffix = "-80mm" if paper == "thermal80" else ""
    return f"OS-{order_number(number)}-{_FILE_WORDS[kind]}{suffix}.pdf"


def document_key(tenant_id: UUID, order_id: UUID, kind: DocumentKind, paper: PaperName, pdf: bytes) -> str:
    """Where a rendered PDF is kept: under the shop and the order, named by its content, so the same
    document rendered again is the same object."""
    digest = hashlib.sha256(pdf).hexdigest()[:16]
    return f"documents/{tenant_id}/{order_id}/{kind}-{paper}-{digest}.pdf"


def logo_prefix(tenant_id: UUID) -> str:
    return f"logos/{tenant_id}/"


def new_logo_key(tenant_id: UUID, content_type: str) -> str:
    """A fresh key for a logo upload of the shop (a new name each time: no cache serves an old one)."""
    return f"{logo_prefix(tenant_id)}{uuid4()}.{LOGO_EXTENSIONS[content_type]}"


def is_own_logo_key(tenant_id: UUID, key: str) -> bool:
    """Whether ``key`` is a logo key this API hands the shop ``tenant_id`` (never another shop's)."""
    prefix = logo_prefix(tenant_id)
    return key.startswith(prefix) and _LOGO_FILE.fullmatch(key[len(prefix) :]) is not None


def warranty_days(delivered_on: date, warranty_until: date | None) -> int:
    """The warranty printed on the delivery receipt: the order's own (from the delivery day to its
    last day, in the shop's calendar), never less than the legal 90 days."""
    if warranty_until is None:
        return LEGAL_WARRANTY_DAYS
    return max(LEGAL_WARRANTY_DAYS, (warranty_until - delivered_on).days)
