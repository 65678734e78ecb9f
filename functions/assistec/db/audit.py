"""SQL for the audit log: append and list."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_dicts

if TYPE_CHECKING:
    from assistec.db.sql import Conn


def audit(
    conn: Conn,
    *,
    tenant_id: UUID,
    actor_user_id: UUID | None,
    action: str,
    entity: str,
    entity_id: str,
    changes: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> None:
    conn.execute(
        "insert into audit_log "
        "(tenant_id, actor_user_id, action, entity, entity_id, changes, correlation_id) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        (
            tenant_id,
            actor_user_id,
            action,
            entity,
            entity_id,
            json.dumps(changes or {}, default=str),
            correlation_id,
        ),
    )


def list_audit(
    conn: Conn,
    *,
    limit: int,
    before: tuple[datetime, int] | None,
    entity: str | None,
    entity_id: str | None = None,
) -> list[dict[str, Any]]:
    clauses = ["tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"]
    params: list[Any] = []
    if before is not None:
        clauses.append("(at, id) < (%s, %s)")
        params.extend(before)
    if entity is not None:
        clauses.append("entity = %s")
        params.append(entity)
    if entity_id is not None:
        clauses.append("entity_id = %s")
        params.append(entity_id)
    params.append(limit)
    return fetch_dicts(
        conn,
        "select id, actor_user_id, action, entity, entity_id, changes, correlation_id, at from audit_log "
        f"where {' and '.join(clauses)} order by at desc, id desc limit %s",
        params,
    )
