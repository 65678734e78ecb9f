"""Evolution's deliveries: stored once per (instance, id) at ingress and answered 200 fast; applied by
the consumer (the conversation, its message, the bot's answer queued for the sender).

Never logged, never kept: the ``apikey`` Evolution puts in each body (the instance token)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from assistec.db import whatsapp as wa_db
from assistec.domain import whatsapp as wa
from assistec.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError, ValidationFailedError
from assistec.integrations.queue import WhatsappQueue
from assistec.observability import logger
from assistec.services.audit import PublicActor
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork
from assistec.services.whatsapp import media as media_rules

# A customer's message waits this long before the bot answers: a burst ("oi" / "quanto custa" /
# "a tela do iphone 11") is answered once, by its last message, with all of it read together.
DEBOUNCE_S = 3
_MEDIA_FIELDS = ("mimetype", "fileLength", "seconds", "fileName", "caption", "height", "width", "ptt")
_RECEIPTS = {"SERVER_ACK": "sent", "DELIVERY_ACK": "delivered", "READ": "read", "PLAYED": "read"}


@dataclass(frozen=True, slots=True)
class Delivery:
    instance: str
    event: str
    delivery_id: str
    chat: str | None
    from_me: bool
    payload: str  # the body without its apikey, as JSON text (U+0000 escaped, never raw)


@dataclass
class BotAnswer:
    """What the bot says (queued in the transaction) and what it does after the commit (a quote's
    waiting flow handed the customer's decision)."""

    replies: list[str]
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    outcome: str | None = None  # a name for the delivery's outcome, when not "answered"


class Bot(Protocol):
    def answer(self, uow: UnitOfWork, conversation: wa_db.ConversationRow, texts: list[str]) -> BotAnswer: ...


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The shop's number dropped (``connection.update`` from open to close)."""

    tenant_id: UUID
    instance: str
    number: str | None


def parse_delivery(body: str) -> Delivery:
    """The parts of an Evolution webhook body the inbox keys on; 422 for a body that is no event."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if (
        not isinstance(envelope, dict)
        or not isinstance(envelope.get("event"), str)
        or not isinstance(envelope.get("instance"), str)
        or not envelope["event"]
        or not envelope["instance"]
    ):
        raise ValidationFailedError(
            "O corpo não é um evento do Evolution (event e instance são obrigatórios)."
        )
    envelope.pop("apikey", None)  # the instance token: never stored
    event = str(envelope["event"])[:100]
    data = _mapping(envelope.get("data"))
    key = _mapping(data.get("key"))
    payload = json.dumps(envelope, ensure_ascii=True, separators=(",", ":"))
    message_id = key.get("id") if event == "messages.upsert" else None
    if event == "messages.update":
        update_id = data.get("keyId") or key.get("id")
        message_id = f"{update_id}:{data.get('status')}" if isinstance(update_id, str) and update_id else None
    delivery_id = (
        message_id[:200]
        if isinstance(message_id, str) and message_id
        else "sha256:" + hashlib.sha256(payload.encode()).hexdigest()  # "" ids exist (PROVIDERS §1.4)
    )
    chat = key.get("remoteJid") if isinstance(key.get("remoteJid"), str) else None
    return Delivery(
        instance=str(envelope["instance"])[:200],
        event=event,
        delivery_id=delivery_id,
        chat=chat[:200] if chat else None,
        from_me=key.get("fromMe") is True,
        payload=payload,
    )


def _evolution(tenant_id: UUID) -> PublicActor:
    return PublicActor(tenant_id=tenant_id, label="WhatsApp")


class WhatsappInbox:
    """Ingress (``receive``) and the consumer's ``apply``. ``queue`` carries both the stored
    deliveries and the replies to send."""

    def __init__(
        self,
        work: UnitsOfWork,
        queue: Callable[[], WhatsappQueue],
        bot: Bot | None = None,
        on_disconnect: Callable[[Disconnected], None] | None = None,
    ) -> None:
        self._work = work
        self._queue = queue
        self._bot = bot
        self._on_disconnect = on_disconnect

    # --- ingress -------------------------------------------------------------------------------
    def receive(self, webhook_key: str, secret: str | None, body: str) -> bool:
        """Store one delivery once and enqueue it; True when new (503 when the queue refused: stored,
        and enqueued on Evolution's next try). 401 for an unknown URL or a wrong
        secret (compared as SHA-256 digests in the statement that stores), 403 when the body names
        another instance than this URL's, 422 for a body that is no Evolution event: nothing stored."""
        tenant_part, _, rest = webhook_key.partition(".")
        try:
            tenant_id = UUID(tenant_part)
        except ValueError:
            tenant_id = None
        presented = hashlib.sha256((secret or "").encode()).digest()
        if tenant_id is None or not rest or not secret:
            hmac.compare_digest(presented, hashlib.sha256(b"\x00" + presented).digest())  # same work
            raise UnauthorizedError("Segredo de webhook inválido.")
        try:
            delivery: Delivery | None = parse_delivery(body)
        except ValidationFailedError as exc:
            delivery, not_an_event = None, exc
        with self._work(_evolution(tenant_id)) as uow:
            authorized, matches, new, pending = wa_db.add_to_inbox_if_authorized(
                uow.conn,
                webhook_key=webhook_key,
                secret_hash=presented,
                tenant_id=tenant_id,
                instance=delivery.instance if delivery else "",
                delivery_id=delivery.delivery_id if delivery else "-",
                event=delivery.event if delivery else "-",
                chat=delivery.chat if delivery else None,
                from_me=delivery.from_me if delivery else False,
                payload=delivery.payload if delivery else "{}",
            )
            if not authorized:
                raise UnauthorizedError("Segredo de webhook inválido.")
            if delivery is None:
                raise not_an_event
            if not matches:
                raise ForbiddenError("Esta URL é de outro número de WhatsApp.")
        if new or pending:
            # A stored delivery not applied yet is enqueued again (a redelivery after our 503; the
            # consumer applies it once whatever the queue holds).
            # A customer's message waits for the rest of its burst; an echo of our own send waits for
            # the sender to record the id WhatsApp gave it.
            delay = DEBOUNCE_S if delivery.event == "messages.upsert" else 0
            try:
                self._queue().inbound(tenant_id, delivery.instance, delivery.delivery_id, delay_s=delay)
            except Exception as exc:
                # Stored, not enqueued: 503, and Evolution delivers again (it retries 5xx, PROVIDERS
                # §1.3), which enqueues it then.
                logger.exception("could not enqueue a stored WhatsApp delivery")
                raise ServiceUnavailableError() from exc
        return new

    # --- consumer ------------------------------------------------------------------------------
    def apply(self, tenant_id: UUID, instance: str, delivery_id: str) -> str:
        """Apply one stored delivery, once; its outcome. The conversation's changes, the message and
        the bot's replies commit together with the delivery marked processed; the replies are
        handed to the send queue after the commit."""
        disconnected: Disconnected | None = None
        with self._work(_evolution(tenant_id)) as uow:
            item = wa_db.take_from_inbox(uow.conn, instance, delivery_id)
            if item is None:
                return "unknown_delivery"
            if item.processed_at is not None:
                return "already_processed"
            envelope = json.loads(item.payload)
            data = _mapping(envelope.get("data"))
            replies: list[UUID] = []
            after: list[Callable[[], None]] = []
            if item.event == "connection.update":
                outcome, disconnected = self._connection(uow, instance, data, _event_at(envelope))
            elif item.event == "messages.update":
                status = _RECEIPTS.get(str(data.get("status")))
                key_id = data.get("keyId") or (data.get("key") or {}).get("id")
                moved = (
                    status is not None and isinstance(key_id, str) and wa_db.receipt(uow.conn, key_id, status)
                )
                outcome = "receipt" if moved else "ignored_receipt"
            elif item.event == "messages.upsert":
                outcome, replies = self._message(uow, item, data, after)
            else:
                outcome = "ignored_event"
            wa_db.finish(uow.conn, instance, delivery_id, outcome)
        for message_id in replies:
            try:
                self._queue().outbound(tenant_id, message_id)
            except Exception:
                logger.exception("could not enqueue a WhatsApp reply (it stays queued)")
        for action in after:
            action()
        if disconnected is not None and self._on_disconnect is not None:
            self._on_disconnect(disconnected)
        return outcome

    @staticmethod
    def _connection(
        uow: UnitOfWork, instance: str, data: Mapping[str, Any], event_at: datetime | None
    ) -> tuple[str, Disconnected | None]:
        state = str(data.get("state") or "")
        if state not in ("open", "connecting", "close"):
            return "ignored_state", None
        wuid = data.get("wuid")
        number = wa.normalize_phone(wuid) if isinstance(wuid, str) else None
        moved = wa_db.set_state(uow.conn, state, number if state == "open" else None, event_at=event_at)
        if moved is None:
            return "ignored_no_instance", None
        before, after = moved
        if after != state:
            return "ignored_older_state", None  # a newer state was applied already
        uow.audit("state", "whatsapp_instance", instance, changes={"from": before, "to": after})
        if before == "open" and after == "close":
            uow.emit("WhatsappDisconnected", {"instance": instance})
            row = wa_db.get_instance(uow.conn)
            return "disconnected", Disconnected(uow.tenant_id, instance, row.number if row else None)
        return f"state_{after}", None

    def _message(
        self,
        uow: UnitOfWork,
        item: wa_db.WaInboxRow,
        data: Mapping[str, Any],
        after: list[Callable[[], None]],
    ) -> tuple[str, list[UUID]]:
        sender = wa.sender_of(data)
        kind = wa.message_kind(data)
        if sender.kind not in ("user", "lid"):
            return f"ignored_{sender.kind}", []  # groups, status broadcasts, lists: kept in the inbox
        if kind in ("reaction", "protocol"):
            return f"ignored_{kind}", []
        if sender.phone is None and sender.lid is None:
            return "ignored_no_sender", []
        conversation = self._conversation(uow, sender)
        key = _mapping(data.get("key"))
        evolution_id = key.get("id") if isinstance(key.get("id"), str) and key.get("id") else None
        text = wa.message_text(data)
        if (
            sender.from_me
            and evolution_id
            and wa_db.claim_echo(uow.conn, conversation.id, evolution_id, text)
        ):
            return "echo", []  # our own send, echoed before the sender recorded its id
        stored = wa_db.insert_message(
            uow.conn,
            tenant_id=uow.tenant_id,
            conversation_id=conversation.id,
            direction="out" if sender.from_me else "in",
            author="phone" if sender.from_me else "customer",
            kind=kind,
            body=text[:8000] if text else None,
            status="sent" if sender.from_me else "received",
            evolution_id=evolution_id,
            media=_media(data, kind),
        )
        if stored is None:
            return "duplicate", []  # a redelivery, or the echo of a message we sent
        if sender.from_me:
            # Staff typed on the phone: the human took over; the bot stays silent for this person.
            wa_db.update_conversation(
                uow.conn, conversation.id, state="with_staff", last_message_at=stored.created_at
            )
            return "stored_from_me", []
        if media_rules.wanted(kind, stored.media) and wa_db.get_settings(uow.conn).fetch_media:
            # The shop keeps its customers' files: the sender fetches this one to S3 (after the commit)
            tenant_id, message_id = uow.tenant_id, stored.id
            after.append(lambda: self._queue().media(tenant_id, message_id))
        changes: dict[str, Any] = {"unread": conversation.unread + 1, "last_message_at": stored.created_at}
        if conversation.opted_out_at is not None:
            changes |= {"opted_out_at": None}  # they wrote again: automatic messages may resume
        conversation = wa_db.update_conversation(uow.conn, conversation.id, **changes)
        uow.emit(
            "WhatsappMessageReceived",
            {
                "conversation_id": str(conversation.id),
                "message_id": str(stored.id),
                "state": conversation.state,
            },
        )
        if item.chat and wa_db.newer_from_chat(uow.conn, item.instance, item.chat, item.received_at):
            return "stored_burst", []  # the burst's last message answers for all of it
        if self._bot is None:
            return "stored", []
        texts = wa_db.unanswered_texts(uow.conn, conversation.id)
        answer = self._bot.answer(uow, conversation, texts)
        after.extend(answer.after_commit)
        queued = []
        for reply in answer.replies:
            row = wa_db.insert_message(
                uow.conn,
                tenant_id=uow.tenant_id,
                conversation_id=conversation.id,
                direction="out",
                author="bot",
                kind="text",
                body=reply[:8000],
                status="queued",
            )
            assert row is not None
            queued.append(row.id)
        return (answer.outcome or ("answered" if queued else "stored_silent")), queued

    @staticmethod
    def _conversation(uow: UnitOfWork, sender: wa.Sender) -> wa_db.ConversationRow:
        """This person's conversation (found by any spelling of the phone or by the Linked ID, and
        completed with what this message adds), matched to the shop's customer by the phone."""
        phones = sorted(wa.phone_variants(sender.phone)) if sender.phone else []
        conversation = wa_db.find_conversation(uow.conn, phones, sender.lid)
        customer_id = _customer(uow, phones) if phones else None
        if conversation is None:
            return wa_db.insert_conversation(
                uow.conn,
                tenant_id=uow.tenant_id,
                phone=sender.phone,
                lid=sender.lid,
                customer_id=customer_id,
                push_name=None if sender.from_me else (sender.push_name or "")[:120] or None,
            )
        changes: dict[str, Any] = {}
        if sender.phone and conversation.phone is None:
            changes["phone"] = sender.phone
        if sender.lid and conversation.lid is None:
            changes["lid"] = sender.lid
        if customer_id and conversation.customer_id is None:
            changes["customer_id"] = customer_id
        if sender.push_name and not sender.from_me and sender.push_name != conversation.push_name:
            changes["push_name"] = sender.push_name[:120]
        return wa_db.update_conversation(uow.conn, conversation.id, **changes) if changes else conversation


def _customer(uow: UnitOfWork, phones: list[str]) -> UUID | None:
    row = uow.conn.execute(
        "select id from customers where phone = any(%s) order by created_at limit 1",
        ([f"+{p}" for p in phones],),
    ).fetchone()
    return UUID(str(row[0])) if row else None


def _event_at(envelope: Mapping[str, Any]) -> datetime | None:
    """The envelope's ``date_time`` (the server's clock, shifted by its UTC offset but alike for all
    its events: good for ordering them); None when absent or unreadable."""
    value = envelope.get("date_time")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _media(data: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """What a media message says about its file (never its bytes, nor its encryption keys)."""
    if kind not in ("image", "audio", "document", "video", "sticker"):
        return None
    message = _mapping(data.get("message"))
    for name, value in message.items():
        if name.endswith("Message") and isinstance(value, dict):
            inner = _mapping(value.get("message")).get("documentMessage") if "WithCaption" in name else value
            if isinstance(inner, dict):
                return {k: inner[k] for k in _MEDIA_FIELDS if isinstance(inner.get(k), (str, int, bool))}
    return {}
