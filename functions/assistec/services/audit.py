"""The shop's audit log: who changed what, when (append-only; written by the other services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.services.users import require


class AuditService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(
        self, identity: Identity, *, limit: int, before: tuple[datetime, int] | None, entity: str | None
    ) -> list[dict[str, Any]]:
        require(identity, Permission.AUDIT_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            return repo.list_audit(conn, limit=limit, before=before, entity=entity)
