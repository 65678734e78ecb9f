"""The shop's staff: who they are, their roles, and who may change them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.db import auth as auth_db
from assistec.db import sql
from assistec.db import tenants as tenants_db
from assistec.db import users as users_db
from assistec.db.rows import TenantRow, UserRow
from assistec.domain import passwords
from assistec.domain.accounts import NewUser, UserChanges
from assistec.domain.permissions import Permission, Role, may_assign
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, ForbiddenError, NotFoundError, found
from assistec.observability import logger
from assistec.services.access import require
from assistec.services.audit import diff
from assistec.services.unit_of_work import UnitsOfWork

_NOT_FOUND = "Usuário não encontrado."


class UsersService:
    """The shop's staff. Only owners and admins manage users, and only within the roles they may
    assign; the owner cannot be created, demoted or deactivated, and nobody deactivates themselves.
    Deactivating a user or changing their role ends their sessions in the same transaction."""

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def me(self, identity: Identity) -> tuple[UserRow, TenantRow]:
        """The caller and their shop."""
        with self._work(identity) as uow:
            user = users_db.get_user(uow.conn, identity.user_id)
            tenant = tenants_db.get_tenant(uow.conn, identity.tenant_id)
        if user is None or tenant is None:
            raise NotFoundError(_NOT_FOUND)
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
        """A page of the shop's users, filtered by role, active flag and name/e-mail."""
        with self._work(identity, Permission.USERS_READ) as uow:
            return users_db.list_users(uow.conn, limit=limit, after=after, role=role, active=active, q=q)

    def get(self, identity: Identity, user_id: UUID) -> UserRow:
        """One user of the caller's shop; 404 for any other id."""
        with self._work(identity, Permission.USERS_READ) as uow:
            user = users_db.get_user(uow.conn, user_id)
        if user is None:
            raise NotFoundError(_NOT_FOUND)
        return user

    def create(self, identity: Identity, new: NewUser) -> UserRow:
        """Add a user with a role the caller may assign; 409 when the e-mail is taken anywhere."""
        require(identity, Permission.USERS_MANAGE)  # before hashing: a refused caller costs nothing
        if not may_assign(identity.role, new.role):
            raise ForbiddenError("Você não pode criar um usuário com este papel.")
        password_hash = passwords.hash_password(new.password)
        try:
            with self._work(identity, Permission.USERS_MANAGE) as uow:
                user = users_db.insert_user(
                    uow.conn,
                    tenant_id=uow.tenant_id,
                    email=new.email,
                    name=new.name,
                    password_hash=password_hash,
                    role=new.role,
                )
                uow.audit(
                    "create",
                    "user",
                    user.id,
                    changes={"email": new.email, "name": new.name, "role": new.role.value},
                )
                logger.info("user created", extra={"created_user_id": str(user.id), "role": new.role.value})
                return user
        except sql.DuplicateError as exc:
            raise ConflictError(
                "Este e-mail já está em uso por outro usuário.", details={"field": "email"}
            ) from exc

    def update(self, identity: Identity, user_id: UUID, changes: UserChanges) -> UserRow:
        """Rename, change the role of, or (de)activate a user at ``changes.version`` (409 when stale)."""
        with self._work(identity, Permission.USERS_MANAGE) as uow:
            current = found(users_db.get_user(uow.conn, user_id), _NOT_FOUND)
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
            _, updated = uow.update_versioned(
                lambda: current,
                lambda: users_db.update_user(
                    uow.conn, user_id, expected_version=changes.version, changes=values
                ),
                version_of=lambda u: u.version,
                not_found=_NOT_FOUND,
                stale="Este usuário foi alterado por outra pessoa. Recarregue e tente novamente.",
            )
            if changes.active is False or changes.role is not None:
                # Access tokens expire within minutes; the sessions themselves end now.
                auth_db.revoke_user_tokens(uow.conn, user_id)
            uow.audit("update", "user", user_id, changes=diff(current, values))
            return updated
