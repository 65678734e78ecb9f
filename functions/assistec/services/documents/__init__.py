"""The shop's printed documents (intake receipt, quote, delivery receipt) rendered as PDF."""

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
from assistec.services.documents.render import render_pdf

__all__ = [
    "DeliveryDocument",
    "DeviceInfo",
    "IntakeDocument",
    "Line",
    "Paper",
    "Party",
    "QuoteDocument",
    "ShopHeader",
    "render_pdf",
]
