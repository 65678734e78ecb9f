"""Request and response models of the REST API (the OpenAPI document is generated from them).

Our own input models forbid unknown fields: a typo in a field name is an error, not silence.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from assistec.domain import documents, passwords, phones
from assistec.domain.permissions import Role


def _without_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("texto com caractere nulo (\\u0000) não é aceito")
    if isinstance(value, dict):
        for item in value.values():
            _without_nul(item)
    elif isinstance(value, list):
        for item in value:
            _without_nul(item)
    return value


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold U+0000; refusing it here keeps it a 422, not a database error.
        return _without_nul(data)


class Patch(Input):
    """A partial update: absent fields stay as they are; ``null`` clears a field, and is refused
    (422) for fields that cannot be empty, listed in ``required_if_present``."""

    required_if_present: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(k for k in cls.required_if_present if k in data and data[k] is None)
            if nulls:
                raise ValueError(f"não pode ser vazio: {', '.join(nulls)}")
        return data


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _cnpj(value: str) -> str:
    normal = documents.normalize_cnpj(value)
    if normal is None:
        raise ValueError("CNPJ inválido")
    return normal


def _phone(value: str) -> str:
    e164 = phones.to_e164(value)
    if e164 is None:
        raise ValueError("telefone inválido")
    return e164


def _email(value: str) -> str:
    # email-validator directly (what pydantic's EmailStr wraps), imported on first use: ~25 ms of
    # import time that only requests carrying an e-mail address should pay.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError("e-mail inválido") from exc


def _document(value: str) -> str:
    normal = documents.normalize_cpf(value) or documents.normalize_cnpj(value)
    if normal is None:
        raise ValueError("CPF ou CNPJ inválido")
    return normal


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("fuso horário desconhecido") from exc
    return value


_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _business_hours(value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    if set(value) != set(_DAYS):
        raise ValueError("informe os sete dias: " + ", ".join(_DAYS))
    for day, intervals in value.items():
        if len(intervals) > 4:
            raise ValueError(f"{day}: no máximo 4 intervalos por dia")
        previous_end = ""
        for interval in intervals:
            if len(interval) != 2 or not all(_HHMM.match(t) for t in interval):
                raise ValueError(f'{day}: use intervalos no formato ["HH:MM", "HH:MM"]')
            start, end = interval
            if not start < end or start < previous_end:
                raise ValueError(f"{day}: intervalos devem ser crescentes e não sobrepostos")
            previous_end = end
    return {day: value[day] for day in _DAYS}


Name = Annotated[str, StringConstraints(min_length=2, max_length=120)]
Password = Annotated[str, StringConstraints(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)]
Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
Cnpj = Annotated[str, StringConstraints(max_length=32), AfterValidator(_cnpj)]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone)]
Message = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
AssignableRole = Literal["admin", "technician", "attendant"]


# --- errors ------------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    """Every error answer: a stable ``code``, a pt-BR ``message`` and optional ``details``."""

    code: str
    message: str
    details: Any = None
    correlation_id: str | None = None


# --- health ------------------------------------------------------------------------------------
class HealthBody(Output):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    database: Literal["ok", "unavailable"]
    schema_version: int | None


# --- auth --------------------------------------------------------------------------------------
class SignupIn(Input):
    shop_name: Name
    cnpj: Cnpj
    email: Email
    phone: Phone
    owner_name: Name
    password: Password


class LoginIn(Input):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=passwords.MAX_LENGTH)]


class RefreshIn(Input):
    refresh_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class LoggedOut(Output):
    logged_out: Literal[True] = True


class TokensOut(Output):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Lifetime of the access token, in seconds")
    tenant_id: UUID
    user_id: UUID
    role: Role


# --- users -------------------------------------------------------------------------------------
class UserOut(Output):
    id: UUID
    email: str
    name: str
    role: Role
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ShopOut(Output):
    id: UUID
    name: str
    billing_status: str


class MeOut(Output):
    user: UserOut
    shop: ShopOut


class UserCreateIn(Input):
    email: Email
    name: Name
    role: AssignableRole
    password: Password


class UserUpdateIn(Patch):
    required_if_present = frozenset({"version", "name", "role", "active"})

    version: int = Field(ge=1, description="The version you read; a stale one gets 409")
    name: Name | None = None
    role: AssignableRole | None = None
    active: bool | None = None


class UserPage(Output):
    items: list[UserOut]
    next_cursor: str | None


# --- customers ---------------------------------------------------------------------------------
Document = Annotated[str, StringConstraints(max_length=32), AfterValidator(_document)]
Uf = Literal[
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
]  # fmt: skip


class Address(Input):
    street: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    number: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    complement: Annotated[str, StringConstraints(max_length=100)] | None = None
    district: Annotated[str, StringConstraints(max_length=100)] | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    state: Uf
    zip_code: Annotated[str, StringConstraints(pattern=r"^\d{5}-?\d{3}$")] = Field(description="CEP")


class CustomerIn(Input):
    name: Name
    phone: Phone
    document: Document | None = Field(default=None, description="CPF or CNPJ")
    email: Email | None = None
    address: Address | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CustomerPatch(Patch):
    required_if_present = frozenset({"version", "name", "phone"})

    version: int = Field(ge=1, description="The version you read; a stale one gets 409")
    name: Name | None = None
    phone: Phone | None = None
    document: Document | None = None
    email: Email | None = None
    address: Address | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CustomerOut(Output):
    id: UUID
    name: str
    phone: str
    document: str | None
    email: str | None
    address: dict[str, Any] | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerPage(Output):
    items: list[CustomerOut]
    next_cursor: str | None


# --- devices -----------------------------------------------------------------------------------
def _imei(value: str) -> str:
    from stdnum import imei  # deferred: ~40 ms of import, paid by requests that carry an IMEI

    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 15 or not imei.is_valid(digits):
        raise ValueError("IMEI inválido (15 dígitos com dígito verificador)")
    return digits


Imei = Annotated[str, StringConstraints(max_length=20), AfterValidator(_imei)]
DeviceType = Literal["phone", "tablet", "computer", "other"]
Short = Annotated[str, StringConstraints(min_length=1, max_length=60)]
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

    version: int = Field(ge=1)
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


# --- settings ----------------------------------------------------------------------------------
BusinessHours = Annotated[
    dict[str, list[list[str]]],
    AfterValidator(_business_hours),
    Field(description='Per weekday (mon..sun), a list of ["HH:MM", "HH:MM"] opening intervals'),
]


class SettingsOut(Output):
    timezone: str
    business_hours: dict[str, list[list[str]]]
    welcome_message: str
    out_of_hours_message: str
    version: int
    updated_at: datetime


class SettingsIn(Input):
    version: int = Field(ge=1)
    timezone: Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)] = (
        "America/Sao_Paulo"
    )
    business_hours: BusinessHours
    welcome_message: Message
    out_of_hours_message: Message


# --- audit -------------------------------------------------------------------------------------
class AuditEntryOut(Output):
    id: int
    actor_user_id: UUID | None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, Any]
    correlation_id: str | None
    at: datetime


class AuditPage(Output):
    items: list[AuditEntryOut]
    next_cursor: str | None
