"""Response helpers and the OpenAPI description of responses, shared by every router."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from assistec.api.schemas.common import ErrorBody

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

_ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid or expired token",
    402: "The shop's subscription is suspended",
    403: "The caller's role lacks the permission",
    404: "Not found (other shops' ids are not found either)",
    409: "Conflict: duplicate, stale version or forbidden transition",
    410: "The link expired or was replaced by a newer one",
    413: "Body too large",
    415: "Body not sent as application/json",
    422: "Invalid input (malformed JSON, wrong types, failed rules)",
    429: "Too many attempts",
    502: "The payment provider refused or did not answer: nothing was charged",
    503: "A dependency is unavailable",
}


# What every database-backed route answers while the database does not (api.app's mapping of
# DatabaseUnavailableError): nothing was written; retry after the Retry-After header's seconds.
DATABASE_UNAVAILABLE: OpenAPIResponse = {
    "description": "The database is unavailable: nothing was done; retry after Retry-After seconds",
    "content": {"application/json": {"model": ErrorBody}},
}


def doc(
    status: int, model: type[BaseModel] | None, *errors: int, description: str = "Success"
) -> dict[int, Any]:
    """The ``responses=`` of a route: its success answer plus the error answers it can give."""
    responses: dict[int, Any] = {
        status: {"description": description}
        | ({"content": {"application/json": {"model": model}}} if model is not None else {})
    }
    # Every route that takes a body (they all declare 413) may also refuse its media type.
    for code in sorted({422, *errors, *({415} if 413 in errors else set())}):
        responses[code] = {
            "description": _ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return responses


def json_response(status: int, model: BaseModel, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump_json(),
        headers=headers,
    )


def created(model: BaseModel) -> Response[Any]:
    return json_response(201, model)
