"""Models of quotes, price rules, discount rules and the quote template."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from assistec.api.schemas.common import Bool, Cents, Input, Int, Name, Output, Patch, QuoteLineOut, Short

DeviceTypeName = Literal["phone", "tablet", "computer", "other"]
Service = Annotated[str, StringConstraints(min_length=2, max_length=120)]


class PriceRuleIn(Input):
    service: Service = Field(description='e.g. "Troca de tela"')
    device_type: DeviceTypeName
    brand: Short | None = Field(default=None, description="None: the fallback for the device type")
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    price_cents: Cents

    @model_validator(mode="after")
    def _model_needs_brand(self) -> PriceRuleIn:
        if self.model is not None and self.brand is None:
            raise ValueError("informe a marca para um preço por modelo")
        return self


class PriceRulePatch(Patch):
    required_if_present = frozenset({"version", "service", "device_type", "price_cents"})

    version: Int = Field(ge=1)
    service: Service | None = None
    device_type: DeviceTypeName | None = None
    brand: Short | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    price_cents: Cents | None = None


class PriceRuleOut(Output):
    id: UUID
    service: str
    device_type: DeviceTypeName
    brand: str | None
    model: str | None
    price_cents: int
    version: int


class PriceRuleList(Output):
    items: list[PriceRuleOut]


class DiscountRuleIn(Input):
    name: Name
    kind: Literal["customer_since_days"] = "customer_since_days"
    min_days: Int = Field(ge=1, le=36500, description="Customer registered at least this many days ago")
    # Decimal with two places: a float like 5e-324 would round to 0,00% in the database.
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]
    active: Bool = True


class DiscountRulePatch(Patch):
    required_if_present = frozenset({"version", "name", "min_days", "percent", "active"})

    version: Int = Field(ge=1)
    name: Name | None = None
    min_days: Int | None = Field(default=None, ge=1, le=36500)
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] | None = None
    active: Bool | None = None


class DiscountRuleOut(Output):
    id: UUID
    name: str
    kind: str
    min_days: int
    percent: float
    active: bool
    version: int


class DiscountRuleList(Output):
    items: list[DiscountRuleOut]


class TemplateIn(Input):
    version: Int = Field(ge=0, description="The version you read (0 = the built-in template)")
    body: Annotated[str, StringConstraints(min_length=10, max_length=4000)] = Field(
        description="Text with {{VALOR}}, {{CLIENTE}}, {{APARELHO}}, {{PRAZO}}, {{VALIDADE}}, {{LOJA}}, "
        "{{OS}}, "
        "{{ITENS}}, {{LINK}}"
    )
    validity_days: Int = Field(ge=1, le=90)


class TemplateOut(Output):
    body: str
    validity_days: int
    version: int
    placeholders: dict[str, str]


class PartLineIn(Input):
    kind: Literal["part"]
    part_id: UUID
    quantity: Int = Field(default=1, ge=1, le=1000)


class ServiceLineIn(Input):
    kind: Literal["service"]
    service: Service = Field(description="Priced by the shop's price rules for the order's device")
    quantity: Int = Field(default=1, ge=1, le=100)


class LabourLineIn(Input):
    kind: Literal["labour"]
    description: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    price_cents: Cents
    quantity: Int = Field(default=1, ge=1, le=100)


QuoteLineIn = Annotated[PartLineIn | ServiceLineIn | LabourLineIn, Field(discriminator="kind")]


class QuoteIn(Input):
    lines: Annotated[list[QuoteLineIn], Field(min_length=1, max_length=50)]
    deadline_days: Int = Field(ge=0, le=365, description="Working days to finish after approval ({{PRAZO}})")


class QuoteOut(Output):
    id: UUID
    order_id: UUID
    version: int
    status: Literal["pending", "approved", "rejected", "superseded"]
    lines: list[QuoteLineOut]
    subtotal_cents: int
    discount_cents: int
    discount_rule: str | None
    total_cents: int
    deadline_days: int
    valid_until: date
    rendered_text: str = Field(description="The shop's message, ready to send")
    public_token: str = Field(description="Secret of the public link /public/quotes/{token}")
    public_expires_at: datetime
    decided_at: datetime | None
    decided_name: str | None
    decided_ip: str | None
    decided_user_agent: str | None
    decided_via: Literal["link", "staff", "whatsapp", "expired"] | None
    created_at: datetime


class QuoteList(Output):
    items: list[QuoteOut]


class QuoteSendIn(Input):
    reminder_hours: Int = Field(
        default=24, ge=1, le=168, description="A reminder when the customer has not answered by then"
    )
    expire_hours: Int = Field(
        default=72, ge=2, le=720, description="No answer by then: the quote is rejected as expired"
    )
    payment: Literal["PIX", "BOLETO", "CREDIT_CARD"] | None = Field(
        default=None,
        description="Approved: charge the order this way and send the payment link (the payment flow)",
    )
    payment_wait_hours: Int = Field(default=24, ge=1, le=720)


class QuoteSendOut(Output):
    execution_arn: str
