"""The staff's real-time channel: tickets for the WebSocket, its connections, the staff chat, and
the domain events pushed to the shop's connected staff.

- ``RealtimeTickets.issue`` (the REST API): a ticket good for 60 seconds and once, bound to the
  signed-in user's shop, user and role; only its digest is stored.
- ``Realtime.connect``: the WebSocket's ``$connect`` consumes the ticket in the ticket's shop (row-level
  security; single use even under concurrent handshakes) and stores the connection with its expiry;
  ``disconnect`` deletes it.
- ``Realtime.handle``: a client's message (ping, chat.send, chat.history) on an open connection.
- ``Realtime.push``: a domain event to the shop's connections whose role (or order) it concerns;
  ``fan_out`` posts outside any transaction, in parallel, and deletes each connection the management
  API answered 410 Gone, at the first failed post.
- ``Realtime.sweep``: deletes expired connections (a lost ``$disconnect``) and old tickets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import realtime as rt_db
from assistec.domain import realtime as rules
from assistec.domain.permissions import Role
from assistec.domain.tokens import Identity
from assistec.observability import logger

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.connections import Connections
    from assistec.services.unit_of_work import UnitsOfWork

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket: str
    expires_at: datetime


class RealtimeTickets:
    """Issues the WebSocket's tickets to signed-in staff (the REST API's part)."""

    def __init__(self, work: UnitsOfWork, *, clock: Clock = _now) -> None:
        self._work = work
        self._clock = clock

    def issue(self, identity: Identity) -> Ticket:
        """A ticket for ``identity`` (any signed-in user of the shop; the session must be open):
        valid ``TICKET_TTL`` (60 s), once."""
        now = self._clock()
        ticket, digest = rules.new_ticket(identity.tenant_id)
        expires_at = now + rules.TICKET_TTL
        with self._work(identity) as uow:
            rt_db.insert_ticket(
                uow.conn,
                tenant_id=identity.tenant_id,
                user_id=identity.user_id,
                role=identity.role.value,
                token_sha256=digest,
                now=now,
                expires_at=expires_at,
            )
        return Ticket(ticket, expires_at)


class Refused(Exception):
    """``$connect`` refuses the handshake with ``status`` (401 no or malformed ticket, 403 a ticket
    that is unknown, used, expired, or whose user is no longer active with that role)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Connected:
    tenant_id: UUID
    user_id: UUID
    role: Role


@dataclass(frozen=True, slots=True)
class FanOut:
    sent: int
    gone: int


