"""WhatsApp's tables (migration 0020): the shop's instance, the inbox of Evolution's deliveries, the
conversations and their messages, the bot's texts. Every statement runs in the shop's transaction
(row-level security); nothing here reads across shops."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, fetch_returned, for_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"


# --- rows --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InstanceRow:
    tenant_id: UUID
    name: str
    token_ciphertext: bytes
    token_hash: bytes
    webhook_key: str
    state: str
    number: str | None
    state_changed_at: datetime
    version: int


_INSTANCE = (
    "tenant_id, name, token_ciphertext, token_hash, webhook_key, state, number, state_changed_at, version"
)


@dataclass(frozen=True, slots=True)
class WaInboxRow:
    tenant_id: UUID
    instance: str
    delivery_id: str
    event: str
    chat: str | None
    from_me: bool
    payload: str
    received_at: datetime
    processed_at: datetime | None
    outcome: str | None


_INBOX = "tenant_id, instance, delivery_id, event, chat, from_me, payload, received_at, processed_at, outcome"


@dataclass(frozen=True, slots=True)
class ConversationRow:
    id: UUID
    tenant_id: UUID
    phone: str | None
    lid: str | None
    customer_id: UUID | None
    push_name: str | None
    state: str
    state_since: datetime
    menu_shown: bool
    unknown_count: int
    assigned_user_id: UUID | None
    unread: int
    opted_out_at: datetime | None
    last_message_at: datetime | None
    version: int
    created_at: datetime
    booking: dict[str, Any] | None = None  # the slots the bot offered (migration 0026)


_CONVERSATION = (
    "id, tenant_id, phone, lid, customer_id, push_name, state, state_since, menu_shown, unknown_count, "
    "assigned_user_id, unread, opted_out_at, last_message_at, version, created_at, booking"
)


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: UUID
    tenant_id: UUID
    conversation_id: UUID
    direction: str
    author: str
    user_id: UUID | None
    evolution_id: str | None
    kind: str
    body: str | None
    media: dict[str, Any] | None
    status: str
    error: str | None
    created_at: datetime
    sent_at: datetime | None


_MESSAGE = (
    "id, tenant_id, conversation_id, direction, author, user_id, evolution_id, kind, body, media, "
    "status, error, created_at, sent_at"
)


# --- instance ----------------------------------------------------------------------------------
def get_instance(conn: Conn, *, lock: bool = False) -> InstanceRow | None:
    return fetch_one(conn, InstanceRow, f"select {_INSTANCE} from whatsapp_instances" + for_update(lock))


def insert_instance(
    conn: Conn,
    *,
    tenant_id: UUID,
    name: str,
    token_ciphertext: bytes,
    token_hash: bytes,
    webhook_key: str,
    webhook_secret_hash: bytes,
) -> InstanceRow:
    return fetch_returned(
        conn,
        InstanceRow,
        "insert into whatsapp_instances (tenant_id, name, token_ciphertext, token_hash, webhook_key, "
        f"webhook_secret_hash) values (%s, %s, %s, %s, %s, %s) returning {_INSTANCE}",
        (tenant_id, name, token_ciphertext, token_hash, webhook_key, webhook_secret_hash),
    )


def delete_instance(conn: Conn) -> None:
    conn.execute(f"delete from whatsapp_instances where {_TENANT}")


def set_state(
    conn: Conn, state: str, number: str | None, *, event_at: datetime | None = None
) -> tuple[str, str] | None:
    """Record the instance's connection state; ``(before, after)``, None without an instance. With
    ``event_at`` (the server's time of the event), an event older than the newest applied is left
    out: ``(before, before)``."""
    row = conn.execute(
        f"with old as (select state, state_event_at from whatsapp_instances where {_TENANT} for update), "
        "moved as (update whatsapp_instances i set state = %s, number = coalesce(%s, i.number), "
        "state_changed_at = case when i.state = %s then i.state_changed_at else now() end, "
        "state_event_at = coalesce(%s::timestamptz, i.state_event_at), version = i.version + 1 from old "
        f"where i.{_TENANT} and (%s::timestamptz is null or old.state_event_at is null "
        "or old.state_event_at <= %s::timestamptz) returning i.state) "
        "select old.state, coalesce((select state from moved), old.state) from old",
        (state, number, state, event_at, event_at, event_at),
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def claim_send_slot(conn: Conn, interval_ms: int) -> float:
    """The next instant a message may leave this shop's number, claimed (each claim moves it on by
    ``interval_ms``); how many seconds from now that is (0 when it is now)."""
    row = conn.execute(
        "update whatsapp_instances set next_send_at = greatest(next_send_at, now()) "
        "+ make_interval(secs => %s / 1000.0) "
        f"where {_TENANT} returning extract(epoch from (next_send_at - make_interval(secs => %s / 1000.0) "
        "- now()))",
        (interval_ms, interval_ms),
    ).fetchone()
    return max(0.0, float(row[0])) if row else 0.0


# --- inbox -------------------------------------------------------------------------------------
def add_to_inbox_if_authorized(
    conn: Conn,
    *,
    webhook_key: str,
    secret_hash: bytes,
    tenant_id: UUID,
    instance: str,
    delivery_id: str,
    event: str,
    chat: str | None,
    from_me: bool,
    payload: str,
) -> tuple[bool, bool, bool, bool]:
    """Store a delivery once per (instance, id) if ``secret_hash`` is the hash of the secret of the
    instance at ``webhook_key`` as committed now and ``instance`` is that instance's name: one
    statement. ``(authorized, instance_matches, new, pending)``: ``pending`` when stored earlier and
    not applied yet (a redelivery after our 503). Nothing stored unless both hold."""
    row = conn.execute(
        f"with account as (select name from whatsapp_instances where {_TENANT} and webhook_key = %s "
        "and webhook_secret_hash = %s), "
        "stored as (insert into whatsapp_inbox (tenant_id, instance, delivery_id, event, chat, from_me, "
        "payload) select %s::uuid, %s::text, %s::text, %s::text, %s::text, %s::boolean, %s::text "
        "from account where account.name = %s "
        "on conflict (tenant_id, instance, delivery_id) do nothing returning 1) "
        "select exists (select 1 from account), exists (select 1 from account where name = %s), "
        "exists (select 1 from stored), exists (select 1 from whatsapp_inbox where instance = %s "
        "and delivery_id = %s and processed_at is null)",
        (
            webhook_key,
            secret_hash,
            tenant_id,
            instance,
            delivery_id,
            event,
            chat,
            from_me,
            payload,
            instance,
            instance,
            instance,
            delivery_id,
        ),
    ).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1]), bool(row[2]), bool(row[3])


def take_from_inbox(conn: Conn, instance: str, delivery_id: str) -> WaInboxRow | None:
    return fetch_one(
        conn,
        WaInboxRow,
        f"select {_INBOX} from whatsapp_inbox where instance = %s and delivery_id = %s for update",
        (instance, delivery_id),
    )


def finish(conn: Conn, instance: str, delivery_id: str, outcome: str) -> None:
    conn.execute(
        "update whatsapp_inbox set processed_at = now(), outcome = %s "
        "where instance = %s and delivery_id = %s",
        (outcome, instance, delivery_id),
    )


def newer_from_chat(conn: Conn, instance: str, chat: str, received_at: datetime) -> bool:
    """Whether the same person wrote again after this delivery (a burst: the newest one answers)."""
    row = conn.execute(
        "select exists (select 1 from whatsapp_inbox where instance = %s and chat = %s and not from_me "
        "and event = 'messages.upsert' and received_at > %s)",
        (instance, chat, received_at),
    ).fetchone()
    return bool(row and row[0])


# --- conversations -----------------------------------------------------------------------------
def find_conversation(
    conn: Conn, phones: Iterable[str], lid: str | None, *, lock: bool = True
) -> ConversationRow | None:
    """The conversation of this person: by any spelling of the phone, else by the Linked ID."""
    return fetch_one(
        conn,
        ConversationRow,
        f"select {_CONVERSATION} from wa_conversations where phone = any(%s) or (%s::text is not null "
        "and lid = %s) order by (phone = any(%s)) desc nulls last limit 1" + for_update(lock),
        (list(phones), lid, lid, list(phones)),
    )


def get_conversation(conn: Conn, conversation_id: UUID, *, lock: bool = False) -> ConversationRow | None:
    return fetch_one(
        conn,
        ConversationRow,
        f"select {_CONVERSATION} from wa_conversations where id = %s" + for_update(lock),
        (conversation_id,),
    )


def insert_conversation(
    conn: Conn,
    *,
    tenant_id: UUID,
    phone: str | None,
    lid: str | None,
    customer_id: UUID | None,
    push_name: str | None,
) -> ConversationRow:
    return fetch_returned(
        conn,
        ConversationRow,
        "insert into wa_conversations (tenant_id, phone, lid, customer_id, push_name) "
        f"values (%s, %s, %s, %s, %s) returning {_CONVERSATION}",
        (tenant_id, phone, lid, customer_id, push_name),
    )


_CONVERSATION_FIELDS = {
    "booking",
    "phone",
    "lid",
    "customer_id",
    "push_name",
    "state",
    "menu_shown",
    "unknown_count",
    "assigned_user_id",
    "unread",
    "opted_out_at",
    "opt_out_message_id",
    "last_message_at",
}


def update_conversation(conn: Conn, conversation_id: UUID, **changes: Any) -> ConversationRow:
    """Change a conversation (``state`` also restarts ``state_since`` when it changes)."""
    assert set(changes) <= _CONVERSATION_FIELDS, set(changes) - _CONVERSATION_FIELDS
    sets = [f"{name} = %s" for name in changes]
    params: list[Any] = list(changes.values())
    if "state" in changes:
        sets.append("state_since = case when state = %s then state_since else now() end")
        params.append(changes["state"])
    return fetch_returned(
        conn,
        ConversationRow,
        f"update wa_conversations set {', '.join(sets)}, version = version + 1 where id = %s "
        f"returning {_CONVERSATION}",
        (*params, conversation_id),
    )


def list_conversations(conn: Conn, *, state: str | None, limit: int) -> list[ConversationRow]:
    return fetch_all(
        conn,
        ConversationRow,
        f"select {_CONVERSATION} from wa_conversations where (%s::text is null or state = %s) "
        "order by last_message_at desc nulls last, id limit %s",
        (state, state, limit),
    )


# --- messages ----------------------------------------------------------------------------------
def insert_message(
    conn: Conn,
    *,
    tenant_id: UUID,
    conversation_id: UUID,
    direction: str,
    author: str,
    kind: str,
    body: str | None,
    status: str,
    evolution_id: str | None = None,
    user_id: UUID | None = None,
    media: dict[str, Any] | None = None,
) -> MessageRow | None:
    """A message of the conversation; None when its Evolution id is already stored (a redelivery,
    or the echo of a message we sent)."""
    return fetch_one(
        conn,
        MessageRow,
        "insert into wa_messages (tenant_id, conversation_id, direction, author, kind, body, status, "
        "evolution_id, user_id, media) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) "
        "on conflict (tenant_id, evolution_id) where evolution_id is not null "
        f"do nothing returning {_MESSAGE}",
        (
            tenant_id,
            conversation_id,
            direction,
            author,
            kind,
            body,
            status,
            evolution_id,
            user_id,
            json.dumps(media) if media is not None else None,
        ),
    )


def get_message(conn: Conn, message_id: UUID, *, lock: bool = False) -> MessageRow | None:
    return fetch_one(
        conn,
        MessageRow,
        f"select {_MESSAGE} from wa_messages where id = %s" + for_update(lock),
        (message_id,),
    )


def message_sent(
    conn: Conn, message_id: UUID, *, status: str, evolution_id: str | None, error: str | None
) -> None:
    conn.execute(
        "update wa_messages set status = %s, evolution_id = coalesce(%s, evolution_id), error = %s, "
        "sent_at = case when %s in ('sent', 'unknown') then now() else sent_at end where id = %s",
        (status, evolution_id, error, status, message_id),
    )


def claim_echo(conn: Conn, conversation_id: UUID, evolution_id: str, body: str | None) -> bool:
    """A ``fromMe`` message that is our own send (still ``sending``/``unknown``, same text): give it
    the id WhatsApp gave; True when it was ours."""
    row = conn.execute(
        "update wa_messages set evolution_id = %s where id = (select id from wa_messages where "
        "conversation_id = %s and direction = 'out' and author in ('bot', 'staff') and evolution_id is null "
        "and status in ('sending', 'unknown') and body is not distinct from %s order by created_at limit 1) "
        "returning 1",
        (evolution_id, conversation_id, body),
    ).fetchone()
    return row is not None


_RECEIPT_ORDER = {"sent": 1, "delivered": 2, "read": 3}


def receipt(conn: Conn, evolution_id: str, status: str) -> bool:
    """A delivery or read receipt for one of our messages; never moves a status backwards."""
    ranks = [s for s, r in _RECEIPT_ORDER.items() if r < _RECEIPT_ORDER[status]]
    row = conn.execute(
        "update wa_messages set status = %s where evolution_id = %s and direction = 'out' "
        "and status = any(%s) returning 1",
        (status, evolution_id, [*ranks, "unknown"]),
    ).fetchone()
    return row is not None


def messages(conn: Conn, conversation_id: UUID, *, limit: int) -> list[MessageRow]:
    return fetch_all(
        conn,
        MessageRow,
        f"select {_MESSAGE} from (select {_MESSAGE} from wa_messages where conversation_id = %s "
        "order by created_at desc, id desc limit %s) m order by created_at, id",
        (conversation_id, limit),
    )


def unanswered_texts(conn: Conn, conversation_id: UUID, *, limit: int = 10) -> list[str]:
    """The customer's texts since the last message the shop's side sent (a burst, oldest first)."""
    rows = conn.execute(
        "select body from wa_messages where conversation_id = %s and direction = 'in' and body is not null "
        "and created_at > coalesce((select max(created_at) from wa_messages where conversation_id = %s "
        "and direction = 'out'), '-infinity') order by created_at desc, id desc limit %s",
        (conversation_id, conversation_id, limit),
    ).fetchall()
    return [str(r[0]) for r in reversed(rows)]


# --- settings ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SettingsRow:
    templates: dict[str, str]  # the shop's own texts only
    bot_enabled: bool
    status_messages: list[str] | None  # None: the defaults
    version: int  # 0: never saved
    auto_send_quotes: bool = False
    quote_reminder_hours: int = 24
    quote_expire_hours: int = 72
    fetch_media: bool = False


# The choices saved beside the texts, with their defaults (SettingsRow's).
OPTIONS = ("auto_send_quotes", "quote_reminder_hours", "quote_expire_hours", "fetch_media")


def get_settings(conn: Conn) -> SettingsRow:
    """The shop's WhatsApp settings (the defaults, version 0, until it saves its own)."""
    row = conn.execute(
        "select templates, bot_enabled, status_messages, version, auto_send_quotes, quote_reminder_hours, "
        "quote_expire_hours, fetch_media from whatsapp_settings"
    ).fetchone()
    if row is None:
        return SettingsRow({}, True, None, 0)
    templates = {str(k): str(v) for k, v in dict(row[0]).items()}
    return SettingsRow(
        templates,
        bool(row[1]),
        list(row[2]) if row[2] is not None else None,
        int(row[3]),
        auto_send_quotes=bool(row[4]),
        quote_reminder_hours=int(row[5]),
        quote_expire_hours=int(row[6]),
        fetch_media=bool(row[7]),
    )


