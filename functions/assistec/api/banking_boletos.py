"""The shop's own boletos: issued under its bank agreements for an order or as a free charge, listed,
printed as PDF and sent to the customer (owners, admins and attendants)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.documents import UNAVAILABLE, document_out
from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.banking_boletos import (
    BoletoList,
    BoletoOut,
    BoletoPage,
    BoletoSendOut,
    BoletoStatus,
    FreeBoletoIn,
    OrderBoletoIn,
)
from assistec.api.schemas.common import Digits, ErrorBody
from assistec.api.schemas.documents import DocumentOut
from assistec.domain.banking.boleto import format_linha

if TYPE_CHECKING:
    from assistec.services.banking.boletos import BoletoView, IssueRequest

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="banking")

_REFUSED: Any = {
    "description": "Refused, nothing written: invalid input, a due date in the past of the shop's "
    "calendar (`boleto_due_date_past`), terms out of range (`boleto_invalid_*`), several active "
    "agreements and none named (`agreement_required`), a nosso número the bank's layout cannot hold",
    "content": {"application/json": {"model": ErrorBody}},
}


def boleto_out(view: BoletoView) -> BoletoOut:
    row = view.row
    fields = {name: getattr(row, name) for name in BoletoOut.model_fields if hasattr(row, name)}
    return BoletoOut.model_validate(
        {
            **fields,
            "bank_code": view.bank_code,
            "nosso_numero_printed": view.nosso_numero_printed,
            "digitable_line_formatted": format_linha(row.digitable_line) if row.digitable_line else None,
        }
    )


def _request(body: OrderBoletoIn | FreeBoletoIn) -> IssueRequest:
    from assistec.services.banking.boletos import IssueRequest

    return IssueRequest(
        due_date=body.due_date,
        agreement_id=body.agreement_id,
        amount_cents=body.amount_cents,
        interest_monthly_bp=body.interest_monthly_bp,
        fine_bp=body.fine_bp,
        discount_cents=body.discount_cents,
        discount_until=body.discount_until,
        description=body.description if isinstance(body, FreeBoletoIn) else None,
    )


@routes.post(
    "/orders/<order_id>/boletos",
    summary="Issue a boleto for the order under the shop's bank agreement (default amount: the order's "
    "open balance; default terms: the agreement's)",
    responses={
        **doc(201, BoletoOut, 401, 403, 404, 409, 413, 422),
        409: {
            "description": "The order is cancelled (`order_cancelled`), nothing is open (`nothing_open`), "
            "the agreement is inactive, or the shop has none active (`no_active_agreement`)",
            "content": {"application/json": {"model": ErrorBody}},
        },
        422: _REFUSED,
    },
)
def issue_for_order(
    order_id: Annotated[UUID, Path()], body: Annotated[OrderBoletoIn, Body()]
) -> Response[Any]:
    view = services().boletos.issue_for_order(caller(router), order_id, _request(body))
    return created(boleto_out(view))


@routes.get(
    "/orders/<order_id>/boletos",
    summary="The order's boletos, oldest first",
    responses=doc(200, BoletoList, 401, 403, 404),
)
def order_boletos(order_id: Annotated[UUID, Path()]) -> Response[Any]:
    views = services().boletos.of_order(caller(router), order_id)
    return json_response(200, BoletoList(items=[boleto_out(v) for v in views]))


@routes.post(
    "/banking/boletos",
    summary="Issue a free boleto (no order) to a customer of the shop",
    responses={
        **doc(201, BoletoOut, 401, 403, 404, 409, 413, 422),
        409: {
            "description": "The agreement is inactive, or the shop has none active (`no_active_agreement`)",
            "content": {"application/json": {"model": ErrorBody}},
        },
        422: _REFUSED,
    },
)
def issue_free(body: Annotated[FreeBoletoIn, Body()]) -> Response[Any]:
    view = services().boletos.issue_free(caller(router), body.customer_id, _request(body))
    return created(boleto_out(view))


@routes.get(
    "/banking/boletos",
    summary="The shop's boletos, newest first, by status, order or customer",
    responses=doc(200, BoletoPage, 401, 403),
)
def list_boletos(
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[BoletoStatus | None, Query()] = None,
    order_id: Annotated[UUID | None, Query()] = None,
    customer_id: Annotated[UUID | None, Query()] = None,
) -> Response[Any]:
    before = pagination.key_from(cursor, datetime.fromisoformat, UUID)
    views = services().boletos.search(
        caller(router),
        limit=limit + 1,
        before=(before[0], before[1]) if before is not None else None,
        status=status,
        order_id=order_id,
        customer_id=customer_id,
    )
    items, next_cursor = pagination.page(
        views, limit, lambda v: [v.row.created_at.isoformat(), str(v.row.id)]
    )
    return json_response(200, BoletoPage(items=[boleto_out(v) for v in items], next_cursor=next_cursor))


@routes.get(
    "/banking/boletos/<boleto_id>",
    summary="One boleto",
    responses=doc(200, BoletoOut, 401, 403, 404),
)
def get_boleto(boleto_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, boleto_out(services().boletos.get(caller(router), boleto_id)))


@routes.get(
    "/banking/boletos/<boleto_id>/pdf",
    summary="The boleto as PDF (shop's name and logo, payer, linha digitável, ITF barcode): a download "
    "link valid 5 minutes",
    responses={**doc(200, DocumentOut, 401, 403, 404), 503: UNAVAILABLE},
)
def boleto_pdf(boleto_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, document_out(services().boletos.pdf_link(caller(router), boleto_id)))


@routes.post(
    "/banking/boletos/<boleto_id>/send",
    summary="Send an open boleto to its customer: WhatsApp (the linha digitável) when the shop's number "
    "and the customer can, else e-mail with the PDF attached",
    responses={
        **doc(200, BoletoSendOut, 401, 403, 404, 409, 422),
        409: {
            "description": "The boleto is not open (`boleto_not_open`): settled, written off or cancelled",
            "content": {"application/json": {"model": ErrorBody}},
        },
        422: {
            "description": "No way to reach the customer (`customer_unreachable`): no WhatsApp and no e-mail",
            "content": {"application/json": {"model": ErrorBody}},
        },
        503: UNAVAILABLE,
    },
)
def send_boleto(boleto_id: Annotated[UUID, Path()]) -> Response[Any]:
    outcome = services().boletos.send(caller(router), boleto_id)
    return json_response(
        200,
        BoletoSendOut(
            channel=outcome.channel,  # type: ignore[arg-type]
            status=outcome.status,  # type: ignore[arg-type]
            to=outcome.to,
            message_id=outcome.message_id,
            reason=outcome.reason,
        ),
    )
