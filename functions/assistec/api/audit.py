from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api import pagination
from assistec.api.identity import require_identity
from assistec.api.models import AuditEntryOut, AuditPage
from assistec.api.responses import BEARER, doc, json_response
from assistec.runtime import audit_service

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped


@router.get(
    "/audit",
    tags=["audit"],
    summary="Who changed what in the shop, newest first",
    security=BEARER,
    responses=doc(200, AuditPage, 401, 403),
)
def list_audit(
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    entity: Annotated[Literal["tenant", "user", "settings"] | None, Query()] = None,
) -> Response[Any]:
    identity = require_identity(router.current_event.request_context.authorizer.get_context())
    before = None
    if cursor is not None:
        at, entry_id = pagination.decode(cursor, 2)
        try:
            before = (datetime.fromisoformat(at), int(entry_id))
        except (TypeError, ValueError) as exc:
            raise pagination.invalid_cursor() from exc
    rows = audit_service().list(identity, limit=limit + 1, before=before, entity=entity)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = pagination.encode([page[-1]["at"].isoformat(), page[-1]["id"]]) if more else None
    return json_response(
        200, AuditPage(items=[AuditEntryOut.model_validate(r) for r in page], next_cursor=next_cursor)
    )
