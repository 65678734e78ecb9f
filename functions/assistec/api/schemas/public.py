"""Models of the customer's public pages (quote approval, order tracking)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from assistec.api.schemas.common import OrderStatus, QuoteLineOut


class PublicQuoteOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    shop_name: str
    logo_url: str | None
    order_number: int
    customer_name: str
    device: str
    version: int
    is_latest: bool
    status: Literal["pending", "approved", "rejected", "superseded", "expired"]
    lines: list[QuoteLineOut]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    total_text: str
    deadline_days: int
    valid_until: date
    decided_at: datetime | None
    decided_name: str | None


class PublicStep(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: OrderStatus
    label: str
    at: datetime


class PublicOrderOut(BaseModel):
    """Status and dates only: a forwarded link tells nothing about the customer or the device."""

    model_config = ConfigDict(defer_build=True)

    shop_name: str
    logo_url: str | None
    order_number: int
    status: OrderStatus
    status_label: str
    promised_at: datetime | None
    delivered_at: datetime | None
    warranty_until: date | None
    steps: list[PublicStep]
