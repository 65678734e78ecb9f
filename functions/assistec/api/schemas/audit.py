"""Models of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from assistec.api.schemas.common import Output


class AuditEntryOut(Output):
    id: int
    actor_user_id: UUID | None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, Any]
    correlation_id: str | None
    at: datetime


class AuditPage(Output):
    items: list[AuditEntryOut]
    next_cursor: str | None
