"""The send queue: each queued message leaves through the shop's number once, paced per number.

Pace: each send claims the number's next free instant (``whatsapp_instances.next_send_at``, moved
on atomically by ``interval_ms``), so any number of concurrent senders keep one number under its
rate; a wait longer than ``max_wait_s`` goes back to the queue instead of holding the function.

Once: the message moves ``queued → sending`` in a committed transaction before Evolution is called;
a duplicate queue message finds it no longer queued. An ambiguous failure (the answer lost after the
request went out, a 5xx) leaves it ``unknown``, never sent again: WhatsApp may have delivered it,
and the customer must not read it twice. A failure Evolution certainly did nothing for (429, no
connection) puts it back to ``queued`` and raises, for the queue's retry."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from assistec.db import whatsapp as wa_db
from assistec.integrations.evolution import EvolutionError
from assistec.services.audit import PublicActor
from assistec.services.unit_of_work import UnitsOfWork
from assistec.services.whatsapp.server import ClientFactory

# Baileys numbers get banned for bursts: about one message a second per number by default.
DEFAULT_INTERVAL_MS = 1200


class SendLater(Exception):
    """The number's next free instant is further than this invocation may wait: retry later."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"the number is busy for {wait_s:.1f} s more")
        self.wait_s = wait_s


class WhatsappSender:
    def __init__(
        self,
        work: UnitsOfWork,
        evolution: ClientFactory,
        *,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        max_wait_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._work = work
        self._evolution = evolution
        self._interval_ms = interval_ms
        self._max_wait_s = max_wait_s
        self._sleep = sleep

    def send(self, tenant_id: UUID, message_id: UUID) -> str:
        """Send one queued message; its outcome (``sent``, ``unknown``, ``failed``, ``skipped``,
        ``not_queued``). Raises ``SendLater`` or ``EvolutionError`` to have the queue retry."""
        actor = PublicActor(tenant_id=tenant_id, label="WhatsApp")
        with self._work(actor) as uow:
            message = wa_db.get_message(uow.conn, message_id, lock=True)
            if message is None or message.status != "queued" or message.direction != "out":
                return "not_queued"
            conversation = wa_db.get_conversation(uow.conn, message.conversation_id)
            instance = wa_db.get_instance(uow.conn)
            to = (
                (conversation.phone or (f"{conversation.lid}@lid" if conversation.lid else None))
                if conversation
                else None
            )
            if instance is None or instance.state != "open" or to is None or not message.body:
                reason = "número de WhatsApp desconectado" if to else "contato sem número"
                wa_db.message_sent(uow.conn, message_id, status="failed", evolution_id=None, error=reason)
                return "failed"
            wait_s = wa_db.claim_send_slot(uow.conn, self._interval_ms)
            if wait_s > self._max_wait_s:
                raise SendLater(wait_s)  # rolls the claim back with the transaction
            wa_db.message_sent(uow.conn, message_id, status="sending", evolution_id=None, error=None)
            name, body = instance.name, message.body
        if wait_s > 0:
            self._sleep(wait_s)
        client = self._evolution()
        try:
            with client.deadline():
                answer = client.send_text(name, to, body)
        except EvolutionError as exc:
            if exc.ambiguous:
                status, error = "unknown", "envio sem confirmação do WhatsApp (não reenviado)"
            elif exc.retryable:
                status, error = "queued", None
            else:
                status, error = "failed", f"WhatsApp recusou ({exc.code})"
            with self._work(actor) as uow:
                wa_db.message_sent(uow.conn, message_id, status=status, evolution_id=None, error=error)
            if status == "queued":
                raise
            return status
        finally:
            client.close()
        raw_key = answer.get("key")
        key: dict[str, Any] = raw_key if isinstance(raw_key, dict) else {}
        evolution_id = key.get("id") if isinstance(key.get("id"), str) and key.get("id") else None
        with self._work(actor) as uow:
            wa_db.message_sent(uow.conn, message_id, status="sent", evolution_id=evolution_id, error=None)
        return "sent"
