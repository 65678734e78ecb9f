"""Models of customers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from assistec.api.schemas.common import Email, Input, Int, Name, Output, Patch, Phone
from assistec.domain import documents


def _document(value: str) -> str:
    normal = documents.normalize_cpf(value) or documents.normalize_cnpj(value)
    if normal is None:
        raise ValueError("CPF ou CNPJ inválido")
    return normal


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

    version: Int = Field(ge=1, description="The version you read; a stale one gets 409")
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
