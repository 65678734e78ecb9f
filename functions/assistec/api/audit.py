from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.audit import AuditEntity, AuditEntryOut, AuditPage
from assistec.api.schemas.common import Digits

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="audit")


@routes.get(
    "/audit", summary="Who changed what in the shop, newest first", responses=doc(200, AuditPage, 401, 403)
)
def list_audit(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    entity: Annotated[AuditEntity | None, Query()] = None,
    entity_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="One record's trail")
    ] = None,
) -> Response[Any]:
    before = pagination.key_from(cursor, datetime.fromisoformat, int)
    rows = services().audit.list(
        caller(router), limit=limit + 1, before=before, entity=entity, entity_id=entity_id
    )
    items, next_cursor = pagination.page(rows, limit, lambda e: [e["at"].isoformat(), e["id"]])
    return json_response(
        200, AuditPage(items=[AuditEntryOut.model_validate(r) for r in items], next_cursor=next_cursor)
    )