class Realtime:
    """The WebSocket's functions: connections, client messages, pushes, the sweep."""

    def __init__(
        self,
        db: Database,
        work: UnitsOfWork,
        connections: Callable[[], Connections],
        *,
        concurrency: int = 16,
        clock: Clock = _now,
    ) -> None:
        self._db = db
        self._work = work
        self._connections = connections  # built on first post (the sweep and $connect never post)
        self._concurrency = concurrency
        self._clock = clock
        self._pool: ThreadPoolExecutor | None = None

    # $connect / $disconnect

    def connect(self, ticket: str | None, connection_id: str) -> Connected:
        """Consume ``ticket`` and store the connection; ``Refused`` otherwise (nothing stored)."""
        parsed = rules.parse_ticket(ticket)
        if parsed is None:
            raise Refused(401, "missing or malformed ticket")
        tenant_id, digest = parsed
        expires_at = self._clock() + rules.CONNECTION_TTL
        with self._db.tenant_tx(tenant_id) as conn:
            holder = rt_db.consume_ticket(conn, digest)
            if holder is None:
                raise Refused(403, "unknown, used or expired ticket")
            # Consumed either way: a ticket whose user was deactivated or demoted since is spent.
            current = rt_db.active_user_role(conn, holder.user_id)
            if current != holder.role:
                # Refused without raising here: the ticket's consumption must commit all the same.
                refused: Refused | None = Refused(403, "user inactive or role changed")
            else:
                refused = None
                rt_db.insert_connection(
                    conn,
                    connection_id=connection_id,
                    tenant_id=tenant_id,
                    user_id=holder.user_id,
                    role=holder.role,
                    expires_at=expires_at,
                )
        if refused is not None:
            raise refused
        return Connected(tenant_id, holder.user_id, Role(holder.role))

    def find(self, connection_id: str) -> rt_db.ConnectionRow | None:
        """The open connection's shop, user and role (None: unknown or expired)."""
        with self._db.transaction() as conn:
            return rt_db.find_connection(conn, connection_id)

    def disconnect(self, connection_id: str) -> bool:
        """Forget the connection; False when it was not stored (refused, swept, dropped as gone)."""
        row = self.find(connection_id)
        if row is None:
            return False
        with self._db.tenant_tx(row.tenant_id) as conn:
            return rt_db.delete_connections(conn, [connection_id]) > 0

    # A client's messages

    def handle(self, connection_id: str, body: str | None) -> dict[str, Any]:
        """The answer to a client's message (sent back on the route's response): ``pong``,
        ``chat.sent``, ``chat.history`` or ``error`` with a stable code and a pt-BR message."""
        try:
            command = rules.parse_message(body)
        except rules.BadMessage as bad:
            return _error(bad.code, bad.message, _request_id(body))
        row = self.find(connection_id)
        if row is None:
            return _error(
                "connection_unknown",
                "Conexão não reconhecida ou expirada. Peça um novo ticket e conecte-se de novo.",
                command.request_id,
            )
        match command:
            case rules.Ping():
                return {"type": "pong", "request_id": command.request_id, "at": self._clock().isoformat()}
            case rules.ChatHistory():
                with self._db.tenant_tx(row.tenant_id) as conn:
                    messages = rt_db.recent_chat(conn, command.limit)
                return {
                    "type": "chat.history",
                    "request_id": command.request_id,
                    "messages": [_chat(m) for m in messages],
                }
            case rules.ChatSend():
                return self._chat_send(row, command)
        raise AssertionError(command)  # pragma: no cover  # parse_message returns one of the three

    def _chat_send(self, row: rt_db.ConnectionRow, command: rules.ChatSend) -> dict[str, Any]:
        actor = Identity(row.tenant_id, row.user_id, Role(row.role))
        with self._work(actor) as uow:
            name = rt_db.user_name(uow.conn, row.user_id)
            if rt_db.active_user_role(uow.conn, row.user_id) is None or name is None:
                rt_db.delete_connections(uow.conn, [row.connection_id])
                stored = None
            else:
                stored = rt_db.insert_chat_message(
                    uow.conn,
                    tenant_id=row.tenant_id,
                    user_id=row.user_id,
                    author_name=name,
                    body=command.text,
                )
        if stored is None:
            return _error(
                "session_ended",
                "Seu acesso foi encerrado. Entre de novo para usar o chat.",
                command.request_id,
            )
        message = _chat(stored)
        self.fan_out(
            row.tenant_id,
            {"type": "chat.message", "message": message},
            rules.Audience(frozenset(Role)),
            exclude=row.connection_id,
        )
        return {"type": "chat.sent", "request_id": command.request_id, "message": message}

    # Pushes

    def push(self, detail_type: str, detail: dict[str, Any]) -> FanOut | None:
        """Post a domain event (EventBridge's detail, with ``tenant_id``) to its shop's connections
        that it concerns; None when the panel does not show this event."""
        push = rules.push_for(detail_type, detail)
        tenant = detail.get("tenant_id")
        if push is None or not isinstance(tenant, str):
            return None
        return self.fan_out(UUID(tenant), push.message, push.audience, order_id=push.order_id)

    def fan_out(
        self,
        tenant_id: UUID,
        message: dict[str, Any],
        audience: rules.Audience,
        *,
        order_id: UUID | None = None,
        exclude: str | None = None,
    ) -> FanOut:
        """Post ``message`` to the shop's open connections in ``audience`` (read in the shop's
        transaction, posted after it), then delete the ones that are gone."""
        with self._db.tenant_tx(tenant_id) as conn:
            if order_id is not None and audience.technician is None:
                technician = rt_db.order_technician(conn, order_id)
                audience = rules.Audience(audience.roles, technician)
            targets = [
                c.connection_id
                for c in rt_db.shop_connections(conn)
                if c.connection_id != exclude and audience.includes(Role(c.role), c.user_id)
            ]
        if not targets:
            return FanOut(0, 0)
        data = json.dumps(message, default=str, ensure_ascii=False, separators=(",", ":")).encode()
        gone = [cid for cid, ok in zip(targets, self._post_all(targets, data), strict=True) if not ok]
        if gone:
            with self._db.tenant_tx(tenant_id) as conn:
                rt_db.delete_connections(conn, gone)
            logger.info("realtime connections gone", extra={"gone": len(gone)})
        return FanOut(len(targets) - len(gone), len(gone))

    def _post_all(self, targets: list[str], data: bytes) -> Iterable[bool]:
        connections = self._connections()
        if len(targets) == 1:
            return [connections.post(targets[0], data)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="realtime-post")
        return list(self._pool.map(lambda cid: connections.post(cid, data), targets))

    # The sweep

    def sweep(self, *, batch: int = 5000) -> dict[str, int]:
        """Delete expired connections and tickets, across shops."""
        with self._db.transaction() as conn:
            return rt_db.sweep(conn, now=self._clock(), batch=batch)


def _chat(row: rt_db.ChatMessageRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "user_id": str(row.user_id),
        "author_name": row.author_name,
        "text": row.body,
        "created_at": row.created_at.isoformat(),
    }


def _error(code: str, message: str, request_id: str | None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "request_id": request_id}


def _request_id(body: str | None) -> str | None:
    """The request id of a message refused before it was understood, when one can be read."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return None
    value = data.get("request_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= 100 else None
