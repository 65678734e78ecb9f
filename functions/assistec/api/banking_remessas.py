"""Banking: the agreements' remessa files (generated, listed, downloaded) and the instructions a
boleto the bank already has may get (owners and admins)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.banking_remessas import (
    InstructionIn,
    InstructionOut,
    RemessaDetail,
    RemessaItemOut,
    RemessaLinkOut,
    RemessaOut,
    RemessaPage,
)
from assistec.api.schemas.common import Digits
from assistec.db.remessas import RemessaRow
from assistec.services.banking.remessas import filename_of

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="banking")


def _remessa(row: RemessaRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "agreement_id": row.agreement_id,
        "sequence": row.sequence,
        "item_count": row.item_count,
        "total_cents": row.total_cents,
        "filename": filename_of(row.s3_key),
        "sha256": row.sha256.hex(),
        "created_by": row.created_by,
        "created_at": row.created_at,
    }


@routes.post(
    "/banking/agreements/<agreement_id>/remessas",
    summary="Generate the agreement's next remessa: the boletos waiting to be registered and the pending "
    "instructions, in the bank's layout; answers the file with a 5-minute download link",
    responses=doc(201, RemessaLinkOut, 401, 403, 404, 409, 503),
)
def generate_remessa(agreement_id: Annotated[UUID, Path()]) -> Response[Any]:
    link = services().remessas.generate(caller(router), agreement_id)
    return created(
        RemessaLinkOut.model_validate(
            {**_remessa(link.remessa), "download_url": link.url, "expires_in": link.expires_in}
        )
    )


@routes.get(
    "/banking/agreements/<agreement_id>/remessas",
    summary="The agreement's remessas, newest first",
    responses=doc(200, RemessaPage, 401, 403, 404),
)
def list_remessas(
    agreement_id: Annotated[UUID, Path()],
    limit: Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()] = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response[Any]:
    after = pagination.key_from(cursor, int)
    rows = services().remessas.of_agreement(
        caller(router), agreement_id, limit=limit + 1, before_sequence=after[0] if after else None
    )
    items, next_cursor = pagination.page(rows, limit, lambda r: [r.sequence])
    return json_response(
        200,
        RemessaPage(items=[RemessaOut.model_validate(_remessa(r)) for r in items], next_cursor=next_cursor),
    )


@routes.get(
    "/banking/remessas/<remessa_id>",
    summary="One remessa with its items (boleto, nosso número, instruction, line) and a fresh 5-minute "
    "download link",
    responses=doc(200, RemessaDetail, 401, 403, 404, 503),
)
def get_remessa(remessa_id: Annotated[UUID, Path()]) -> Response[Any]:
    link, items = services().remessas.get(caller(router), remessa_id)
    detail = RemessaDetail.model_validate(
        {
            **_remessa(link.remessa),
            "download_url": link.url,
            "expires_in": link.expires_in,
            "items": [RemessaItemOut.model_validate(i) for i in items],
        }
    )
    return json_response(200, detail)


@routes.post(
    "/banking/boletos/<boleto_id>/instructions",
    summary="Ask the bank to write off a boleto or change its due date, in the agreement's next remessa; "
    "a boleto never sent to the bank is cancelled instead of written off",
    responses=doc(200, InstructionOut, 401, 403, 404, 409, 413),
)
def instruct_boleto(
    boleto_id: Annotated[UUID, Path()], body: Annotated[InstructionIn, Body()]
) -> Response[Any]:
    outcome = services().remessas.instruct(caller(router), boleto_id, body.instruction, body.due_date)
    row = outcome.instruction
    return json_response(
        200,
        InstructionOut(
            boleto_id=outcome.boleto_id,
            outcome=outcome.outcome,
            instruction_id=row.id if row else None,
            instruction=body.instruction,
            due_date=row.due_date if row else None,
            status=row.status if row else "cancelled",  # type: ignore[arg-type]
        ),
    )
