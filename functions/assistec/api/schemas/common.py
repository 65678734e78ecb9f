"""Shared pieces of the API models: base classes, field types used by several areas, error shape.

Our own input models forbid unknown fields: a typo in a field name is an error, not silence.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from assistec.domain import passwords, phones


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
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

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
    model_config = ConfigDict(from_attributes=True, defer_build=True)


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


Name = Annotated[str, StringConstraints(min_length=2, max_length=120)]
Password = Annotated[str, StringConstraints(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)]
Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email"}),
]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Cents = Annotated[int, Strict(), Field(ge=0, le=100_000_000, description="Centavos (R$ 1,00 = 100)")]

# --- numbers and dates, exactly as documented ---------------------------------------------------
# A JSON body's integer is a JSON integer: "100", 100.0 and true are refused (422), not coerced.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]

_DIGITS = re.compile(r"-?[0-9]{1,18}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.IGNORECASE,
)


def _digits(value: Any) -> Any:
    # A query string's integer arrives as text: decimal digits only ("1.0", "1e3", "+1", " 1" and
    # "1_000" are not the integer the documentation promises).
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise PydanticCustomError("int_parsing", "deve ser um número inteiro")
    return value


def _iso_date(value: Any) -> Any:
    # Dates are ISO dates (YYYY-MM-DD) only: pydantic would read a number ("0", 0) as a Unix time.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_format", "deve ser uma data AAAA-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    # Moments are ISO 8601 date-times (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]), never a number of seconds.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.fullmatch(value):
        raise PydanticCustomError("datetime_format", "deve ser uma data e hora ISO (AAAA-MM-DDTHH:MM:SS)")
    return value


# A query string's integer: ``Annotated[int, Field(ge=.., le=..), Digits, Query()]`` (the bounds
# before ``Digits``, or the OpenAPI document loses its minimum and maximum).
Digits = BeforeValidator(_digits)
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


# Order statuses: the orders' models and the customer's tracking page.
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


# --- errors ------------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    """Every error answer: a stable ``code``, a pt-BR ``message`` and optional ``details``."""

    model_config = ConfigDict(defer_build=True)

    code: str
    message: str
    details: Any = None
    correlation_id: str | None = None


class Deleted(Output):
    deleted: Literal[True]


# --- shared by the quotes and the customer's public pages ------------------------------------
class QuoteLineOut(Output):
    kind: Literal["part", "service", "labour"]
    description: str
    quantity: int
    unit_price_cents: int
    total_cents: int
    part_id: UUID | None


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    name: Annotated[str, StringConstraints(min_length=2, max_length=120)] = Field(
        description="The customer's name, as typed"
    )
