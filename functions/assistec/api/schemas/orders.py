"""Models of service orders, their transitions, history and workflow."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from assistec.api.schemas.common import Input, Int, IsoDateTime, OrderStatus, Output, Patch

OrderPriority = Literal["low", "normal", "high", "urgent"]
Problem = Annotated[str, StringConstraints(min_length=3, max_length=2000)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class OrderIn(Input):
    customer_id: UUID
    device_id: UUID = Field(description="A device of that customer")
    reported_problem: Problem = Field(description="What the customer says is wrong")
    diagnosis: Annotated[str, StringConstraints(max_length=4000)] | None = None
    technician_id: UUID | None = Field(default=None, description="A user of the shop")
    priority: OrderPriority = "normal"
    promised_at: IsoDateTime | None = Field(default=None, description="When the shop promised it ready")


class OrderPatch(Patch):
    required_if_present = frozenset({"version", "reported_problem", "priority"})

    version: Int = Field(ge=1, description="The version you read; a stale one gets 409")
    reported_problem: Problem | None = None
    diagnosis: Annotated[str, StringConstraints(max_length=4000)] | None = None
    technician_id: UUID | None = None
    priority: OrderPriority | None = None
    promised_at: IsoDateTime | None = None


class OrderOut(Output):
    id: UUID
    number: int = Field(description="The shop's sequential order number (never reused)")
    customer_id: UUID
    device_id: UUID
    status: OrderStatus
    reported_problem: str
    diagnosis: str | None
    technician_id: UUID | None
    priority: OrderPriority
    promised_at: datetime | None
    warranty_of: UUID | None = Field(description="The original order of a warranty return")
    delivered_at: datetime | None
    warranty_until: date | None
    tracking_token: str = Field(description="Secret of the public tracking link /public/orders/{token}")
    paid_cents: int = Field(description="What the order has received: the sum of its paid charges")
    version: int
    created_at: datetime
    updated_at: datetime


class OrderListItem(OrderOut):
    customer_name: str = Field(description="The customer's name, for the board's cards")
    device_label: str = Field(description='The device as the counter names it: brand and model ("Dell G15")')


class OrderPage(Output):
    items: list[OrderListItem]
    next_cursor: str | None


class TransitionIn(Input):
    to: OrderStatus
    version: Int = Field(ge=1, description="The order version you read; a stale one gets 409")
    reason: Reason | None = None


class TransitionOut(Output):
    order: OrderOut
    allowed_next: list[OrderStatus]


class HistoryEntryOut(Output):
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str | None
    actor_user_id: UUID | None
    actor_label: str | None = Field(description="The user's name, or who decided on a public link")
    at: datetime


class HistoryOut(Output):
    items: list[HistoryEntryOut]


class WarrantyReturnIn(Input):
    reported_problem: Problem


# A transition as [from, to] (a list, not a tuple: Powertools renders tuples as invalid OpenAPI 3.1).
Edge = Annotated[list[OrderStatus], Field(min_length=2, max_length=2)]


class WorkflowOut(Output):
    disabled_transitions: list[Edge]
    warranty_days: int
    version: int = Field(description="0 while the shop uses the defaults")
    transitions: dict[str, list[OrderStatus]] = Field(description="What each status may move to, here")


class WorkflowIn(Input):
    version: Int = Field(ge=0, description="The version you read (0 = defaults)")
    disabled_transitions: Annotated[list[Edge], Field(max_length=60)]
    warranty_days: Int = Field(ge=0, le=3650)