def save_settings(
    conn: Conn,
    *,
    tenant_id: UUID,
    templates: dict[str, str],
    bot_enabled: bool,
    status_messages: list[str] | None,
    options: dict[str, Any],
    expected_version: int,
) -> int | None:
    """Save the settings if still at ``expected_version`` (0: never saved); the new version, or None.
    ``options``: any of ``OPTIONS`` (the rest keep their values)."""
    assert set(options) <= set(OPTIONS), set(options) - set(OPTIONS)
    if expected_version == 0:
        columns = ["tenant_id", "templates", "bot_enabled", "status_messages", *options]
        row = conn.execute(
            f"insert into whatsapp_settings ({', '.join(columns)}) "
            f"values (%s, %s::jsonb, %s, %s{', %s' * len(options)}) "
            "on conflict (tenant_id) do nothing returning version",
            (tenant_id, json.dumps(templates), bot_enabled, status_messages, *options.values()),
        ).fetchone()
    else:
        sets = "".join(f", {name} = %s" for name in options)
        row = conn.execute(
            "update whatsapp_settings set templates = %s::jsonb, bot_enabled = %s, status_messages = %s"
            f"{sets}, version = version + 1, updated_at = now() where version = %s returning version",
            (json.dumps(templates), bot_enabled, status_messages, *options.values(), expected_version),
        ).fetchone()
    return int(row[0]) if row else None


def record_notice(conn: Conn, *, tenant_id: UUID, event_id: UUID, order_id: UUID, to_status: str) -> bool:
    """Claim telling this transition; False when it was claimed already (told, or decided not to)."""
    row = conn.execute(
        "insert into wa_status_notices (tenant_id, event_id, order_id, to_status, outcome) "
        "values (%s, %s, %s, %s, 'deciding') on conflict (tenant_id, event_id) do nothing returning 1",
        (tenant_id, event_id, order_id, to_status),
    ).fetchone()
    return row is not None


def finish_notice(conn: Conn, event_id: UUID, outcome: str, message_id: UUID | None) -> None:
    conn.execute(
        "update wa_status_notices set outcome = %s, message_id = %s where event_id = %s",
        (outcome, message_id, event_id),
    )
