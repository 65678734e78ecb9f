"""Models of devices and their photos."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from assistec.api.schemas.common import Input, Int, Output, Patch, Short


def _imei(value: str) -> str:
    from stdnum import imei  # deferred: ~40 ms of import, paid by requests that carry an IMEI

    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 15 or not imei.is_valid(digits):
        raise ValueError("IMEI inválido (15 dígitos com dígito verificador)")
    return digits


Imei = Annotated[str, StringConstraints(max_length=20), AfterValidator(_imei)]
DeviceType = Literal["phone", "tablet", "computer", "other"]
Accessories = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=60)]], Field(max_length=20)
]
UnlockCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PhotoType = Literal["image/jpeg", "image/png", "image/webp", "image/heic"]


class DeviceIn(Input):
    type: DeviceType
    brand: Short
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    serial: Short | None = None
    imei: Imei | None = None
    condition: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="How it came in: scratches, broken glass, does not turn on…"
    )
    accessories: Accessories = Field(default_factory=list, description="What the customer left with it")
    unlock_code: UnlockCode | None = Field(default=None, description="PIN or pattern; stored encrypted")


class DevicePatch(Patch):
    required_if_present = frozenset({"version", "type", "brand", "model", "accessories"})

    version: Int = Field(ge=1)
    type: DeviceType | None = None
    brand: Short | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    serial: Short | None = None
    imei: Imei | None = None
    condition: Annotated[str, StringConstraints(max_length=2000)] | None = None
    accessories: Accessories | None = None
    unlock_code: UnlockCode | None = None


class DeviceOut(Output):
    id: UUID
    customer_id: UUID
    type: DeviceType
    brand: str
    model: str
    serial: str | None
    imei: str | None
    condition: str | None
    accessories: list[str]
    has_unlock_code: bool
    unlock_code: str | None = Field(description="Only for roles that repair (owner, admin, technician)")
    version: int
    created_at: datetime
    updated_at: datetime


class DeviceList(Output):
    items: list[DeviceOut]


class PhotoIn(Input):
    content_type: PhotoType


class PhotoUploadOut(Output):
    id: UUID
    upload_url: str
    upload_fields: dict[str, str] = Field(description="POST these form fields, then the file as `file`")
    max_bytes: int
    expires_in: int


class PhotoOut(Output):
    id: UUID
    content_type: str
    url: str
    created_at: datetime


class PhotoList(Output):
    items: list[PhotoOut]
