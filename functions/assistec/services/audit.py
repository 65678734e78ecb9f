"""The shop's audit log: who changed what, when (append-only; written by the other services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.services.access import require


def record(
    conn: repo.Conn,
    identity: Identity,
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
        self, identity: Identity, *, limit: int, before: tuple[datetime, int] | None, entity: str | None
    ) -> list[dict[str, Any]]:
        require(identity, Permission.AUDIT_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return repo.list_audit(conn, limit=limit, before=before, entity=entity)
