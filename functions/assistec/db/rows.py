"""Row types the repositories return (plain, immutable; no SQL outside db/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: UUID
    name: str
    cnpj: str
    email: str
    phone: str
    billing_status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserRow:
    id: UUID
    tenant_id: UUID
    email: str
    name: str
    role: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SettingsRow:
    tenant_id: UUID
    timezone: str
    business_hours: Any
    welcome_message: str
    out_of_hours_message: str
    logo_url: str | None
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentSettingsRow:
    """What the shop prints on its documents (part of its settings row, same version)."""

    timezone: str
    address: str | None
    intake_terms: str | None
    warranty_terms: str | None
    logo_key: str | None
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: UUID
    tenant_id: UUID
    name: str
    phone: str
    document: str | None
    email: str | None
    address: Any
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: UUID
    tenant_id: UUID
    customer_id: UUID
    type: str
    brand: str
    model: str
    serial: str | None
    imei: str | None
    condition: str | None
    accessories: list[str]
    unlock_code: bytes | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PhotoRow:
    id: UUID
    device_id: UUID
    s3_key: str
    content_type: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: UUID
    tenant_id: UUID
    number: int
    customer_id: UUID
    device_id: UUID
    status: str
    reported_problem: str
    diagnosis: str | None
    technician_id: UUID | None
    priority: str
    promised_at: datetime | None
    warranty_of: UUID | None
    delivered_at: datetime | None
    warranty_until: date | None
    tracking_token: str
    paid_cents: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderListRow(OrderRow):
    """An order as the board lists it: with its customer's name and a short label of the device."""

    customer_name: str
    device_label: str


@dataclass(frozen=True, slots=True)
class TransitionRow:
    id: int
    from_status: str | None
    to_status: str
    reason: str | None
    actor_user_id: UUID | None
    actor_label: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class WorkflowRow:
    disabled_transitions: list[list[str]]
    warranty_days: int
    version: int


@dataclass(frozen=True, slots=True)
class PartRow:
    id: UUID
    sku: str | None
    name: str
    brand: str | None
    model: str | None
    quantity: int
    reserved: int
    min_quantity: int
    cost_cents: int
    price_cents: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MovementRow:
    id: int
    part_id: UUID
    kind: str
    quantity: int
    order_id: UUID | None
    note: str | None
    actor_user_id: UUID | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PriceRuleRow:
    id: UUID
    service: str
    device_type: str
    brand: str | None
    model: str | None
    price_cents: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DiscountRuleRow:
    id: UUID
    name: str
    kind: str
    min_days: int
    percent: Decimal
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TemplateRow:
    body: str
    validity_days: int
    version: int


@dataclass(frozen=True, slots=True)
class QuoteRow:
    id: UUID
    tenant_id: UUID
    order_id: UUID
    version: int
    status: str
    lines: list[dict[str, Any]]
    subtotal_cents: int
    discount_cents: int
    discount_rule: str | None
    total_cents: int
    deadline_days: int
    valid_until: date
    rendered_text: str
    public_token: str
    public_expires_at: datetime
    decided_at: datetime | None
    decided_name: str | None
    decided_ip: str | None
    decided_user_agent: str | None
    decided_via: str | None
    decided_by: UUID | None
    created_by: UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReservationRow:
    id: UUID
    part_id: UUID
    quote_id: UUID
    needed: int
    reserved: int
    state: str


@dataclass(frozen=True, slots=True)
class PaymentAccountRow:
    tenant_id: UUID
    environment: str
    api_key_ciphertext: bytes
    webhook_key: str
    webhook_token_hash: bytes
    version: int
    updated_at: datetime
    asaas_webhook_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChargeRow:
    id: UUID
    tenant_id: UUID
    order_id: UUID
    attempt: int
    external_reference: str
    billing_type: str
    value_cents: int
    due_date: date
    status: str
    asaas_payment_id: str | None
    asaas_status: str | None
    invoice_url: str | None
    pix_payload: str | None
    pix_qr_image: str | None
    boleto_line: str | None
    paid_cents: int
    paid_at: datetime | None
    receipt_url: str | None
    flow_task_token: str | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InboxRow:
    tenant_id: UUID
    event_id: str
    event: str
    payment_id: str | None
    payload: dict[str, Any]
    received_at: datetime
    processed_at: datetime | None
    outcome: str | None
    attempts: int
