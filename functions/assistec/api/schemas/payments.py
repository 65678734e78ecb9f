"""Models of the shop's payment account and the orders' charges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from assistec.api.schemas.common import Input, Int, IsoDate, Output


class PaymentAccountIn(Input):
    api_key: Annotated[
        str, StringConstraints(min_length=20, max_length=300, pattern=r"^\$?aact_[A-Za-z0-9_$:=+/.-]+$")
    ] = Field(description="The shop's Asaas API key ($aact_...): stored encrypted, never shown again")
    environment: Literal["sandbox", "production"]


class PaymentAccountOut(Output):
    connected: bool
    environment: Literal["sandbox", "production"] | None
    webhook_url: str | None
    webhook_token: str | None = Field(
        default=None,
        description="Only in the answer that connects: Asaas sends it back in asaas-access-token",
    )


BillingType = Literal["PIX", "BOLETO", "CREDIT_CARD"]


class ChargeIn(Input):
    billing_type: BillingType
    value_cents: Int | None = Field(
        default=None,
        ge=500,
        le=100_000_000,
        description="Default: the approved quote's total minus what was paid",
    )
    due_date: IsoDate | None = Field(
        default=None, description="Default: tomorrow (PIX, card) or in 3 days (boleto)"
    )


class ChargeOut(Output):
    id: UUID
    order_id: UUID
    attempt: int
    billing_type: BillingType
    value_cents: int
    due_date: date
    status: Literal["pending", "overdue", "paid", "refunding", "refunded", "chargeback", "cancelled"]
    asaas_payment_id: str | None
    asaas_status: str | None
    invoice_url: str | None = Field(
        description="Asaas's page for the customer (card payments are made there)"
    )
    pix_payload: str | None = Field(description="PIX copia e cola")
    pix_qr_image: str | None = Field(description="PIX QR code, PNG in base64")
    boleto_line: str | None = Field(description="Linha digitável")
    paid_cents: int
    paid_at: datetime | None
    receipt_url: str | None
    created_at: datetime
    updated_at: datetime


class PaymentFlowIn(Input):
    billing_type: BillingType
    value_cents: Int | None = Field(default=None, ge=500, le=100_000_000)
    wait_hours: Int = Field(
        default=72,
        ge=1,
        le=720,
        description="How long to wait for the payment before a reminder (then again before expiring)",
    )


class PaymentFlowOut(Output):
    execution_arn: str


class ChargeList(Output):
    items: list[ChargeOut]
