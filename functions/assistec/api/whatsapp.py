"""WhatsApp: the shop's number (owners and admins), the bot's texts, the staff's conversations, and
Evolution's webhook (one URL per shop, a secret header)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api.identity import caller, public_base_url, services
from assistec.api.responses import created, doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import Deleted, Digits, ErrorBody
from assistec.api.schemas.whatsapp import (
    AssigneeIn,
    ConversationCustomerIn,
    ConversationList,
    ConversationOut,
    ConversationState,
    InstanceIn,
    InstanceOut,
    MessageList,
    MessageOut,
    ReplyIn,
    WhatsappSettingsIn,
    WhatsappSettingsOut,
)

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="whatsapp")
webhook_routes = Routes(router, tag="webhooks", public=True)

_EVOLUTION_DOWN: Any = {
    "description": "Database or the WhatsApp server unavailable (or not configured): nothing changed",
    "content": {"application/json": {"model": ErrorBody}},
}


def _instance(view: Any) -> Response[Any]:
    return json_response(200, InstanceOut.model_validate(view))


@routes.post(
    "/whatsapp/instance",
    summary="Connect the shop's WhatsApp number: creates its instance (once) and answers the QR to scan "
    "(and a pairing code with number); an open number answers its state",
    responses={**doc(200, InstanceOut, 401, 403, 413), 503: _EVOLUTION_DOWN},
)
def connect_instance(body: Annotated[InstanceIn, Body()]) -> Response[Any]:
    view = services().whatsapp_instances.connect(
        caller(router), webhook_base=public_base_url(router), number=body.number
    )
    return _instance(view)


@routes.get(
    "/whatsapp/instance",
    summary="The shop's WhatsApp number: its state as the server has it now, and a fresh QR while pairing",
    responses={**doc(200, InstanceOut, 401, 403, 404), 503: _EVOLUTION_DOWN},
)
def get_instance() -> Response[Any]:
    return _instance(
        services().whatsapp_instances.status(caller(router), webhook_base=public_base_url(router))
    )


@routes.delete(
    "/whatsapp/instance",
    summary="Disconnect the shop's WhatsApp number (the conversations stay)",
    responses={**doc(200, Deleted, 401, 403, 404), 503: _EVOLUTION_DOWN},
)
def delete_instance() -> Response[Any]:
    services().whatsapp_instances.disconnect(caller(router))
    return json_response(200, Deleted(deleted=True))


@routes.get(
    "/settings/whatsapp",
    summary="The bot's texts (the shop's or the pt-BR defaults) and whether it answers",
    responses=doc(200, WhatsappSettingsOut, 401, 403),
)
def get_settings() -> Response[Any]:
    return json_response(
        200, WhatsappSettingsOut.model_validate(services().whatsapp_settings.get(caller(router)))
    )


@routes.put(
    "/settings/whatsapp",
    summary="Change the bot's texts (placeholders checked) and switch it on or off (owners and admins)",
    responses=doc(200, WhatsappSettingsOut, 401, 403, 409, 413),
)
def put_settings(body: Annotated[WhatsappSettingsIn, Body()]) -> Response[Any]:
    view = services().whatsapp_settings.save(
        caller(router),
        version=body.version,
        templates=dict(body.templates),
        bot_enabled=body.bot_enabled,
        status_messages=list(body.status_messages) if body.status_messages is not None else None,
        options={
            name: value
            for name in ("auto_send_quotes", "quote_reminder_hours", "quote_expire_hours", "fetch_media")
            if (value := getattr(body, name)) is not None
        },
    )
    return json_response(200, WhatsappSettingsOut.model_validate(view))


@routes.get(
    "/conversations",
    summary="The shop's WhatsApp conversations, newest first, by state (the staff queue: waiting_staff)",
    responses=doc(200, ConversationList, 401, 403),
)
def list_conversations(
    state: Annotated[ConversationState | None, Query()] = None,
    limit: Annotated[int, Field(ge=1, le=200), Digits, Query()] = 50,
) -> Response[Any]:
    rows = services().conversations.search(caller(router), state=state, limit=limit)
    return json_response(200, ConversationList(items=[ConversationOut.model_validate(r) for r in rows]))


@routes.get(
    "/conversations/<conversation_id>",
    summary="One conversation",
    responses=doc(200, ConversationOut, 401, 403, 404),
)
def get_conversation(conversation_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(
        200, ConversationOut.model_validate(services().conversations.get(caller(router), conversation_id))
    )


@routes.get(
    "/conversations/<conversation_id>/messages",
    summary="The conversation's latest messages, oldest first (reading clears its unread count)",
    responses=doc(200, MessageList, 401, 403, 404),
)
def list_messages(
    conversation_id: Annotated[UUID, Path()],
    limit: Annotated[int, Field(ge=1, le=200), Digits, Query()] = 50,
) -> Response[Any]:
    rows = services().conversations.messages(caller(router), conversation_id, limit=limit)
    items = []
    for row in rows:
        out = MessageOut.model_validate(row)
        key = (row.media or {}).get("s3_key")
        if isinstance(key, str):
            out.media_url = services().photo_storage.download_url(key, expires_s=300)
        items.append(out)
    return json_response(200, MessageList(items=items))


@routes.post(
    "/conversations/<conversation_id>/messages",
    summary="Reply as staff (sent through the shop's number; the bot stays silent until released)",
    responses=doc(201, MessageOut, 401, 403, 404, 409, 413),
)
def reply(conversation_id: Annotated[UUID, Path()], body: Annotated[ReplyIn, Body()]) -> Response[Any]:
    message = services().conversations.reply(caller(router), conversation_id, body.text)
    return created(MessageOut.model_validate(message))


@routes.post(
    "/conversations/<conversation_id>/release",
    summary="Hand the conversation back to the bot",
    responses=doc(200, ConversationOut, 401, 403, 404),
)
def release(conversation_id: Annotated[UUID, Path()]) -> Response[Any]:
    return json_response(
        200, ConversationOut.model_validate(services().conversations.release(caller(router), conversation_id))
    )


@routes.put(
    "/conversations/<conversation_id>/assignee",
    summary="Assign the conversation to a user (null: nobody)",
    responses=doc(200, ConversationOut, 401, 403, 404, 413),
)
def assign(conversation_id: Annotated[UUID, Path()], body: Annotated[AssigneeIn, Body()]) -> Response[Any]:
    row = services().conversations.assign(caller(router), conversation_id, body.user_id)
    return json_response(200, ConversationOut.model_validate(row))


@routes.put(
    "/conversations/<conversation_id>/customer",
    summary="Link the conversation's contact to a customer",
    responses=doc(200, ConversationOut, 401, 403, 404, 413),
)
def link_customer(
    conversation_id: Annotated[UUID, Path()], body: Annotated[ConversationCustomerIn, Body()]
) -> Response[Any]:
    row = services().conversations.link_customer(caller(router), conversation_id, body.customer_id)
    return json_response(200, ConversationOut.model_validate(row))


# --- Evolution's webhook -------------------------------------------------------------------------
EvolutionKey = Annotated[
    str, Path(min_length=40, max_length=100, pattern=r"^[0-9a-f-]{36}\.[A-Za-z0-9_-]{16,60}$")
]
_WEBHOOK_ERRORS: dict[int, Any] = {
    code: {"description": text, "content": {"application/json": {"model": ErrorBody}}}
    for code, text in {
        401: "Unknown URL or wrong secret header: nothing stored",
        403: "The body names another instance than this URL's: nothing stored",
        413: "Body too large",
        415: "Body not sent as application/json",
        422: "Not an Evolution event: nothing stored",
        503: "Database or queue unavailable: Evolution delivers again",
    }.items()
}


@webhook_routes.post(
    "/webhooks/evolution/<webhook_key>",
    summary="Evolution API events for one shop's number (secret in x-assistec-webhook-secret); "
    "200 {} once stored",
    responses={
        200: {
            "description": "Stored (or already stored)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_WEBHOOK_ERRORS,
    },
)
def evolution_webhook(webhook_key: EvolutionKey) -> Response[Any]:
    from assistec.services.whatsapp.instance import SECRET_HEADER

    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    services().whatsapp_inbox.receive(webhook_key, headers.get(SECRET_HEADER), event.decoded_body or "")
    return Response(status_code=200, content_type="application/json", body="{}")


EVOLUTION_EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["event", "instance"],
                "properties": {
                    "event": {"type": "string"},
                    "instance": {"type": "string"},
                    "data": {"type": "object"},
                },
            }
        }
    },
}
REQUEST_BODIES = [("/webhooks/evolution/{webhook_key}", "post", EVOLUTION_EVENT_BODY)]
