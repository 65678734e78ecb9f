"""Banking: the shop's bank agreements, and the retorno and statement files it sends in (owners and
admins)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.banking import (
    AgreementIn,
    AgreementList,
    AgreementOut,
    AgreementPatch,
    BankFileDetail,
    BankFileInlineIn,
    BankFileIntakeOut,
    BankFileList,
    BankFileOut,
    BankFileUploadIn,
    BankFileUploadOut,
    FileKind,
    OccurrenceList,
    OccurrenceOut,
)
from assistec.db.banking import AgreementRow, BankFileRow

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="banking")


def _agreement(row: AgreementRow) -> AgreementOut:
    return AgreementOut.model_validate(row)


def _file(row: BankFileRow) -> dict[str, Any]:
    fields = {name: getattr(row, name) for name in BankFileOut.model_fields if name != "sha256"}
    return {**fields, "sha256": row.sha256.hex()}


@routes.get(
    "/banking/agreements",
    summary="The shop's bank agreements (owners and admins)",
    responses=doc(200, AgreementList, 401, 403),
)
def list_agreements() -> Response[Any]:
    rows = services().bank_agreements.list(caller(router))
    return json_response(200, AgreementList(items=[_agreement(r) for r in rows]))


@routes.post(
    "/banking/agreements",
    summary="Register a bank agreement (convênio): bank, branch, account, wallet, layout, counters and "
    "the defaults of interest, fine and discount",
    responses=doc(201, AgreementOut, 401, 403, 409, 413),
)
def create_agreement(body: Annotated[AgreementIn, Body()]) -> Response[Any]:
    row = services().bank_agreements.create(caller(router), body.model_dump())
    return created(_agreement(row))


@routes.get(
    "/banking/agreements/<agreement_id>",
    summary="One bank agreement",
    responses=doc(200, AgreementOut, 401, 403, 404),
)
def get_agreement(agreement_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(200, _agreement(services().bank_agreements.get(caller(router), agreement_id)))


@routes.patch(
    "/banking/agreements/<agreement_id>",
    summary="Change a bank agreement (optimistic locking on version; counters only move forward)",
    responses=doc(200, AgreementOut, 401, 403, 404, 409, 413),
)
def update_agreement(
    agreement_id: Annotated[UUID, Path()], body: Annotated[AgreementPatch, Body()]
) -> Response[Any]:
    row = services().bank_agreements.update(
        caller(router),
        agreement_id,
        version=body.version,
        changes=body.model_dump(exclude_unset=True, exclude={"version"}),
    )
    return json_response(200, _agreement(row))


@routes.post(
    "/banking/files",
    summary="Start a retorno or statement upload: a presigned S3 form (20 MB, 15 minutes); the file "
    "is read when it lands and appears in the list",
    responses=doc(201, BankFileUploadOut, 401, 403, 413),
)
def new_upload(body: Annotated[BankFileUploadIn, Body()]) -> Response[Any]:
    form = services().bank_files.upload_form(caller(router), body.kind, body.filename)
    return created(
        BankFileUploadOut(
            upload_id=form.upload_id,
            key=form.key,
            upload_url=form.url,
            upload_fields=form.fields,
            max_bytes=form.max_bytes,
            expires_in=form.expires_in,
        )
    )


@routes.post(
    "/banking/files/inline",
    summary="Send a small retorno or statement in the request (base64, 1 MB): recorded and read at "
    "once; the same content again answers the first record, unchanged",
    responses={
        **doc(201, BankFileIntakeOut, 401, 403, 413, description="Recorded"),
        200: {
            "description": "This content had been received before: its record, nothing changed",
            "content": {"application/json": {"model": BankFileIntakeOut}},
        },
    },
)
def send_inline(body: Annotated[BankFileInlineIn, Body()]) -> Response[Any]:
    intake = services().bank_files.receive_inline(caller(router), body.kind, body.content(), body.filename)
    out = BankFileIntakeOut.model_validate({**_file(intake.file), "duplicate": intake.duplicate})
    return json_response(200 if intake.duplicate else 201, out)


@routes.get(
    "/banking/files",
    summary="The shop's latest bank files (100), newest first, with their status and counts",
    responses=doc(200, BankFileList, 401, 403),
)
def list_files(kind: Annotated[FileKind | None, Query()] = None) -> Response[Any]:
    rows = services().bank_files.recent(caller(router), kind)
    return json_response(200, BankFileList(items=[BankFileOut.model_validate(_file(r)) for r in rows]))


@routes.get(
    "/banking/files/<file_id>",
    summary="One bank file: status, counts, and its retorno occurrences",
    responses=doc(200, BankFileDetail, 401, 403, 404),
)
def get_file(file_id: Annotated[UUID, Path()]) -> Response[Any]:
    row, lines = services().bank_files.get(caller(router), file_id)
    detail = BankFileDetail.model_validate(
        {**_file(row), "occurrences": [OccurrenceOut.model_validate(line) for line in lines]}
    )
    return json_response(200, detail)


@routes.get(
    "/banking/unmatched",
    summary="Retorno occurrences whose nosso número matches no boleto of the shop (100, oldest first): "
    "the list a person works through",
    responses=doc(200, OccurrenceList, 401, 403),
)
def list_unmatched() -> Response[Any]:
    lines = services().bank_files.unmatched(caller(router))
    return json_response(200, OccurrenceList(items=[OccurrenceOut.model_validate(line) for line in lines]))
