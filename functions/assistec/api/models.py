"""Request and response models of the REST API (the OpenAPI document is generated from them).

Our own input models forbid unknown fields: a typo in a field name is an error, not silence.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
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
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,40}$")] | None = Field(
        default=None, description="Plan code (GET /billing/plans); the first plan when omitted"
    )


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
    logo_url: str | None = Field(description="The shop's logo on the customer's pages")
    version: int
    updated_at: datetime


LogoUrl = Annotated[
    str,
    StringConstraints(max_length=500, pattern=r"^https://[^\s\"'<>]+$"),
    Field(description="An https URL of the shop's logo (shown on the customer's pages)"),
]


class SettingsIn(Input):
    version: int = Field(ge=1)
    timezone: Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)] = (
        "America/Sao_Paulo"
    )
    business_hours: BusinessHours
    welcome_message: Message
    out_of_hours_message: Message
    logo_url: LogoUrl | None = None


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


# --- service orders ----------------------------------------------------------------------------
OrderStatus = Literal[
    "received",
    "diagnosing",
    "quote_sent",
    "approved",
    "rejected",
    "waiting_parts",
    "repairing",
    "quality_check",
    "ready",
    "delivered",
    "cancelled",
]
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
    promised_at: datetime | None = Field(default=None, description="When the shop promised it ready")


class OrderPatch(Patch):
    required_if_present = frozenset({"version", "reported_problem", "priority"})

    version: int = Field(ge=1, description="The version you read; a stale one gets 409")
    reported_problem: Problem | None = None
    diagnosis: Annotated[str, StringConstraints(max_length=4000)] | None = None
    technician_id: UUID | None = None
    priority: OrderPriority | None = None
    promised_at: datetime | None = None


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


class OrderPage(Output):
    items: list[OrderOut]
    next_cursor: str | None


class TransitionIn(Input):
    to: OrderStatus
    version: int = Field(ge=1, description="The order version you read; a stale one gets 409")
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
    version: int = Field(ge=0, description="The version you read (0 = defaults)")
    disabled_transitions: Annotated[list[Edge], Field(max_length=60)]
    warranty_days: int = Field(ge=0, le=3650)


# --- parts and stock ---------------------------------------------------------------------------
Cents = Annotated[int, Field(ge=0, le=100_000_000, description="Centavos (R$ 1,00 = 100)")]


class PartIn(Input):
    name: Name
    sku: Short | None = None
    brand: Short | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = Field(
        default=None, description="Compatible models, as the counter searches them"
    )
    quantity: int = Field(default=0, ge=0, le=1_000_000)
    min_quantity: int = Field(default=0, ge=0, le=1_000_000)
    cost_cents: Cents = 0
    price_cents: Cents


class PartPatch(Patch):
    required_if_present = frozenset({"version", "name", "min_quantity", "cost_cents", "price_cents"})

    version: int = Field(ge=1)
    name: Name | None = None
    sku: Short | None = None
    brand: Short | None = None
    model: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    min_quantity: int | None = Field(default=None, ge=0, le=1_000_000)
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
    quantity: int = Field(ge=0, le=1_000_000)
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


class Deleted(Output):
    deleted: Literal[True]


# --- price rules, discounts, template ----------------------------------------------------------
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

    version: int = Field(ge=1)
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
    min_days: int = Field(ge=1, le=36500, description="Customer registered at least this many days ago")
    # Decimal with two places: a float like 5e-324 would round to 0,00% in the database.
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]
    active: bool = True


class DiscountRulePatch(Patch):
    required_if_present = frozenset({"version", "name", "min_days", "percent", "active"})

    version: int = Field(ge=1)
    name: Name | None = None
    min_days: int | None = Field(default=None, ge=1, le=36500)
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] | None = None
    active: bool | None = None


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
    version: int = Field(ge=0, description="The version you read (0 = the built-in template)")
    body: Annotated[str, StringConstraints(min_length=10, max_length=4000)] = Field(
        description="Text with {{VALOR}}, {{CLIENTE}}, {{APARELHO}}, {{PRAZO}}, {{VALIDADE}}, {{LOJA}}, "
        "{{OS}}, "
        "{{ITENS}}, {{LINK}}"
    )
    validity_days: int = Field(ge=1, le=90)


class TemplateOut(Output):
    body: str
    validity_days: int
    version: int
    placeholders: dict[str, str]


# --- quotes ------------------------------------------------------------------------------------
class PartLineIn(Input):
    kind: Literal["part"]
    part_id: UUID
    quantity: int = Field(default=1, ge=1, le=1000)


class ServiceLineIn(Input):
    kind: Literal["service"]
    service: Service = Field(description="Priced by the shop's price rules for the order's device")
    quantity: int = Field(default=1, ge=1, le=100)


class LabourLineIn(Input):
    kind: Literal["labour"]
    description: Annotated[str, StringConstraints(min_length=2, max_length=200)]
    price_cents: Cents
    quantity: int = Field(default=1, ge=1, le=100)


QuoteLineIn = Annotated[PartLineIn | ServiceLineIn | LabourLineIn, Field(discriminator="kind")]


class QuoteIn(Input):
    lines: Annotated[list[QuoteLineIn], Field(min_length=1, max_length=50)]
    deadline_days: int = Field(ge=0, le=365, description="Working days to finish after approval ({{PRAZO}})")


class QuoteLineOut(Output):
    kind: Literal["part", "service", "labour"]
    description: str
    quantity: int
    unit_price_cents: int
    total_cents: int
    part_id: UUID | None


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
    decided_via: Literal["link", "staff"] | None
    created_at: datetime


class QuoteList(Output):
    items: list[QuoteOut]


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    name: Annotated[str, StringConstraints(min_length=2, max_length=120)] = Field(
        description="The customer's name, as typed"
    )


class PublicQuoteOut(BaseModel):
    shop_name: str
    logo_url: str | None
    order_number: int
    customer_name: str
    device: str
    version: int
    is_latest: bool
    status: Literal["pending", "approved", "rejected", "superseded", "expired"]
    lines: list[QuoteLineOut]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    total_text: str
    deadline_days: int
    valid_until: date
    decided_at: datetime | None
    decided_name: str | None


class PublicStep(BaseModel):
    status: OrderStatus
    label: str
    at: datetime


class PublicOrderOut(BaseModel):
    """Status and dates only: a forwarded link tells nothing about the customer or the device."""

    shop_name: str
    logo_url: str | None
    order_number: int
    status: OrderStatus
    status_label: str
    promised_at: datetime | None
    delivered_at: datetime | None
    warranty_until: date | None
    steps: list[PublicStep]


# --- reports -----------------------------------------------------------------------------------
class CountRow(Output):
    key: str
    orders: int


class OrdersReport(Output):
    group_by: Literal["status", "technician", "day", "week", "month"]
    start: date
    end: date
    rows: list[CountRow]


class RevenueRow(Output):
    key: str = Field(description="The period (YYYY-MM-DD, YYYY-Www or YYYY-MM)")
    orders: int
    revenue_cents: int


class RevenueReport(Output):
    period: Literal["day", "week", "month"]
    start: date
    end: date
    total_cents: int
    rows: list[RevenueRow]


class TurnaroundRow(Output):
    key: str | None = Field(description="The technician; null for all orders together")
    orders: int
    average_hours: float


class TurnaroundReport(Output):
    start: date
    end: date
    rows: list[TurnaroundRow]


# --- payments ----------------------------------------------------------------------------------
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
    value_cents: int | None = Field(
        default=None,
        ge=500,
        le=100_000_000,
        description="Default: the approved quote's total minus what was paid",
    )
    due_date: date | None = Field(
        default=None, description="Default: tomorrow (PIX, card) or in 3 days (boleto)"
    )


class ChargeOut(Output):
    id: UUID
    order_id: UUID
    attempt: int
    billing_type: BillingType
    value_cents: int
    due_date: date
    status: Literal["pending", "overdue", "paid", "refunded", "chargeback", "cancelled"]
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
    value_cents: int | None = Field(default=None, ge=500, le=100_000_000)
    wait_hours: int = Field(
        default=72,
        ge=1,
        le=720,
        description="How long to wait for the payment before a reminder (then again before expiring)",
    )


class PaymentFlowOut(Output):
    execution_arn: str


class ChargeList(Output):
    items: list[ChargeOut]


# --- the shop's subscription to assistec ---------------------------------------------------------
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
    version: Annotated[int, Field(ge=1)]


class PlanChangeIn(Input):
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,40}$")]
    version: Annotated[int, Field(ge=1)]
