"""Models of the shop's subscription to assistec."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from assistec.api.schemas.common import Input, Int, Output


class PlanOut(Output):
    code: str
    name: str
    price_cents: int
    trial_days: int
    grace_days: int = Field(description="Days an invoice may stay unpaid before the shop is suspended")


class PlansOut(Output):
    items: list[PlanOut]


class SubscriptionPlanOut(Output):
    code: str
    name: str
    price_cents: int


class InvoiceOut(Output):
    id: str = Field(description="The Asaas payment id")
    due_date: date
    value_cents: int
    status: Literal["pending", "overdue", "paid", "refunded", "cancelled"]
    invoice_url: str | None = Field(description="Asaas's page where the shop pays (PIX, boleto or card)")
    paid_on: date | None


class BillingOut(Output):
    status: Literal["trial", "active", "past_due", "suspended", "cancelled"]
    status_label: str
    plan: SubscriptionPlanOut
    trial_ends_on: date
    next_due_date: date | None
    past_due_since: date | None
    suspended_at: datetime | None
    grace_days: int
    provisioned: bool = Field(description="Whether the subscription exists in Asaas yet")
    cancel_on: date | None = Field(description="Cancelled: the day access ends (the shop's data is kept)")
    version: int
    invoices: list[InvoiceOut]


class CancelIn(Input):
    version: Annotated[Int, Field(ge=1)]


class PlanChangeIn(Input):
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,40}$")]
    version: Annotated[Int, Field(ge=1)]
