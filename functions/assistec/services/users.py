"""The shop's staff: who they are, their roles, and who may change them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import TenantRow, UserRow
from assistec.domain import passwords
from assistec.domain.permissions import Permission, Role, may_assign
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, ForbiddenError, NotFoundError
from assistec.observability import logger
from assistec.services import audit
from assistec.services.access import require


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


class UsersService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def me(self, identity: Identity) -> tuple[UserRow, TenantRow]:
        """The caller and their shop."""
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            user = repo.get_user(conn, identity.user_id)
            tenant = repo.get_tenant(conn, identity.tenant_id)
        if user is None or tenant is None:
            raise NotFoundError("Usuário não encontrado.")
        return user, tenant

    def list(
        self,
        identity: Identity,
        *,
        limit: int,
        after: tuple[datetime, UUID] | None,
        role: Role | None,
        active: bool | None,
        q: str | None,
    ) -> list[UserRow]:
        require(identity, Permission.USERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return repo.list_users(conn, limit=limit, after=after, role=role, active=active, q=q)

    def get(self, identity: Identity, user_id: UUID) -> UserRow:
        require(identity, Permission.USERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            user = repo.get_user(conn, user_id)
        if user is None:
            raise NotFoundError("Usuário não encontrado.")
        return user

    def create(self, identity: Identity, new: NewUser, *, correlation_id: str | None = None) -> UserRow:
        require(identity, Permission.USERS_MANAGE)
        if not may_assign(identity.role, new.role):
            raise ForbiddenError("Você não pode criar um usuário com este papel.")
        password_hash = passwords.hash_password(new.password)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                user = repo.insert_user(
                    conn,
                    tenant_id=identity.tenant_id,
                    email=new.email,
                    name=new.name,
                    password_hash=password_hash,
                    role=new.role,
                )
                audit.record(
                    conn,
                    identity,
                    action="create",
                    entity="user",
                    entity_id=str(user.id),
                    changes={"email": new.email, "name": new.name, "role": new.role.value},
                    correlation_id=correlation_id,
                )
                logger.info("user created", extra={"created_user_id": str(user.id), "role": new.role.value})
                return user
        except repo.DuplicateError as exc:
            raise ConflictError(
                "Este e-mail já está em uso por outro usuário.", details={"field": "email"}
            ) from exc

    def update(
        self, identity: Identity, user_id: UUID, changes: UserChanges, *, correlation_id: str | None = None
    ) -> UserRow:
        require(identity, Permission.USERS_MANAGE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = repo.get_user(conn, user_id)
            if current is None:
                raise NotFoundError("Usuário não encontrado.")
            if current.role == Role.OWNER and (changes.role is not None or changes.active is False):
                raise ForbiddenError("O papel do dono da loja não pode ser alterado nem desativado.")
            if changes.role is not None and not may_assign(identity.role, changes.role):
                raise ForbiddenError("Você não pode atribuir este papel.")
            if user_id == identity.user_id and changes.active is False:
                raise ForbiddenError("Você não pode desativar o seu próprio usuário.")
            values: dict[str, Any] = {}
            if changes.name is not None:
                values["name"] = changes.name
            if changes.role is not None:
                values["role"] = changes.role.value
            if changes.active is not None:
                values["active"] = changes.active
            if not values:
                return current
            updated = repo.update_user(conn, user_id, expected_version=changes.version, changes=values)
            if updated is None:
                raise ConflictError(
                    "Este usuário foi alterado por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": current.version},
                )
            if changes.active is False or changes.role is not None:
                # Access tokens expire within minutes; the sessions themselves end now.
                repo.revoke_user_tokens(conn, user_id)
            audit.record(
                conn,
                identity,
                action="update",
                entity="user",
                entity_id=str(user_id),
                changes=audit.diff(current, values),
                correlation_id=correlation_id,
            )
            return updated
