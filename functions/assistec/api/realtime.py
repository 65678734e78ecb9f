"""The staff's real-time channel: a ticket to open the WebSocket with (the JWT stays in headers)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.realtime import RealtimeTicketOut

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="realtime")


@routes.post(
    "/realtime/ticket",
    summary="A one-time ticket (60 seconds) to open the staff's WebSocket: pushed order, payment, WhatsApp "
    "and appointment events, and the shop's internal chat (any signed-in user)",
    responses=doc(201, RealtimeTicketOut, 401),
)
def issue_ticket() -> Response[Any]:
    root = services()
    ticket = root.realtime_tickets.issue(caller(router))
    return json_response(
        201,
        RealtimeTicketOut(ticket=ticket.ticket, expires_at=ticket.expires_at, url=root.settings.realtime_url),
    )
