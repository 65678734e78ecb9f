"""The staff's real-time channel, as rules: tickets, the messages a client sends, and which domain
events reach whom (pure; the service does the I/O).

A ticket is ``<shop id>.<secret>``: the shop tells ``$connect`` which shop's transaction to consume
it in (row-level security), the secret (32 random bytes, url-safe base64) is what proves it; the
database keeps the secret's SHA-256 only. It is good for ``TICKET_TTL`` and once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from assistec.domain.permissions import Role

TICKET_TTL = timedelta(seconds=60)
# API Gateway closes every WebSocket connection after 2 hours: a stored connection never outlives that.
CONNECTION_TTL = timedelta(hours=2)
CHAT_MAX_CHARS = 2000
CHAT_HISTORY_DEFAULT = 50
CHAT_HISTORY_MAX = 200
# API Gateway's message limit is 128 KB; a client's messages here are small.
MESSAGE_MAX_BYTES = 8 * 1024

_SECRET_BYTES = 32


def new_ticket(tenant_id: UUID) -> tuple[str, bytes]:
    """A fresh ticket for ``tenant_id`` and the SHA-256 the database keeps of its secret."""
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return f"{tenant_id}.{secret}", secret_digest(secret)


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_ticket(ticket: str | None) -> tuple[UUID, bytes] | None:
    """``(shop, digest of the secret)`` of a well-formed ticket; None for anything else."""
    if not ticket or len(ticket) > 200 or ticket.count(".") != 1:
        return None
    shop, secret = ticket.split(".")
    try:
        tenant_id = UUID(shop)
    except ValueError:
        return None
    if str(tenant_id) != shop or not 40 <= len(secret) <= 64:
        return None
    if not all(c.isalnum() or c in "-_" for c in secret) or not secret.isascii():
        return None
    return tenant_id, secret_digest(secret)


# What a client sends: {"action": "ping" | "chat.send" | "chat.history", ...}.


class BadMessage(Exception):
    """A client's message this channel does not take: ``code`` stable, ``message`` pt-BR."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Ping:
    request_id: str | None


@dataclass(frozen=True, slots=True)
class ChatSend:
    text: str
    request_id: str | None


@dataclass(frozen=True, slots=True)
class ChatHistory:
    limit: int
    request_id: str | None


Command = Ping | ChatSend | ChatHistory
ACTIONS = ("ping", "chat.send", "chat.history")


def parse_message(body: str | None) -> Command:
    """The client's command, or ``BadMessage`` saying in pt-BR what is wrong with it."""
    if body is None or not body.strip():
        raise BadMessage("empty_message", "Mensagem vazia.")
    if len(body.encode()) > MESSAGE_MAX_BYTES:
        raise BadMessage("message_too_large", f"Mensagem grande demais (máximo {MESSAGE_MAX_BYTES} bytes).")
    try:
        data = json.loads(body)
    except ValueError:
        raise BadMessage("invalid_json", "A mensagem não é um JSON válido.") from None
    if not isinstance(data, dict):
        raise BadMessage("invalid_message", 'A mensagem deve ser um objeto JSON com o campo "action".')
    request_id = data.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 100):
        raise BadMessage(
            "invalid_request_id", 'O campo "request_id" deve ser um texto de até 100 caracteres.'
        )
    action = data.get("action")
    if not isinstance(action, str):
        raise BadMessage("invalid_message", 'Falta o campo "action" (ping, chat.send ou chat.history).')
    if action == "ping":
        return Ping(request_id)
    if action == "chat.send":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadMessage("chat_text_required", 'Escreva o texto da mensagem no campo "text".')
        if len(text) > CHAT_MAX_CHARS:
            raise BadMessage(
                "chat_text_too_long", f"A mensagem passa de {CHAT_MAX_CHARS} caracteres; divida-a em partes."
            )
        if "\x00" in text:
            raise BadMessage("chat_text_invalid", "A mensagem contém caracteres inválidos.")
        return ChatSend(text.strip(), request_id)
    if action == "chat.history":
        limit = data.get("limit", CHAT_HISTORY_DEFAULT)
        if type(limit) is not int or not 1 <= limit <= CHAT_HISTORY_MAX:
            raise BadMessage(
                "invalid_limit", f'O campo "limit" deve ser um número inteiro entre 1 e {CHAT_HISTORY_MAX}.'
            )
        return ChatHistory(limit, request_id)
    raise BadMessage("unknown_action", "Ação desconhecida. Use ping, chat.send ou chat.history.")


# Domain events → what the staff's panel gets.

MONEY_ROLES = frozenset({Role.OWNER, Role.ADMIN})
# Everyone but the technician, who gets the orders assigned to them (and the chat).
COUNTER_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.ATTENDANT})

# The domain event types the push function takes (the EventBridge rule's detail-type list).
PUSHED_EVENTS = (
    "OrderCreated",
    "OrderStatusChanged",
    "ChargeStatusChanged",
    "WhatsappMessageReceived",
    "ConversationWaitingForStaff",
    "AppointmentChanged",
)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who of the shop's staff gets a pushed event: every connection whose role is in ``roles``,
    and also, for an order event, the technician of that order (``technician``)."""

    roles: frozenset[Role]
    technician: UUID | None = None

    def includes(self, role: Role, user_id: UUID) -> bool:
        if role in self.roles:
            return True
        return role is Role.TECHNICIAN and self.technician is not None and user_id == self.technician


@dataclass(frozen=True, slots=True)
class Push:
    """A domain event as the panel gets it, and who gets it."""

    message: dict[str, Any]
    audience: Audience
    order_id: UUID | None = None  # an order event whose detail lacks its technician: look it up


_DROPPED_KEYS = frozenset({"tenant_id"})


def push_for(detail_type: str, detail: dict[str, Any]) -> Push | None:
    """What the panel gets for a domain event, or None for one it does not show."""
    data = {k: v for k, v in detail.items() if k not in _DROPPED_KEYS}
    event_id = detail.get("event_id")
    order_id = _uuid(detail.get("order_id"))
    match detail_type:
        case "OrderCreated":
            kind, roles = "order.created", COUNTER_ROLES
        case "OrderStatusChanged":
            kind = (
                "quote.decided"
                if detail.get("quote_id") and detail.get("decided_via")
                else "order.status_changed"
            )
            roles = COUNTER_ROLES
        case "ChargeStatusChanged":
            kind = "payment.received" if detail.get("status") == "paid" else "charge.status_changed"
            # Money: never a technician's, not even on their own order.
            return Push(_message(kind, event_id, data), Audience(MONEY_ROLES))
        case "WhatsappMessageReceived":
            return Push(_message("whatsapp.message", event_id, data), Audience(COUNTER_ROLES))
        case "ConversationWaitingForStaff":
            return Push(_message("whatsapp.waiting", event_id, data), Audience(COUNTER_ROLES))
        case "AppointmentChanged":
            kind = "appointment.booked" if detail.get("change") == "booked" else "appointment.changed"
            return Push(_message(kind, event_id, data), Audience(COUNTER_ROLES))
        case _:
            return None
    technician = _uuid(detail.get("technician_id"))
    # Events written before the detail carried the technician: the service looks the order up.
    lookup = order_id if "technician_id" not in detail else None
    return Push(_message(kind, event_id, data), Audience(roles, technician), lookup)


def _message(kind: str, event_id: Any, data: dict[str, Any]) -> dict[str, Any]:
    data.pop("event_id", None)
    return {"type": kind, "event_id": str(event_id) if event_id else None, "data": data}


def _uuid(value: Any) -> UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None
