"""Models of sign-up and authentication."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from assistec.api.schemas.common import Email, Input, Name, Output, Password, Phone
from assistec.domain import documents, passwords
from assistec.domain.permissions import Role


def _cnpj(value: str) -> str:
    normal = documents.normalize_cnpj(value)
    if normal is None:
        raise ValueError("CNPJ inválido")
    return normal


Cnpj = Annotated[str, StringConstraints(max_length=32), AfterValidator(_cnpj)]


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
