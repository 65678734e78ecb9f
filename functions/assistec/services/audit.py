"""The shop's audit log: who changed what, when (append-only; written by the other services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from assistec.db import audit as audit_db
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity

if TYPE_CHECKING:
    from assistec.services.unit_of_work import UnitsOfWork


class Actor(Protocol):
    """Who acts: a signed-in user (``Identity``) or someone on a public link (``PublicActor``)."""

    @property
    def tenant_id(self) -> UUID: ...

    @property
    def user_id(self) -> UUID | None: ...


@dataclass(frozen=True, slots=True)
class PublicActor:
    """A customer acting through a public link: no user, a label for the history ("Cliente: Ana")."""

    tenant_id: UUID
    label: str
    user_id: None = None


@dataclass(frozen=True, slots=True)
class SystemActor:
    """assistec itself acting in a shop, with no user signed in: signup, a session's refresh token,
    the workers applying provider events."""

    tenant_id: UUID
    user_id: None = None


def diff(current: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """The audit log's shape of an update: each changed field ``{"from": before, "to": after}``."""
    return {k: {"from": getattr(current, k), "to": v} for k, v in changes.items()}


class AuditService:
    """Reads the shop's audit log (owners and admins), newest first."""

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def list(
        self,
        identity: Identity,
        *,
        limit: int,
        before: tuple[datetime, int] | None,
        entity: str | None,
        entity_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """A page of entries, optionally of one entity (kind, and id)."""
        with self._work(identity, Permission.AUDIT_READ) as uow:
            return audit_db.list_audit(
                uow.conn, limit=limit, before=before, entity=entity, entity_id=entity_id
            )
