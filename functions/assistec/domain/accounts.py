"""The shop's accounts as plain data: a signup, staff changes, the tokens of a session."""

from __future__ import annotations

from dataclasses import dataclass

from assistec.domain.permissions import Role
from assistec.domain.tokens import Identity


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    identity: Identity


@dataclass(frozen=True, slots=True)
class Signup:
    shop_name: str
    cnpj: str
    email: str
    phone: str
    owner_name: str
    password: str
    plan: str | None = None
    # Set when the signup was confirmed by e-mail: the password was hashed when it was typed, and
    # ``password`` is empty (it is never kept in clear while the confirmation is awaited).
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    name: str
    role: Role
    password: str


@dataclass(frozen=True, slots=True)
class UserChanges:
    version: int
    name: str | None = None
    role: Role | None = None
    active: bool | None = None
