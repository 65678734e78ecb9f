"""Models of users and the current user."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from assistec.api.schemas.common import Bool, Email, Input, Int, Name, Output, Password, Patch
from assistec.domain.permissions import Role

AssignableRole = Literal["admin", "technician", "attendant"]


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

    version: Int = Field(ge=1, description="The version you read; a stale one gets 409")
    name: Name | None = None
    role: AssignableRole | None = None
    active: Bool | None = None


class UserPage(Output):
    items: list[UserOut]
    next_cursor: str | None
