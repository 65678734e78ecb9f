"""Models of parts and stock movements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from assistec.api.schemas.common import Cents, Input, Int, Name, Output, Patch, Short


class PartIn(Input):
    name: Name
    sku: Short | None = None
    brand: Short | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = Field(
        default=None, description="Compatible models, as the counter searches them"
    )
    quantity: Int = Field(default=0, ge=0, le=1_000_000)
    min_quantity: Int = Field(default=0, ge=0, le=1_000_000)
    cost_cents: Cents = 0
    price_cents: Cents


class PartPatch(Patch):
    required_if_present = frozenset({"version", "name", "min_quantity", "cost_cents", "price_cents"})

    version: Int = Field(ge=1)
    name: Name | None = None
    sku: Short | None = None
    brand: Short | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    min_quantity: Int | None = Field(default=None, ge=0, le=1_000_000)
    cost_cents: Cents | None = None
    price_cents: Cents | None = None


class PartOut(Output):
    id: UUID
    sku: str | None
    name: str
    brand: str | None
    model: str | None
    quantity: int = Field(description="On the shelf")
    reserved: int = Field(description="Held for approved quotes")
    available: int = Field(description="quantity - reserved")
    min_quantity: int
    cost_cents: int
    price_cents: int
    version: int
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _available(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            data = {f: getattr(data, f) for f in data.__dataclass_fields__}
        return {**data, "available": data["quantity"] - data["reserved"]}


class PartPage(Output):
    items: list[PartOut]
    next_cursor: str | None


class PartList(Output):
    items: list[PartOut]


class StockMoveIn(Input):
    kind: Literal["receive", "adjust"] = Field(
        description="receive: add quantity to the shelf; adjust: set the counted quantity"
    )
    quantity: Int = Field(ge=0, le=1_000_000)
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class MovementOut(Output):
    kind: str
    quantity: int
    order_id: UUID | None
    note: str | None
    actor_user_id: UUID | None
    at: datetime


class MovementList(Output):
    items: list[MovementOut]
