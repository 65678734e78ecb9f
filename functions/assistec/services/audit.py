"""The shop's audit log: who changed what, when (append-only; written by the other services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.services.access import require


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


def diff(current: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """The audit log's shape of an update: each changed field ``{"from": before, "to": after}``."""
    return {k: {"from": getattr(current, k), "to": v} for k, v in changes.items()}


def record(
    conn: repo.Conn,
    identity: Actor,
    *,
    action: str,
    entity: str,
    entity_id: str,
    changes: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> None:
    """Append who did what to the shop's audit log, inside the caller's unit of work."""
    repo.audit(
        conn,
        tenant_id=identity.tenant_id,
        actor_user_id=identity.user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes=changes,
        correlation_id=correlation_id,
    )


class AuditService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(
        self,
        identity: Identity,
        *,
        limit: int,
        before: tuple[datetime, int] | None,
        entity: str | None,
        entity_id: str | None = None,
    ) -> list[dict[str, Any]]:
        require(identity, Permission.AUDIT_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return repo.list_audit(conn, limit=limit, before=before, entity=entity, entity_id=entity_id)
