"""The shop's customers: one per phone number (both spellings of a Brazilian mobile are one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import sql
from assistec.db.rows import CustomerRow
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, found
from assistec.services.unit_of_work import UnitsOfWork

_NOT_FOUND = "Cliente não encontrado."
_DUPLICATE = {
    "customers_tenant_phone": ("Já existe um cliente com este telefone.", "phone"),
    "customers_tenant_document": ("Já existe um cliente com este CPF/CNPJ.", "document"),
}


def _conflict(exc: sql.DuplicateError) -> ConflictError:
    message, field = _DUPLICATE.get(exc.constraint, ("Cliente duplicado.", None))
    return ConflictError(message, details={"field": field})


class CustomersService:
    """The shop's customers. A phone number (either spelling of a Brazilian mobile) and a CPF/CNPJ
    belong to one customer per shop: a second one is a 409 naming the field, and nothing is written.
    Every change is audited (documents never enter the log)."""

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def create(self, identity: Identity, fields: dict[str, Any]) -> CustomerRow:
        """Register a customer."""
        try:
            with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
                customer = customers_db.insert_customer(uow.conn, tenant_id=uow.tenant_id, fields=fields)
                uow.audit(
                    "create",
                    "customer",
                    customer.id,
                    changes={k: v for k, v in fields.items() if k != "document"},
                )
                return customer
        except sql.DuplicateError as exc:
            raise _conflict(exc) from exc

    def get(self, identity: Identity, customer_id: UUID) -> CustomerRow:
        """One customer of the caller's shop; 404 for any other id."""
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            return found(customers_db.get_customer(uow.conn, customer_id), _NOT_FOUND)

    def list(
        self, identity: Identity, *, limit: int, after: tuple[datetime, UUID] | None, q: str | None
    ) -> list[CustomerRow]:
        """A page of customers, newest first; ``q`` matches names without accents, phones, documents."""
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            return customers_db.list_customers(uow.conn, limit=limit, after=after, q=q)

    def update(
        self, identity: Identity, customer_id: UUID, *, version: int, changes: dict[str, Any]
    ) -> CustomerRow:
        """Change a customer at ``version`` (409 with the current version when someone else did first)."""
        try:
            with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
                if not changes:
                    return found(customers_db.get_customer(uow.conn, customer_id), _NOT_FOUND)
                current, updated = uow.update_versioned(
                    lambda: customers_db.get_customer(uow.conn, customer_id),
                    lambda: customers_db.update_customer(
                        uow.conn, customer_id, expected_version=version, changes=changes
                    ),
                    version_of=lambda c: c.version,
                    not_found=_NOT_FOUND,
                    stale="Este cliente foi alterado por outra pessoa. Recarregue e tente novamente.",
                )
                # Documents (CPF/CNPJ) stay out of the log; that one changed is enough.
                uow.audit(
                    "update",
                    "customer",
                    customer_id,
                    changes={
                        k: {"from": getattr(current, k), "to": v} if k != "document" else "alterado"
                        for k, v in changes.items()
                    },
                )
                return updated
        except sql.DuplicateError as exc:
            raise _conflict(exc) from exc
