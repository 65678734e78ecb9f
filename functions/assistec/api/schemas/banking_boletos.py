"""Models of the shop's own boletos: issuing (for an order, or a free charge), reading, sending."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from assistec.api.schemas.common import Input, Int, IsoDate, Output

BoletoStatus = Literal["issued", "registered", "settled", "written_off", "cancelled"]
# The barcode's value field: R$ 99.999.999,99 at most.
BoletoDescription = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
BoletoCents = Annotated[Int, Field(ge=1, le=9_999_999_999, description="Centavos (R$ 1,00 = 100)")]


class _Terms(Input):
    agreement_id: UUID | None = Field(
        default=None, description="The bank agreement; default: the shop's only active agreement"
    )
    due_date: IsoDate = Field(description="The shop's calendar day (America/Sao_Paulo); today or later")
    interest_monthly_bp: Int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="Interest per month in basis points (1% = 100); default: the agreement's",
    )
    fine_bp: Int | None = Field(
        default=None, ge=0, le=2000, description="Fine in basis points (2% = 200); default: the agreement's"
    )
    discount_cents: Int | None = Field(
        default=None,
        ge=0,
        le=9_999_999_999,
        description="Discount when paid up to discount_until (0: none); default: the agreement's",
    )
    discount_until: IsoDate | None = Field(default=None, description="Last day of the discount")


class OrderBoletoIn(_Terms):
    amount_cents: BoletoCents | None = Field(
        default=None,
        description="Default: the order's open balance (approved quote less what was paid and what its "
        "open boletos ask for)",
    )


class FreeBoletoIn(_Terms):
    customer_id: UUID
    amount_cents: BoletoCents
    description: BoletoDescription = Field(
        description="What it charges: kept with the boleto, printed on it and in the message that sends it"
    )


class BoletoOut(Output):
    id: UUID
    agreement_id: UUID
    bank_code: str
    order_id: UUID | None
    customer_id: UUID
    nosso_numero: int = Field(description="The agreement's sequence (as the bank files carry it)")
    nosso_numero_printed: str = Field(description="As the boleto prints it, with the bank's check digit")
    amount_cents: int
    issued_on: date
    due_date: date
    interest_monthly_bp: int
    fine_bp: int
    discount_cents: int
    discount_until: date | None
    status: BoletoStatus
    barcode: str | None = Field(description="The 44 digits")
    digitable_line: str | None = Field(description="The 47 digits of the linha digitável")
    digitable_line_formatted: str | None = Field(description="The linha digitável as printed")
    paid_cents: int
    fees_cents: int
    paid_on: date | None
    remessa_id: UUID | None
    description: str | None = Field(description="What a free boleto charges (null for an order's)")
    version: int
    created_at: datetime
    updated_at: datetime


class BoletoPage(Output):
    items: list[BoletoOut]
    next_cursor: str | None


class BoletoList(Output):
    items: list[BoletoOut]


class BoletoSendOut(Output):
    channel: Literal["whatsapp", "email"]
    status: Literal["queued", "sent", "suppressed", "failed"] = Field(
        description="queued (WhatsApp: the send queue paces it); the e-mail's: sent, suppressed (the "
        "address bounced or complained before), failed (the reason)"
    )
    to: str | None = Field(description="The e-mail address (e-mail only)")
    message_id: UUID | None = Field(description="The WhatsApp message, or the e-mail's record")
    reason: str | None
