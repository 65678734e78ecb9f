from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, public_base_url, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import ErrorBody
from assistec.api.schemas.documents import (
    DocumentEmailOut,
    DocumentKind,
    DocumentOut,
    DocumentSettingsIn,
    DocumentSettingsOut,
    LogoIn,
    LogoUploadIn,
    LogoUploadOut,
    Paper,
)
from assistec.domain import shop_documents as rules

if TYPE_CHECKING:
    from assistec.services.documents.service import DocumentLink, DocumentSettingsView

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="documents")
settings_routes = Routes(router, tag="settings")

# Rendering stores the PDF in S3: the route's 503 is the database's or the file storage's.
UNAVAILABLE: Any = {
    "description": "The database or the file storage is unavailable: nothing was done; retry later",
    "content": {"application/json": {"model": ErrorBody}},
}


def settings_out(view: DocumentSettingsView) -> DocumentSettingsOut:
    row = view.row
    return DocumentSettingsOut(
        address=row.address,
        intake_terms=row.intake_terms,
        warranty_terms=row.warranty_terms,
        has_logo=row.logo_key is not None,
        logo_url=view.logo_url,
        version=row.version,
        updated_at=row.updated_at,
    )


def document_out(link: DocumentLink) -> DocumentOut:
    return DocumentOut(
        url=link.url,
        filename=link.filename,
        content_type="application/pdf",
        expires_at=link.expires_at,
    )


# What an order's document answers when there is none to give (the link and the e-mail alike).
_ORDER_DOCUMENT_ERRORS: dict[int, Any] = {
    404: {
        "description": "Not found: the order (other shops' too), or its quote (`quote_not_found`)",
        "content": {"application/json": {"model": ErrorBody}},
    },
    409: {
        "description": "A delivery receipt before the order was delivered (`order_not_delivered`)",
        "content": {"application/json": {"model": ErrorBody}},
    },
}


@routes.get(
    "/orders/<order_id>/documents/<kind>",
    summary="An order's intake receipt, quote (its newest) or delivery receipt as PDF (A4 or 80 mm "
    "thermal): a download link valid 5 minutes",
    responses={
        **doc(200, DocumentOut, 401, 403, 404, 409),
        **_ORDER_DOCUMENT_ERRORS,
        503: UNAVAILABLE,
    },
)
def order_document(
    order_id: Annotated[UUID, Path()],
    kind: Annotated[DocumentKind, Path()],
    paper: Annotated[Paper, Query()] = "a4",
) -> Response[Any]:
    link = services().documents.order_document(
        caller(router), order_id, kind, paper, link_base=public_base_url(router)
    )
    return json_response(200, document_out(link))


@routes.post(
    "/orders/<order_id>/documents/<kind>/email",
    summary="E-mail an order's document to its customer, the PDF attached (the shop's mail: its own "
    "server and texts when it has them; the message is recorded in /email/messages)",
    responses={
        **doc(200, DocumentEmailOut, 401, 403, 404, 409, 422),
        **_ORDER_DOCUMENT_ERRORS,
        422: {
            "description": "The customer has no e-mail (`customer_without_email`), or invalid input",
            "content": {"application/json": {"model": ErrorBody}},
        },
        503: UNAVAILABLE,
    },
)
def email_document(
    order_id: Annotated[UUID, Path()],
    kind: Annotated[DocumentKind, Path()],
    paper: Annotated[Paper, Query()] = "a4",
) -> Response[Any]:
    sent, to = services().documents.email_document(
        caller(router), order_id, kind, paper, link_base=public_base_url(router)
    )
    return json_response(
        200, DocumentEmailOut(status=sent.status, to=to, message_id=sent.record_id, reason=sent.reason)
    )


@settings_routes.get(
    "/settings/documents",
    summary="What the shop prints on its documents: address, terms and logo",
    responses=doc(200, DocumentSettingsOut, 401, 403),
)
def get_document_settings() -> Response[Any]:
    return json_response(200, settings_out(services().documents.settings(caller(router))))


@settings_routes.put(
    "/settings/documents",
    summary="Replace the shop's address and terms printed on its documents (optimistic locking on the "
    "settings' version)",
    responses=doc(200, DocumentSettingsOut, 401, 403, 409, 413),
)
def put_document_settings(body: Annotated[DocumentSettingsIn, Body()]) -> Response[Any]:
    view = services().documents.update_settings(
        caller(router),
        version=body.version,
        address=body.address,
        intake_terms=body.intake_terms,
        warranty_terms=body.warranty_terms,
    )
    return json_response(200, settings_out(view))


@settings_routes.post(
    "/settings/logo",
    summary="Start a logo upload: a presigned S3 form (PNG or JPEG, 512 KB max, 10 minutes); confirm "
    "with PUT /settings/logo",
    responses={**doc(201, LogoUploadOut, 401, 403, 413), 503: UNAVAILABLE},
)
def new_logo(body: Annotated[LogoUploadIn, Body()]) -> Response[Any]:
    key, form = services().documents.logo_upload(caller(router), body.content_type)
    return created(
        LogoUploadOut(
            key=key,
            upload_url=form["url"],
            upload_fields=form["fields"],
            max_bytes=rules.LOGO_MAX_BYTES,
            expires_in=rules.LOGO_UPLOAD_EXPIRES_S,
        )
    )


@settings_routes.put(
    "/settings/logo",
    summary="Use an uploaded file as the shop's logo (it must exist and be a PNG or JPEG)",
    responses={**doc(200, DocumentSettingsOut, 401, 403, 413), 503: UNAVAILABLE},
)
def put_logo(body: Annotated[LogoIn, Body()]) -> Response[Any]:
    return json_response(200, settings_out(services().documents.set_logo(caller(router), body.key)))


@settings_routes.delete(
    "/settings/logo",
    summary="Print no logo on the shop's documents",
    responses=doc(200, DocumentSettingsOut, 401, 403),
)
def delete_logo() -> Response[Any]:
    return json_response(200, settings_out(services().documents.remove_logo(caller(router))))
