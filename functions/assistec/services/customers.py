"""The shop's customers: one per phone number (both spellings of a Brazilian mobile are one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import CustomerRow
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError
from assistec.services import audit
from assistec.services.access import require

_DUPLICATE = {
    "customers_tenant_phone": ("Já existe um cliente com este telefone.", "phone"),
    "customers_tenant_document": ("Já existe um cliente com este CPF/CNPJ.", "document"),
}


def _conflict(exc: repo.DuplicateError) -> ConflictError:
    message, field = _DUPLICATE.get(exc.constraint, ("Cliente duplicado.", None))
    return ConflictError(message, details={"field": field})


class CustomersService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self, identity: Identity, fields: dict[str, Any], *, correlation_id: str | None = None
    ) -> CustomerRow:
        require(identity, Permission.CUSTOMERS_WRITE)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                customer = repo.insert_customer(conn, tenant_id=identity.tenant_id, fields=fields)
                audit.record(
                    conn,
                    identity,
                    action="create",
                    entity="customer",
                    entity_id=str(customer.id),
                    changes={k: v for k, v in fields.items() if k != "document"},
                    correlation_id=correlation_id,
                )
                return customer
        except repo.DuplicateError as exc:
            raise _conflict(exc) from exc

    def get(self, identity: Identity, customer_id: UUID) -> CustomerRow:
        require(identity, Permission.CUSTOMERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            customer = repo.get_customer(conn, customer_id)
        if customer is None:
            raise NotFoundError("Cliente não encontrado.")
        return customer

    def list(
        self, identity: Identity, *, limit: int, after: tuple[datetime, UUID] | None, q: str | None
    ) -> list[CustomerRow]:
        require(identity, Permission.CUSTOMERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return repo.list_customers(conn, limit=limit, after=after, q=q)

    def update(
        self,
        identity: Identity,
        customer_id: UUID,
        *,
        version: int,
        changes: dict[str, Any],
        correlation_id: str | None = None,
    ) -> CustomerRow:
        require(identity, Permission.CUSTOMERS_WRITE)
        try:
            with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
                current = repo.get_customer(conn, customer_id)
                if current is None:
                    raise NotFoundError("Cliente não encontrado.")
                if not changes:
                    return current
                updated = repo.update_customer(conn, customer_id, expected_version=version, changes=changes)
                if updated is None:
                    raise ConflictError(
                        "Este cliente foi alterado por outra pessoa. Recarregue e tente novamente.",
                        details={"current_version": current.version},
                    )
                audit.record(
                    conn,
                    identity,
                    action="update",
                    entity="customer",
                    entity_id=str(customer_id),
                    # Documents (CPF/CNPJ) stay out of the log; that one changed is enough.
                    changes={
                        k: {"from": getattr(current, k), "to": v} if k != "document" else "alterado"
                        for k, v in changes.items()
                    },
                    correlation_id=correlation_id,
                )
                return updated
        except repo.DuplicateError as exc:
            raise _conflict(exc) from exc
