"""The mail module's tables (migration 0027): the messages sent, the suppressed addresses, the shop's
own SMTP server and its texts. Every statement runs in the shop's transaction (row-level security)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, fetch_returned

if TYPE_CHECKING:
    from assistec.db.sql import Conn


# --- messages ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MessageRow:
    id: UUID
    template: str
    to_address: str
    subject: str | None
    transport: str
    status: str
    provider_message_id: str | None
    error_code: str | None
    detail: str | None
    attachments: list[str]
    order_id: UUID | None
    created_at: datetime
    updated_at: datetime


_MESSAGE = (
    "id, template, to_address, subject, transport, status, provider_message_id, error_code, detail, "
    "attachments, order_id, created_at, updated_at"
)

# How far an SES event moves a message: a later event never takes it back (a delivery reported after
# the complaint about it leaves it 'complained'); SES delivers its events at least once, in any order.
STATUS_RANK = {
    "sending": 0,
    "sent": 1,
    "delayed": 2,
    "delivered": 3,
    "rejected": 4,
    "bounced": 5,
    "complained": 6,
}


def add_message(
    conn: Conn,
    *,
    tenant_id: UUID,
    template: str,
    to_address: str,
    subject: str | None,
    transport: str,
    status: str,
    attachments: list[str],
    order_id: UUID | None,
    detail: str | None = None,
) -> MessageRow:
    return fetch_returned(
        conn,
        MessageRow,
        "insert into email_messages (tenant_id, template, to_address, subject, transport, status, "
        "attachments, order_id, detail) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        f"returning {_MESSAGE}",
        (tenant_id, template, to_address, subject, transport, status, attachments, order_id, detail),
    )


def finish_message(
    conn: Conn,
    message_id: UUID,
    *,
    status: str,
    provider_message_id: str | None = None,
    error_code: str | None = None,
    detail: str | None = None,
    subject: str | None = None,
) -> None:
    """The provider's answer to a message still 'sending' (an SES event may have moved it on already)."""
    conn.execute(
        "update email_messages set status = %s, provider_message_id = coalesce(provider_message_id, %s), "
        "error_code = %s, detail = coalesce(detail, %s), subject = coalesce(%s, subject), updated_at = now() "
        "where id = %s and status = 'sending'",
        (status, provider_message_id, error_code, detail, subject, message_id),
    )


def apply_event(
    conn: Conn, *, record_id: UUID | None, provider_message_id: str, status: str, detail: str | None
) -> MessageRow | None:
    """Move the message SES reports on (found by our record id when the event carries it, else by
    SES's id) to ``status`` unless it is already further along; None when no such message exists."""
    rank = STATUS_RANK[status]
    ranks = "case status " + " ".join(f"when '{s}' then {r}" for s, r in STATUS_RANK.items()) + " else 0 end"
    where = "id = %s" if record_id is not None else "provider_message_id = %s"
    key: object = record_id if record_id is not None else provider_message_id
    updated = fetch_one(
        conn,
        MessageRow,
        f"update email_messages set status = %s, detail = coalesce(%s, detail), updated_at = now(), "
        f"provider_message_id = coalesce(provider_message_id, %s) "
        f"where {where} and {ranks} < %s and status not in ('failed', 'suppressed') returning {_MESSAGE}",
        (status, detail, provider_message_id, key, rank),
    )
    if updated is not None:
        return updated
    return fetch_one(conn, MessageRow, f"select {_MESSAGE} from email_messages where {where}", (key,))


def list_messages(
    conn: Conn,
    *,
    limit: int,
    after: tuple[datetime, UUID] | None,
    status: str | None,
    order_id: UUID | None,
    to_address: str | None,
) -> list[MessageRow]:
    clauses: list[str] = ["true"]
    params: list[object] = []
    if after is not None:  # newest first: the page after the cursor's row
        clauses.append("(created_at, id) < (%s, %s)")
        params.extend(after)
    if status is not None:
        clauses.append("status = %s")
        params.append(status)
    if order_id is not None:
        clauses.append("order_id = %s")
        params.append(order_id)
    if to_address is not None:
        clauses.append("to_address = %s")
        params.append(to_address)
    return fetch_all(
        conn,
        MessageRow,
        f"select {_MESSAGE} from email_messages where {' and '.join(clauses)} "
        "order by created_at desc, id desc limit %s",
        (*params, limit),
    )


# --- suppressions ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SuppressionRow:
    address: str
    reason: str
    detail: str
    message_id: UUID | None
    created_at: datetime


_SUPPRESSION = "address, reason, detail, message_id, created_at"


def suppression(conn: Conn, address: str) -> SuppressionRow | None:
    return fetch_one(
        conn,
        SuppressionRow,
        f"select {_SUPPRESSION} from email_suppressions where address = %s",
        (address.lower(),),
    )


