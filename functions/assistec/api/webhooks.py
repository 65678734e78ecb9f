"""Asaas's webhooks: one URL per shop; stored once per event id, answered 200 fast."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import services
from assistec.api.routes import Routes
from assistec.api.schemas.common import ErrorBody

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="webhooks", public=True)

WebhookKey = Annotated[
    str, Path(min_length=40, max_length=100, pattern=r"^[0-9a-f-]{36}\.[A-Za-z0-9_-]{16,60}$")
]
# Shared with the platform account's webhook (api/billing.py).
WEBHOOK_ERRORS: dict[int, Any] = {
    code: {"description": text, "content": {"application/json": {"model": ErrorBody}}}
    for code, text in {
        401: "Unknown URL or wrong asaas-access-token: nothing stored",
        413: "Body too large",
        415: "Body not sent as application/json",
        422: "Not an Asaas event: nothing stored",
        503: "Database unavailable: nothing stored; Asaas delivers again",
    }.items()
}


@routes.post(
    "/webhooks/asaas/<webhook_key>",
    summary="Asaas events for one shop (token in asaas-access-token); 200 {} once stored",
    responses={
        200: {
            "description": "Stored (or already stored)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **WEBHOOK_ERRORS,
    },
)
def asaas_webhook(webhook_key: WebhookKey) -> Response[Any]:
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    services().webhook_inbox.receive(webhook_key, headers.get("asaas-access-token"), event.decoded_body or "")
    # Exactly 200 with a body: Asaas counts only 200 as delivered.
    return Response(status_code=200, content_type="application/json", body="{}")


# What an Asaas delivery must hold (the route reads its own body; see openapi_json).
ASAAS_EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["id", "event"],
                "properties": {"id": {"type": "string"}, "event": {"type": "string"}},
            }
        }
    },
}
REQUEST_BODIES = [("/webhooks/asaas/{webhook_key}", "post", ASAAS_EVENT_BODY)]
