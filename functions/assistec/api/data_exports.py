"""The owner's copy of the shop's data (LGPD, portability): asked for here, made by the data exports
worker (a large shop takes longer than API Gateway waits), downloaded through short-lived links."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import Digits, ErrorBody
from assistec.api.schemas.data_exports import DataExportLinkOut, DataExportOut, DataExportPage

if TYPE_CHECKING:
    from assistec.services.data_exports import DataExportView

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="data-exports")

_OWNER_ONLY: Any = {
    "description": "Not the shop's owner (only the owner exports the shop's data)",
    "content": {"application/json": {"model": ErrorBody}},
}


def export_out(view: DataExportView) -> DataExportOut:
    row = view.row
    return DataExportOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]  # the table's check constraint keeps it to the four
        requested_at=row.requested_at,
        requested_by=row.requested_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        rows=row.rows,
        files=row.files,
        bytes=row.bytes,
        expires_at=row.expires_at,
        expired=view.expired,
        error=row.error,
    )


@routes.post(
    "/data-exports",
    summary="Ask for a copy of the shop's data (LGPD): a zip of CSV and JSON files made in the "
    "background; the owner is e-mailed when it is ready (owner only)",
    responses={
        **doc(202, DataExportOut, 401, 403, 409, 429, description="Asked: the export is pending"),
        403: _OWNER_ONLY,
        409: {
            "description": "Another export of the shop is under way (`export_in_progress`)",
            "content": {"application/json": {"model": ErrorBody}},
        },
        429: {
            "description": "Too many exports asked in 24 hours (`export_limit_reached`; see Retry-After)",
            "content": {"application/json": {"model": ErrorBody}},
        },
    },
)
def request_export() -> Response[Any]:
    return json_response(202, export_out(services().data_exports.request(caller(router))))


@routes.get(
    "/data-exports",
    summary="The shop's data exports, newest first (owner only)",
    responses={**doc(200, DataExportPage, 401, 403), 403: _OWNER_ONLY},
)
def list_exports(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response[Any]:
    before = pagination.key_from(cursor, datetime.fromisoformat, UUID)
    views = services().data_exports.list(
        caller(router), limit=limit + 1, before=(before[0], before[1]) if before else None
    )
    items, next_cursor = pagination.page(
        views, limit, lambda v: [v.row.requested_at.isoformat(), str(v.row.id)]
    )
    return json_response(200, DataExportPage(items=[export_out(v) for v in items], next_cursor=next_cursor))


@routes.get(
    "/data-exports/<export_id>",
    summary="One data export: its status, what it holds and until when it can be downloaded (owner only)",
    responses={**doc(200, DataExportOut, 401, 403, 404), 403: _OWNER_ONLY},
)
def get_export(export_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, export_out(services().data_exports.get(caller(router), export_id)))


@routes.get(
    "/data-exports/<export_id>/download",
    summary="A ready data export's zip: a download link valid 5 minutes (owner only; audited)",
    responses={
        **doc(200, DataExportLinkOut, 401, 403, 404, 409, 410),
        403: _OWNER_ONLY,
        409: {
            "description": "The export is not ready (`export_not_ready`; its status in details)",
            "content": {"application/json": {"model": ErrorBody}},
        },
        410: {
            "description": "The export's file expired 7 days after it was made (`export_expired`)",
            "content": {"application/json": {"model": ErrorBody}},
        },
        503: {
            "description": "The database or the file storage is unavailable: nothing was done; retry later",
            "content": {"application/json": {"model": ErrorBody}},
        },
    },
)
def download_export(export_id: Annotated[UUID, Path()]) -> Response[Any]:
    link = services().data_exports.download(caller(router), export_id)
    return json_response(
        200,
        DataExportLinkOut(
            url=link.url, filename=link.filename, content_type="application/zip", expires_at=link.expires_at
        ),
    )