def suppress(
    conn: Conn, *, tenant_id: UUID, address: str, reason: str, detail: str, message_id: UUID | None
) -> SuppressionRow:
    """Suppress ``address``: a complaint outranks a bounce already on file; a second event of the same
    kind keeps the first one's date and detail (SES events come at least once)."""
    conn.execute(
        "insert into email_suppressions (tenant_id, address, reason, detail, message_id) "
        "values (%s, %s, %s, %s, %s) on conflict (tenant_id, address) do update set "
        "reason = excluded.reason, detail = excluded.detail, message_id = excluded.message_id, "
        "created_at = now() where email_suppressions.reason = 'bounce' and excluded.reason = 'complaint'",
        (tenant_id, address.lower(), reason, detail[:500], message_id),
    )
    found = suppression(conn, address)
    assert found is not None
    return found


def list_suppressions(conn: Conn, *, limit: int, after: str | None) -> list[SuppressionRow]:
    return fetch_all(
        conn,
        SuppressionRow,
        f"select {_SUPPRESSION} from email_suppressions where address > %s order by address limit %s",
        (after or "", limit),
    )


def lift(conn: Conn, address: str) -> SuppressionRow | None:
    return fetch_one(
        conn,
        SuppressionRow,
        f"delete from email_suppressions where address = %s returning {_SUPPRESSION}",
        (address.lower(),),
    )


# --- the shop's SMTP server --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SmtpRow:
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    smtp_password_enc: bytes | None
    from_address: str
    verified_at: datetime | None
    last_error: str | None
    version: int
    updated_at: datetime


_SMTP = (
    "smtp_host, smtp_port, smtp_security, smtp_username, smtp_password_enc, from_address, verified_at, "
    "last_error, version, updated_at"
)


def get_smtp(conn: Conn) -> SmtpRow | None:
    return fetch_one(conn, SmtpRow, f"select {_SMTP} from email_settings")


def save_smtp(
    conn: Conn,
    *,
    tenant_id: UUID,
    host: str,
    port: int,
    security: str,
    username: str | None,
    password_enc: bytes | None,
    keep_password: bool,
    from_address: str,
    expected_version: int,
) -> SmtpRow | None:
    """Create (expected version 0) or replace the shop's SMTP settings; None when the version is not
    the expected one. ``keep_password``: the stored password stays (the form left it blank)."""
    if expected_version == 0:
        return fetch_one(
            conn,
            SmtpRow,
            "insert into email_settings (tenant_id, smtp_host, smtp_port, smtp_security, smtp_username, "
            "smtp_password_enc, from_address) values (%s, %s, %s, %s, %s, %s, %s) "
            f"on conflict (tenant_id) do nothing returning {_SMTP}",
            (tenant_id, host, port, security, username, password_enc, from_address),
        )
    # Left blank in the form, the stored password stays; the column then takes itself.
    password = "smtp_password_enc" if keep_password else "%s"
    params: list[object] = [host, port, security, username]
    if not keep_password:
        params.append(password_enc)
    return fetch_one(
        conn,
        SmtpRow,
        "update email_settings set smtp_host = %s, smtp_port = %s, smtp_security = %s, "
        f"smtp_username = %s, smtp_password_enc = {password}, from_address = %s, "
        "verified_at = null, last_error = null, version = version + 1, updated_at = now() "
        f"where version = %s returning {_SMTP}",
        (*params, from_address, expected_version),
    )


def smtp_checked(conn: Conn, *, ok: bool, error: str | None) -> None:
    """The outcome of the shop's last test message through its server."""
    conn.execute(
        "update email_settings set verified_at = case when %s then now() else verified_at end, "
        "last_error = %s, updated_at = now()",
        (ok, error[:500] if error else None),
    )


def delete_smtp(conn: Conn) -> bool:
    return conn.execute("delete from email_settings").rowcount > 0


# --- the shop's texts --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OverrideRow:
    template: str
    subject: str | None
    intro: str | None
    version: int
    updated_at: datetime


_OVERRIDE = "template, subject, intro, version, updated_at"


def get_override(conn: Conn, template: str) -> OverrideRow | None:
    return fetch_one(
        conn, OverrideRow, f"select {_OVERRIDE} from email_overrides where template = %s", (template,)
    )


def list_overrides(conn: Conn) -> list[OverrideRow]:
    return fetch_all(conn, OverrideRow, f"select {_OVERRIDE} from email_overrides order by template")


def save_override(
    conn: Conn,
    *,
    tenant_id: UUID,
    template: str,
    subject: str | None,
    intro: str | None,
    expected_version: int,
) -> OverrideRow | None:
    if expected_version == 0:
        return fetch_one(
            conn,
            OverrideRow,
            "insert into email_overrides (tenant_id, template, subject, intro) values (%s, %s, %s, %s) "
            f"on conflict (tenant_id, template) do nothing returning {_OVERRIDE}",
            (tenant_id, template, subject, intro),
        )
    return fetch_one(
        conn,
        OverrideRow,
        "update email_overrides set subject = %s, intro = %s, version = version + 1, updated_at = now() "
        f"where template = %s and version = %s returning {_OVERRIDE}",
        (subject, intro, template, expected_version),
    )


def delete_override(conn: Conn, template: str) -> bool:
    return conn.execute("delete from email_overrides where template = %s", (template,)).rowcount > 0
