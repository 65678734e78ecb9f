"""The staff's side of the WhatsApp conversations: the list by state with unread counts, one
conversation's messages, a reply as staff (queued for the sender, recorded with the user), assign,
release to the bot, link to a customer. Everyone at the counter reads them
(``CUSTOMERS_READ``) and answers them (``CUSTOMERS_WRITE``)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from assistec.db import whatsapp as wa_db
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError, found
from assistec.integrations.queue import WhatsappQueue
from assistec.observability import logger
from assistec.services.unit_of_work import UnitsOfWork

_NOT_FOUND = "Conversa não encontrada."
STATES = ("bot", "awaiting_device", "awaiting_part", "waiting_staff", "with_staff")


class Conversations:
    def __init__(self, work: UnitsOfWork, queue: Callable[[], WhatsappQueue]) -> None:
        self._work = work
        self._queue = queue

    def search(self, identity: Identity, *, state: str | None, limit: int) -> list[wa_db.ConversationRow]:
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            return wa_db.list_conversations(uow.conn, state=state, limit=limit)

    def get(self, identity: Identity, conversation_id: UUID) -> wa_db.ConversationRow:
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            return found(wa_db.get_conversation(uow.conn, conversation_id), _NOT_FOUND)

    def messages(
        self, identity: Identity, conversation_id: UUID, *, limit: int, mark_read: bool = True
    ) -> list[wa_db.MessageRow]:
        """The latest messages, oldest first; reading them clears the unread count."""
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            conversation = found(
                wa_db.get_conversation(uow.conn, conversation_id, lock=mark_read), _NOT_FOUND
            )
            if mark_read and conversation.unread:
                wa_db.update_conversation(uow.conn, conversation_id, unread=0)
            return wa_db.messages(uow.conn, conversation_id, limit=limit)

    def reply(self, identity: Identity, conversation_id: UUID, text: str) -> wa_db.MessageRow:
        """Staff answer: queued for the shop's number, recorded with the user; the conversation is
        theirs from now (the bot silent until released)."""
        text = text.strip()
        if not text:
            raise ValidationFailedError("Escreva a mensagem.")
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            conversation = found(wa_db.get_conversation(uow.conn, conversation_id, lock=True), _NOT_FOUND)
            if wa_db.get_instance(uow.conn) is None:
                raise ConflictError("Nenhum número de WhatsApp conectado: conecte um antes de responder.")
            message = wa_db.insert_message(
                uow.conn,
                tenant_id=uow.tenant_id,
                conversation_id=conversation.id,
                direction="out",
                author="staff",
                kind="text",
                body=text,
                status="queued",
                user_id=identity.user_id,
            )
            assert message is not None
            wa_db.update_conversation(
                uow.conn,
                conversation.id,
                state="with_staff",
                assigned_user_id=conversation.assigned_user_id or identity.user_id,
                unread=0,
                last_message_at=message.created_at,
            )
        try:
            self._queue().outbound(identity.tenant_id, message.id)
        except Exception:
            logger.exception("could not enqueue a staff reply (it stays queued)")
        return message

    def assign(
        self, identity: Identity, conversation_id: UUID, user_id: UUID | None
    ) -> wa_db.ConversationRow:
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            found(wa_db.get_conversation(uow.conn, conversation_id, lock=True), _NOT_FOUND)
            if (
                user_id is not None
                and not uow.conn.execute(
                    "select 1 from users where id = %s and active", (user_id,)
                ).fetchone()
            ):
                raise ValidationFailedError("Usuário não encontrado nesta loja.")
            state = {"state": "with_staff"} if user_id is not None else {}
            changed = wa_db.update_conversation(uow.conn, conversation_id, assigned_user_id=user_id, **state)
            uow.audit("assign", "conversation", conversation_id, changes={"assigned_user_id": str(user_id)})
            return changed

    def release(self, identity: Identity, conversation_id: UUID) -> wa_db.ConversationRow:
        """Back to the bot: it answers this person's next message."""
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            found(wa_db.get_conversation(uow.conn, conversation_id, lock=True), _NOT_FOUND)
            changed = wa_db.update_conversation(
                uow.conn,
                conversation_id,
                state="bot",
                assigned_user_id=None,
                unknown_count=0,
                menu_shown=False,
            )
            uow.audit("release", "conversation", conversation_id)
            return changed

    def link_customer(
        self, identity: Identity, conversation_id: UUID, customer_id: UUID
    ) -> wa_db.ConversationRow:
        """This contact is that customer (an unknown number turned into a customer)."""
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            found(wa_db.get_conversation(uow.conn, conversation_id, lock=True), _NOT_FOUND)
            if not uow.conn.execute("select 1 from customers where id = %s", (customer_id,)).fetchone():
                raise NotFoundError("Cliente não encontrado.")
            changed = wa_db.update_conversation(uow.conn, conversation_id, customer_id=customer_id)
            uow.audit(
                "link_customer", "conversation", conversation_id, changes={"customer_id": str(customer_id)}
            )
            return changed
