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
_ACCOUNT = (
    "tenant_id, environment, api_key_ciphertext, webhook_key, webhook_token_hash, version, updated_at, "
    "asaas_webhook_id"
)
_CHARGE = (
    "id, tenant_id, order_id, attempt, external_reference, billing_type, value_cents, due_date, status, "
    "asaas_payment_id, asaas_status, invoice_url, pix_payload, pix_qr_image, boleto_line, paid_cents, "
    "paid_at, receipt_url, flow_task_token, version, created_at, updated_at"
)
_INBOX = "tenant_id, event_id, event, payment_id, payload, received_at, processed_at, outcome, attempts"
CHARGE_FIELDS = {
    "net_cents",
    "credit_on",
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
def get_account(conn: Conn, *, lock: bool = False, share: bool = False) -> PaymentAccountRow | None:
    """The shop's account; ``lock`` (a reconnection) waits for every ``share`` reader (a charge
    being created in it) to commit, and makes them wait for it."""
    clause = for_update(lock) or (" for share" if share else "")
    return fetch_one(
        conn, PaymentAccountRow, f"select {_ACCOUNT} from payment_accounts where {_TENANT}" + clause
    )


def save_account(
    conn: Conn,
    *,
    tenant_id: UUID,
    environment: str,
    api_key_ciphertext: bytes,
    webhook_key: str,
    webhook_token_hash: bytes,
    asaas_webhook_id: str | None = None,
) -> PaymentAccountRow:
    return fetch_returned(
        conn,
        PaymentAccountRow,
        "insert into payment_accounts (tenant_id, environment, api_key_ciphertext, webhook_key, "
        "webhook_token_hash, asaas_webhook_id) values (%s, %s, %s, %s, %s, %s) on conflict (tenant_id) "
        "do update set environment = excluded.environment, api_key_ciphertext = excluded.api_key_ciphertext, "
        "webhook_key = excluded.webhook_key, webhook_token_hash = excluded.webhook_token_hash, "
        "asaas_webhook_id = excluded.asaas_webhook_id, "
        f"version = payment_accounts.version + 1, updated_at = now() returning {_ACCOUNT}",
        (tenant_id, environment, api_key_ciphertext, webhook_key, webhook_token_hash, asaas_webhook_id),
    )


def unsettled_charges(conn: Conn) -> list[tuple[UUID, str]]:
    """The shop's charges Asaas may still move (open, or being refunded), oldest first, as
    ``(id, status)``: they live in the account they were made in."""
    rows = conn.execute(
        "select id, status from charges where status in ('pending', 'overdue', 'refunding') "
        "order by created_at"
    ).fetchall()
    return [(UUID(str(r[0])), str(r[1])) for r in rows]


def forget_asaas_customers(conn: Conn) -> None:
    """The shop's customers' ids in its Asaas account, forgotten when the account changes (each is
    found again by its external reference, or created, in the new account)."""
    conn.execute(f"delete from asaas_customers where {_TENANT}")


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


def claim_asaas_customer(
    conn: Conn, *, tenant_id: UUID, customer_id: UUID, token: UUID, seconds: int
) -> bool:
    """Claim making the customer's Asaas customer for ``seconds`` unless another request's live
    claim holds it; False then (a concurrent insert waits for the other's commit, then sees it)."""
    row = conn.execute(
        "insert into asaas_customer_claims as c (tenant_id, customer_id, claim_token, claimed_until) "
        "values (%s, %s, %s, now() + make_interval(secs => %s)) "
        "on conflict (tenant_id, customer_id) do update "
        "set claim_token = excluded.claim_token, claimed_until = excluded.claimed_until "
        "where c.claimed_until <= now() or c.claim_token = excluded.claim_token "
        "returning 1",
        (tenant_id, customer_id, token, seconds),
    ).fetchone()
    return row is not None


def release_asaas_customer(conn: Conn, customer_id: UUID, token: UUID) -> None:
    """Give the claim back (only ours)."""
    conn.execute(
        "delete from asaas_customer_claims where customer_id = %s and claim_token = %s", (customer_id, token)
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


# A claim: a request is talking to Asaas about the charge (see migration 0013). Committed state,
# never a lock held across the call; it runs out by itself when its request dies.
def claim_charge(conn: Conn, charge_id: UUID, token: UUID, *, seconds: int) -> bool:
    """Claim the charge for ``seconds`` unless a live claim of another request holds it; False then."""
    row = conn.execute(
        "update charges set claim_token = %s, claimed_until = now() + make_interval(secs => %s) "
        "where id = %s and (claimed_until is null or claimed_until <= now() or claim_token = %s) "
        "returning 1",
        (token, seconds, charge_id, token),
    ).fetchone()
    return row is not None


def release_claim(conn: Conn, charge_id: UUID, token: UUID) -> None:
    """Give the claim back (only ours: one taken over after ours ran out stays)."""
    conn.execute(
        "update charges set claim_token = null, claimed_until = null where id = %s and claim_token = %s",
        (charge_id, token),
    )


def finish_charge(conn: Conn, charge_id: UUID, token: UUID, changes: dict[str, Any]) -> ChargeRow | None:
    """Store what Asaas answered for the charge's payment and give the claim back; None (nothing
    written) when the charge already holds another Asaas payment: a stored ``asaas_payment_id`` is
    never overwritten."""
    assert set(changes) <= CHARGE_FIELDS, set(changes) - CHARGE_FIELDS
    assert "asaas_payment_id" in changes
    sets = ", ".join(f"{column} = %s" for column in changes)
    return fetch_one(
        conn,
        ChargeRow,
        f"update charges set {sets}, version = version + 1, updated_at = now(), "
        "claim_token = case when claim_token = %s then null else claim_token end, "
        "claimed_until = case when claim_token = %s then null else claimed_until end "
        "where id = %s and (asaas_payment_id is null or asaas_payment_id = %s) "
        f"returning {_CHARGE}",
        [*changes.values(), token, token, charge_id, changes["asaas_payment_id"]],
    )


def refresh_order_paid(conn: Conn, order_id: UUID) -> int:
    """Recompute what the order has received from its paid charges and its settled boletos (the
    shop's own bank's, read from retornos): a sum, never an increment, so a replayed event cannot
    count twice. A charge being refunded still counts until Asaas says refunded."""
    row = conn.execute(
        "update service_orders set paid_cents = coalesce((select sum(paid_cents) from charges "
        "where order_id = %s and status in ('paid', 'refunding')), 0) + coalesce((select "
        "sum(paid_cents) from boletos where order_id = %s and status = 'settled'), 0) "
        "where id = %s returning paid_cents",
        (order_id, order_id, order_id),
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


def add_to_inbox_if_authorized(
    conn: Conn,
    *,
    webhook_key: str,
    token_hash: bytes,
    tenant_id: UUID,
    event_id: str,
    event: str,
    payment_id: str | None,
    payload: str,
) -> tuple[bool, bool]:
    """Store a delivery once per event id, if ``token_hash`` is the hash of the token of the account
    at ``webhook_key`` as committed now: the check and the insert in one statement. Returns
    ``(authorized, new)``; nothing is stored when not authorized. (An equality on SHA-256 digests:
    its timing tells nothing usable about the token.)"""
    row = conn.execute(
        f"with account as (select 1 from payment_accounts where {_TENANT} and webhook_key = %s "
        "and webhook_token_hash = %s), "
        "stored as (insert into webhook_inbox (tenant_id, event_id, event, payment_id, payload) "
        "select %s::uuid, %s::text, %s::text, %s::text, %s::jsonb from account "
        "on conflict (tenant_id, event_id) do nothing returning 1) "
        "select exists (select 1 from account), exists (select 1 from stored)",
        (webhook_key, token_hash, tenant_id, event_id, event, payment_id, payload),
    ).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1])


def take_from_inbox(conn: Conn, event_id: str, *, lock: bool = True) -> InboxRow | None:
    return fetch_one(
        conn,
        InboxRow,
        f"select {_INBOX} from webhook_inbox where event_id = %s" + for_update(lock),
        (event_id,),
    )


def finish(conn: Conn, event_id: str, outcome: str) -> None:
    conn.execute(
        "update webhook_inbox set processed_at = now(), outcome = %s, attempts = attempts + 1 "
        "where event_id = %s",
        (outcome, event_id),
    )


def stale(conn: Conn, *, older_than_s: int, limit: int, max_sweeps: int = 10) -> list[tuple[UUID, str]]:
    """Unapplied deliveries older than ``older_than_s``, across shops, each counted as swept once
    more; one swept ``max_sweeps`` times is left to the DLQ alarm and to people (a poison event
    must not circle forever). A SECURITY DEFINER function: no policy opens the inbox across shops."""
    rows = conn.execute(
        "select tenant_id, event_id from sweep_webhook_inbox(%s, %s, %s)", (older_than_s, limit, max_sweeps)
    ).fetchall()
    return [(UUID(str(r[0])), str(r[1])) for r in rows]


# --- reconciliation ----------------------------------------------------------------------------
def shops_with_accounts(conn: Conn) -> list[UUID]:
    """Every shop with an Asaas account (ops reconciling by hand), through the definer function."""
    rows = conn.execute("select s from reconcile_shops_due(0, 2147483647) s order by s").fetchall()
    return [UUID(str(r[0])) for r in rows]


def charges_to_check(conn: Conn, *, window_days: int) -> list[ChargeRow]:
    """Open charges, charges being refunded (until Asaas says refunded), and charges created or
    changed within the window."""
    return fetch_all(
        conn,
        ChargeRow,
        f"select {_CHARGE} from charges where asaas_payment_id is not null "
        "and (status in ('pending', 'overdue', 'refunding') "
        "or updated_at > now() - make_interval(days => %s)) "
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
) -> bool:
    """Record a difference; False when the same unrepaired difference was already recorded (an
    Asaas payment with no charge here, a settled charge gone from Asaas: recorded once, later runs
    only count that they saw it again)."""
    row = conn.execute(
        "insert into reconciliation_mismatches (tenant_id, charge_id, asaas_payment_id, local_status, "
        "remote_status, repaired) values (%s, %s, %s, %s, %s, %s) "
        "on conflict (tenant_id, asaas_payment_id, remote_status, local_status) where not repaired "
        "do update set last_seen_at = now(), times_seen = reconciliation_mismatches.times_seen + 1 "
        "returning (xmax = 0)",
        (tenant_id, charge_id, asaas_payment_id, local_status, remote_status, repaired),
    ).fetchone()
    return bool(row and row[0])


def shops_to_reconcile(conn: Conn, *, not_since_s: int, limit: int) -> list[UUID]:
    """Shops with an Asaas account not reconciled within ``not_since_s``, those reconciled longest
    ago (never first) first: a fan-out cut short starts next time where this one stopped."""
    # A SECURITY DEFINER function (migration 0018): no policy opens payment_accounts across shops.
    rows = conn.execute("select * from reconcile_shops_due(%s, %s)", (not_since_s, limit)).fetchall()
    return [UUID(str(r[0])) for r in rows]


def reconciled_within(conn: Conn, seconds: int) -> bool:
    """Whether the shop was reconciled within ``seconds`` (a duplicate message finds it done)."""
    row = conn.execute(
        "select last_reconciled_at > now() - make_interval(secs => %s) "
        f"from payment_accounts where {_TENANT}",
        (seconds,),
    ).fetchone()
    return bool(row and row[0])


def mark_reconciled(conn: Conn) -> None:
    conn.execute(f"update payment_accounts set last_reconciled_at = now() where {_TENANT}")
