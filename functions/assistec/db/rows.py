"""Row types the repositories return (plain, immutable; no SQL outside db/)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
