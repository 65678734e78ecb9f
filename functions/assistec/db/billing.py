"""SQL for the shops' subscription to assistec: plans, subscriptions, invoices, notices and the
platform account's webhook inbox. Inside a shop's transaction RLS scopes every query; the few
cross-shop reads are SECURITY DEFINER functions (migration 0015), never a policy opened by a flag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import class_row, fetch_all, fetch_one, inserted

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"


@dataclass(frozen=True, slots=True)
class PlanRow:
    code: str
    name: str
    price_cents: int
    trial_days: int
    grace_days: int
    active: bool


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    tenant_id: UUID
    plan_code: str
    trial_ends_on: date
    asaas_customer_id: str | None
    asaas_subscription_id: str | None
    next_due_date: date | None
    past_due_since: date | None
    suspended_at: datetime | None
    cancelled_at: datetime | None
    cancel_on: date | None
    provision_error: str | None
    version: int
    # From the shop and the plan (joined)
    billing_status: str
    shop_name: str
    shop_email: str
    shop_cnpj: str
    shop_phone: str
    price_cents: int
    grace_days: int


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    tenant_id: UUID
    asaas_payment_id: str
    due_date: date
    value_cents: int
    status: str
    asaas_status: str
    invoice_url: str | None
    paid_on: date | None


@dataclass(frozen=True, slots=True)
class PlatformEventRow:
    event_id: str
    event: str
    payment_id: str | None
    payload: dict[str, Any]
    processed_at: datetime | None


_PLAN = "code, name, price_cents, trial_days, grace_days, active"
_SUBSCRIPTION = (
    "s.tenant_id, s.plan_code, s.trial_ends_on, s.asaas_customer_id, s.asaas_subscription_id, "
    "s.next_due_date, s.past_due_since, s.suspended_at, s.cancelled_at, s.cancel_on, s.provision_error, "
    "s.version, "
    "t.billing_status, t.name as shop_name, t.email::text as shop_email, t.cnpj as shop_cnpj, "
    "t.phone as shop_phone, p.price_cents, p.grace_days"
)
_FROM = "tenant_subscriptions s join tenants t on t.id = s.tenant_id join plans p on p.code = s.plan_code"
_INVOICE = "tenant_id, asaas_payment_id, due_date, value_cents, status, asaas_status, invoice_url, paid_on"
SUBSCRIPTION_FIELDS = {
    "plan_code",
    "asaas_customer_id",
    "asaas_subscription_id",
    "next_due_date",
    "past_due_since",
    "suspended_at",
    "provision_error",
    "cancelled_at",
    "cancel_on",
}


def as_billing(conn: Conn) -> None:
    """Kept for callers: the billing job's cross-shop reads are SECURITY DEFINER functions now
    (``tenant_of_subscription``, ``shops_to_visit``); no policy opens a table to a flag."""


# --- plans ---------------------------------------------------------------------------------------
def plans(conn: Conn) -> list[PlanRow]:
    return fetch_all(conn, PlanRow, f"select {_PLAN} from plans where active order by sort_order, code")


def plan(conn: Conn, code: str) -> PlanRow | None:
    return fetch_one(conn, PlanRow, f"select {_PLAN} from plans where code = %s and active", (code,))


# --- subscriptions -------------------------------------------------------------------------------
def create_subscription(conn: Conn, *, tenant_id: UUID, plan_code: str, trial_ends_on: date) -> None:
    conn.execute(
        "insert into tenant_subscriptions (tenant_id, plan_code, trial_ends_on) values (%s, %s, %s)",
        (tenant_id, plan_code, trial_ends_on),
    )


def subscription(conn: Conn, *, lock: bool = False) -> SubscriptionRow | None:
    """The shop's subscription (the shop's transaction)."""
    return fetch_one(
        conn,
        SubscriptionRow,
        f"select {_SUBSCRIPTION} from {_FROM} where s.{_TENANT}" + (" for update of s" if lock else ""),
    )


def update_subscription(conn: Conn, **fields: Any) -> None:
    unknown = set(fields) - SUBSCRIPTION_FIELDS
    if unknown:
        raise ValueError(f"not subscription fields: {unknown}")
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    conn.execute(
        f"update tenant_subscriptions set {assignments}, version = version + 1, updated_at = now() "
        f"where {_TENANT}",
        fields,
    )


def set_status(conn: Conn, status: str) -> None:
    # The app role has no UPDATE on billing_status: a definer function moves the current shop's.
    conn.execute("select set_billing_status(%s)", (status,))


def billing_status(conn: Conn) -> str | None:
    row = conn.execute(
        "select billing_status from tenants "
        "where id = nullif(current_setting('app.tenant_id', true), '')::uuid"
    ).fetchone()
    return str(row[0]) if row else None


def tenant_of_subscription(conn: Conn, subscription_id: str) -> UUID | None:
    """Whose subscription this is (billing job transaction)."""
    row = conn.execute("select billing_tenant_of_subscription(%s)", (subscription_id,)).fetchone()
    return UUID(str(row[0])) if row and row[0] is not None else None


def shops_to_visit(conn: Conn, *, after: UUID | None, limit: int) -> list[UUID]:
    """Every shop not cancelled, and those whose cancellation takes effect within the last month
    (missed runs included), in id order (billing job transaction; keyset pages)."""
    rows = conn.execute("select billing_shops_to_visit(%s, %s)", (after, limit)).fetchall()
    return [UUID(str(r[0])) for r in rows]


# --- invoices ------------------------------------------------------------------------------------
def upsert_invoice(
    conn: Conn,
    *,
    tenant_id: UUID,
    payment_id: str,
    due_date: date,
    value_cents: int,
    status: str,
    asaas_status: str,
    invoice_url: str | None,
    paid_on: date | None,
) -> InvoiceRow | None:
    """Insert or update the invoice; returns the row as it was before (None when new)."""
    with conn.cursor(row_factory=class_row(InvoiceRow)) as cur:
        before = cur.execute(
            f"select {_INVOICE} from subscription_invoices where asaas_payment_id = %s for update",
            (payment_id,),
        ).fetchone()
    conn.execute(
        "insert into subscription_invoices (tenant_id, asaas_payment_id, due_date, value_cents, status, "
        "asaas_status, invoice_url, paid_on) values (%s, %s, %s, %s, %s, %s, %s, %s) "
        "on conflict (tenant_id, asaas_payment_id) do update set due_date = excluded.due_date, "
        "value_cents = excluded.value_cents, status = excluded.status, asaas_status = excluded.asaas_status, "
        "invoice_url = excluded.invoice_url, paid_on = excluded.paid_on, updated_at = now()",
        (tenant_id, payment_id, due_date, value_cents, status, asaas_status, invoice_url, paid_on),
    )
    return before


def invoices(conn: Conn, *, limit: int = 24) -> list[InvoiceRow]:
    return fetch_all(
        conn,
        InvoiceRow,
        f"select {_INVOICE} from subscription_invoices where {_TENANT} "
        "order by due_date desc, asaas_payment_id limit %s",
        (limit,),
    )


def open_invoices(conn: Conn) -> list[InvoiceRow]:
    return fetch_all(
        conn,
        InvoiceRow,
        f"select {_INVOICE} from subscription_invoices where {_TENANT} "
        "and status in ('pending', 'overdue') order by due_date, asaas_payment_id",
    )


# --- notices -------------------------------------------------------------------------------------
def notices_sent(conn: Conn, payment_id: str) -> set[str]:
    rows = conn.execute(
        f"select step from billing_notices where {_TENANT} and asaas_payment_id = %s", (payment_id,)
    ).fetchall()
    return {str(r[0]) for r in rows}


def record_notice(conn: Conn, *, tenant_id: UUID, payment_id: str, step: str, sent_to: str) -> bool:
    """Claim a notice; False when it was already sent (another run got there first)."""
    return inserted(
        conn,
        "insert into billing_notices (tenant_id, asaas_payment_id, step, sent_to) values (%s, %s, %s, %s) "
        "on conflict do nothing returning 1",
        (tenant_id, payment_id, step, sent_to),
    )


# --- platform inbox ------------------------------------------------------------------------------
def add_platform_event(
    conn: Conn, *, event_id: str, event: str, payment_id: str | None, payload: str
) -> bool:
    return inserted(
        conn,
        "insert into platform_webhook_inbox (event_id, event, payment_id, payload) values (%s, %s, %s, %s) "
        "on conflict (event_id) do nothing returning 1",
        (event_id, event, payment_id, payload),
    )


def take_platform_event(conn: Conn, event_id: str) -> PlatformEventRow | None:
    return fetch_one(
        conn,
        PlatformEventRow,
        "select event_id, event, payment_id, payload, processed_at from platform_webhook_inbox "
        "where event_id = %s for update",
        (event_id,),
    )


def finish_platform_event(conn: Conn, event_id: str, outcome: str) -> None:
    conn.execute(
        "update platform_webhook_inbox set processed_at = now(), outcome = %s, attempts = attempts + 1 "
        "where event_id = %s",
        (outcome, event_id),
    )


def stale_platform_events(conn: Conn, *, older_than_s: int, limit: int, max_sweeps: int = 10) -> list[str]:
    rows = conn.execute(
        "update platform_webhook_inbox set attempts = attempts + 1 where event_id in ("
        "select event_id from platform_webhook_inbox where processed_at is null and attempts < %s "
        "and received_at < now() - make_interval(secs => %s) order by received_at limit %s "
        "for update skip locked) returning event_id",
        (max_sweeps, older_than_s, limit),
    ).fetchall()
    return [str(r[0]) for r in rows]


def lease_provisioning(conn: Conn, *, seconds: int) -> bool:
    """Take the shop's provisioning for ``seconds`` (no other consumer calls Asaas for it
    meanwhile); False while someone else holds it. Bookkeeping only: the version is not bumped."""
    row = conn.execute(
        "update tenant_subscriptions set provisioning_until = now() + make_interval(secs => %s) "
        f"where {_TENANT} and (provisioning_until is null or provisioning_until < now()) returning 1",
        (seconds,),
    ).fetchone()
    return row is not None


def release_provisioning(conn: Conn) -> None:
    conn.execute(f"update tenant_subscriptions set provisioning_until = null where {_TENANT}")
