"""SQL for the shop's Asaas account, charges and the webhook inbox (RLS scopes every query)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import ChargeRow, InboxRow, PaymentAccountRow
from assistec.db.sql import fetch_all, fetch_one, fetch_returned, for_update, inserted

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"
_ACCOUNT = "tenant_id, environment, api_key_ciphertext, webhook_key, webhook_token_hash, version, updated_at"
_CHARGE = (
    "id, tenant_id, order_id, attempt, external_reference, billing_type, value_cents, due_date, status, "
    "asaas_payment_id, asaas_status, invoice_url, pix_payload, pix_qr_image, boleto_line, paid_cents, "
    "paid_at, receipt_url, flow_task_token, version, created_at, updated_at"
)
_INBOX = "tenant_id, event_id, event, payment_id, payload, received_at, processed_at, outcome, attempts"
CHARGE_FIELDS = {
    "asaas_payment_id",
    "asaas_status",
    "invoice_url",
    "pix_payload",
    "pix_qr_image",
    "boleto_line",
    "status",
    "paid_cents",
    "paid_at",
    "receipt_url",
    "flow_task_token",
}


# --- account -----------------------------------------------------------------------------------
def get_account(conn: Conn) -> PaymentAccountRow | None:
    return fetch_one(conn, PaymentAccountRow, f"select {_ACCOUNT} from payment_accounts where {_TENANT}")


def save_account(
    conn: Conn,
    *,
    tenant_id: UUID,
    environment: str,
    api_key_ciphertext: bytes,
    webhook_key: str,
    webhook_token_hash: bytes,
) -> PaymentAccountRow:
    return fetch_returned(
        conn,
        PaymentAccountRow,
        "insert into payment_accounts (tenant_id, environment, api_key_ciphertext, webhook_key, "
        "webhook_token_hash) values (%s, %s, %s, %s, %s) on conflict (tenant_id) do update set "
        "environment = excluded.environment, api_key_ciphertext = excluded.api_key_ciphertext, "
        "webhook_key = excluded.webhook_key, webhook_token_hash = excluded.webhook_token_hash, "
        f"version = payment_accounts.version + 1, updated_at = now() returning {_ACCOUNT}",
        (tenant_id, environment, api_key_ciphertext, webhook_key, webhook_token_hash),
    )


def webhook_account(conn: Conn, webhook_key: str) -> tuple[bytes] | None:
    row = conn.execute(
        f"select webhook_token_hash from payment_accounts where {_TENANT} and webhook_key = %s",
        (webhook_key,),
    ).fetchone()
    return (bytes(row[0]),) if row else None


# --- Asaas customers ---------------------------------------------------------------------------
def asaas_customer(conn: Conn, customer_id: UUID) -> str | None:
    row = conn.execute(
        "select asaas_id from asaas_customers where customer_id = %s", (customer_id,)
    ).fetchone()
    return str(row[0]) if row else None


def save_asaas_customer(conn: Conn, *, tenant_id: UUID, customer_id: UUID, asaas_id: str) -> None:
    conn.execute(
        "insert into asaas_customers (tenant_id, customer_id, asaas_id) values (%s, %s, %s) "
        "on conflict (tenant_id, customer_id) do nothing",
        (tenant_id, customer_id, asaas_id),
    )


# --- charges -----------------------------------------------------------------------------------
def charges_of(conn: Conn, order_id: UUID, *, lock: bool = False) -> list[ChargeRow]:
    return fetch_all(
        conn,
        ChargeRow,
        f"select {_CHARGE} from charges where order_id = %s order by attempt" + for_update(lock),
        (order_id,),
    )


def insert_charge(
    conn: Conn,
    *,
    tenant_id: UUID,
    order_id: UUID,
    attempt: int,
    external_reference: str,
    billing_type: str,
    value_cents: int,
    due_date: date,
) -> ChargeRow:
    return fetch_returned(
        conn,
        ChargeRow,
        "insert into charges (tenant_id, order_id, attempt, external_reference, billing_type, "
        f"value_cents, due_date) values (%s, %s, %s, %s, %s, %s, %s) returning {_CHARGE}",
        (tenant_id, order_id, attempt, external_reference, billing_type, value_cents, due_date),
    )


def get_charge(conn: Conn, charge_id: UUID, *, lock: bool = False) -> ChargeRow | None:
    return fetch_one(
        conn, ChargeRow, f"select {_CHARGE} from charges where id = %s" + for_update(lock), (charge_id,)
    )


def charge_by_payment(conn: Conn, payment_id: str, *, lock: bool = False) -> ChargeRow | None:
    return fetch_one(
        conn,
        ChargeRow,
        f"select {_CHARGE} from charges where asaas_payment_id = %s" + for_update(lock),
        (payment_id,),
    )


def update_charge(conn: Conn, charge_id: UUID, changes: dict[str, Any]) -> ChargeRow:
    assert set(changes) <= CHARGE_FIELDS, set(changes) - CHARGE_FIELDS
    sets = ", ".join(f"{column} = %s" for column in changes)
    return fetch_returned(
        conn,
        ChargeRow,
        f"update charges set {sets}, version = version + 1, updated_at = now() where id = %s "
        f"returning {_CHARGE}",
        [*changes.values(), charge_id],
    )


def refresh_order_paid(conn: Conn, order_id: UUID) -> int:
    """Recompute what the order has received from its paid charges (a sum, never an increment:
    a replayed event cannot count twice)."""
    row = conn.execute(
        "update service_orders set paid_cents = coalesce((select sum(paid_cents) from charges "
        "where order_id = %s and status = 'paid'), 0) where id = %s returning paid_cents",
        (order_id, order_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def approved_total(conn: Conn, order_id: UUID) -> int | None:
    row = conn.execute(
        "select total_cents from quotes where order_id = %s and status = 'approved' "
        "order by version desc limit 1",
        (order_id,),
    ).fetchone()
    return int(row[0]) if row else None


# --- inbox -------------------------------------------------------------------------------------
def add_to_inbox(
    conn: Conn, *, tenant_id: UUID, event_id: str, event: str, payment_id: str | None, payload: str
) -> bool:
    """Store a delivery once per event id; False when it was already there (a duplicate)."""
    return inserted(
        conn,
        "insert into webhook_inbox (tenant_id, event_id, event, payment_id, payload) "
        "values (%s, %s, %s, %s, %s) "
        "on conflict (tenant_id, event_id) do nothing returning 1",
        (tenant_id, event_id, event, payment_id, payload),
    )


def take_from_inbox(conn: Conn, event_id: str) -> InboxRow | None:
    return fetch_one(
        conn, InboxRow, f"select {_INBOX} from webhook_inbox where event_id = %s for update", (event_id,)
    )


def finish(conn: Conn, event_id: str, outcome: str) -> None:
    conn.execute(
        "update webhook_inbox set processed_at = now(), outcome = %s, attempts = attempts + 1 "
        "where event_id = %s",
        (outcome, event_id),
    )


def as_sweeper(conn: Conn) -> None:
    conn.execute("select set_config('app.inbox_sweeper', 'on', true)")


def stale(conn: Conn, *, older_than_s: int, limit: int, max_sweeps: int = 10) -> list[tuple[UUID, str]]:
    """Unapplied deliveries older than ``older_than_s``, each counted as swept once more; one
    swept ``max_sweeps`` times is left to the DLQ alarm and to people (a poison event must not
    circle forever)."""
    rows = conn.execute(
        "update webhook_inbox set attempts = attempts + 1 where (tenant_id, event_id) in ("
        "select tenant_id, event_id from webhook_inbox where processed_at is null and attempts < %s "
        "and received_at < now() - make_interval(secs => %s) order by received_at limit %s "
        "for update skip locked) returning tenant_id, event_id",
        (max_sweeps, older_than_s, limit),
    ).fetchall()
    return [(UUID(str(r[0])), str(r[1])) for r in rows]


# --- reconciliation ----------------------------------------------------------------------------
def shops_with_accounts(conn: Conn) -> list[UUID]:
    conn.execute("select set_config('app.reconciler', 'on', true)")
    rows = conn.execute("select tenant_id from payment_accounts order by tenant_id").fetchall()
    return [UUID(str(r[0])) for r in rows]


def charges_to_check(conn: Conn, *, window_days: int) -> list[ChargeRow]:
    """Open charges, and charges created or changed within the window."""
    return fetch_all(
        conn,
        ChargeRow,
        f"select {_CHARGE} from charges where asaas_payment_id is not null "
        "and (status in ('pending', 'overdue') or updated_at > now() - make_interval(days => %s)) "
        "order by created_at",
        (window_days,),
    )


def record_mismatch(
    conn: Conn,
    *,
    tenant_id: UUID,
    charge_id: UUID | None,
    asaas_payment_id: str,
    local_status: str | None,
    remote_status: str,
    repaired: bool,
) -> None:
    conn.execute(
        "insert into reconciliation_mismatches (tenant_id, charge_id, asaas_payment_id, local_status, "
        "remote_status, repaired) values (%s, %s, %s, %s, %s, %s)",
        (tenant_id, charge_id, asaas_payment_id, local_status, remote_status, repaired),
    )
