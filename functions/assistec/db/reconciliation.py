"""SQL for the reconciliation of bank statements (migrations 0036 and 0038): the statement lines, the
money we expect on the account (CNAB settlements, Asaas credits), and the matches between them with
their items and lines. Row types live here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import fetch_all, fetch_one, for_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class StatementLineRow:
    id: UUID
    bank_file_id: UUID
    posted_on: date
    amount_cents: int
    description: str | None
    reference: str | None


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """A retorno's settlement: what the payer paid, the bank's tariff, the day it is credited."""

    id: UUID
    bank_file_id: UUID
    agreement_id: UUID | None
    nosso_numero: int | None
    boleto_id: UUID | None
    paid_cents: int
    fee_cents: int
    credit_on: date
    status: str


@dataclass(frozen=True, slots=True)
class AsaasCreditRow:
    """A paid Asaas charge: what was paid, what Asaas credits (net, when it said) and when."""

    id: UUID
    order_id: UUID
    asaas_payment_id: str | None
    paid_cents: int
    net_cents: int | None
    credit_on: date


@dataclass(frozen=True, slots=True)
class MatchItemRow:
    match_id: UUID
    bank_file_line_id: UUID | None
    charge_id: UUID | None
    amount_cents: int


@dataclass(frozen=True, slots=True)
class MatchLineRow:
    match_id: UUID
    statement_line_id: UUID
    role: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class MatchRow:
    id: UUID
    statement_line_id: UUID
    method: str
    status: str
    score: int | None
    reason: str | None
    difference_cents: int
    confirmed_by: UUID | None
    confirmed_at: datetime | None
    rejected_by: UUID | None
    rejected_at: datetime | None
    withdrawn_at: datetime | None
    created_at: datetime
    posted_on: date


@dataclass(frozen=True, slots=True)
class Match:
    """A match with its items and its lines (credit lines first, then tariff debits)."""

    row: MatchRow
    items: tuple[MatchItemRow, ...] = ()
    lines: tuple[MatchLineRow, ...] = field(default=())

    @property
    def credit_line_ids(self) -> tuple[UUID, ...]:
        found = tuple(line.statement_line_id for line in self.lines if line.role == "credit")
        return found or (self.row.statement_line_id,)

    @property
    def fee_line_ids(self) -> tuple[UUID, ...]:
        return tuple(line.statement_line_id for line in self.lines if line.role == "fee")

    @property
    def settlement_ids(self) -> tuple[UUID, ...]:
        return tuple(i.bank_file_line_id for i in self.items if i.bank_file_line_id is not None)

    @property
    def charge_ids(self) -> tuple[UUID, ...]:
        return tuple(i.charge_id for i in self.items if i.charge_id is not None)


_LINE = "id, bank_file_id, posted_on, amount_cents, description, reference"
_SETTLEMENT = (
    "l.id, l.bank_file_id, f.agreement_id, l.nosso_numero, l.boleto_id, l.paid_cents, l.fee_cents, "
    "coalesce(l.credited_on, l.occurred_on) as credit_on, l.status"
)
# A settlement the bank repeated under another code (Itaú's 06 then 10), left pending by the intake
# because its boleto was settled already by another line: the money came once, the first line is it.
_SETTLEMENT_FROM = (
    "from bank_file_lines l join bank_files f on f.tenant_id = l.tenant_id and f.id = l.bank_file_id "
    "where l.kind = 'settled' and l.paid_cents > 0 and l.status <> 'ignored' "
    "and coalesce(l.credited_on, l.occurred_on) is not null "
    "and not (l.status = 'pending' and l.boleto_id is not null and exists ("
    "  select 1 from bank_file_lines a where a.tenant_id = l.tenant_id and a.boleto_id = l.boleto_id "
    "  and a.kind = 'settled' and a.status = 'applied' and a.id <> l.id))"
)
_RECEIVED = "('paid', 'refunding')"
_MATCH = (
    "m.id, m.statement_line_id, m.method, m.status, m.score, m.reason, m.difference_cents, m.confirmed_by, "
    "m.confirmed_at, m.rejected_by, m.rejected_at, m.withdrawn_at, m.created_at, s.posted_on"
)
_MATCH_FROM = (
    "from statement_matches m "
    "join statement_lines s on s.tenant_id = m.tenant_id and s.id = m.statement_line_id"
)


def lock_shop(conn: Conn, tenant_id: UUID) -> None:
    """Serialize the shop's reconciliation writes (the matcher's runs, confirmations, rejections,
    manual matches) until the transaction ends."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"reconciliation:{tenant_id}",))


def shop_timezone(conn: Conn, tenant_id: UUID) -> str:
    row = conn.execute("select timezone from tenant_settings where tenant_id = %s", (tenant_id,)).fetchone()
    return str(row[0]) if row else "America/Sao_Paulo"


# --- what is on the statement, and what we expect ------------------------------------------------------


def statement_lines(conn: Conn, start: date, end: date) -> list[StatementLineRow]:
    return fetch_all(
        conn,
        StatementLineRow,
        f"select {_LINE} from statement_lines where posted_on between %s and %s order by posted_on, id",
        (start, end),
    )


def statement_lines_by_id(conn: Conn, ids: Sequence[UUID]) -> list[StatementLineRow]:
    if not ids:
        return []
    return fetch_all(
        conn, StatementLineRow, f"select {_LINE} from statement_lines where id = any(%s)", (list(ids),)
    )


def settlements(conn: Conn, start: date, end: date) -> list[SettlementRow]:
    return fetch_all(
        conn,
        SettlementRow,
        f"select {_SETTLEMENT} {_SETTLEMENT_FROM} "
        "and coalesce(l.credited_on, l.occurred_on) between %s and %s order by credit_on, l.id",
        (start, end),
    )


def settlements_by_id(conn: Conn, ids: Sequence[UUID], *, settled_only: bool = True) -> list[SettlementRow]:
    if not ids:
        return []
    where = (
        f"{_SETTLEMENT_FROM} and"
        if settled_only
        else "from bank_file_lines l "
        "join bank_files f on f.tenant_id = l.tenant_id and f.id = l.bank_file_id where"
    )
    return fetch_all(
        conn,
        SettlementRow,
        f"select {_SETTLEMENT} {where} l.id = any(%s) and coalesce(l.credited_on, l.occurred_on) is not null",
        (list(ids),),
    )


def _credit_on(timezone: str) -> tuple[str, list[Any]]:
    # The day Asaas credits (it said so), else the shop's calendar day of the payment.
    return "coalesce(c.credit_on, (c.paid_at at time zone %s)::date)", [timezone]


def asaas_credits(conn: Conn, start: date, end: date, *, timezone: str) -> list[AsaasCreditRow]:
    day, params = _credit_on(timezone)
    return fetch_all(
        conn,
        AsaasCreditRow,
        f"select c.id, c.order_id, c.asaas_payment_id, c.paid_cents, c.net_cents, {day} as credit_on "
        f"from charges c where c.status in {_RECEIVED} and c.paid_cents > 0 and c.paid_at is not null "
        f"and {day} between %s and %s order by credit_on, c.id",
        [*params, *params, start, end],
    )


def asaas_credits_by_id(conn: Conn, ids: Sequence[UUID], *, timezone: str) -> list[AsaasCreditRow]:
    if not ids:
        return []
    day, params = _credit_on(timezone)
    return fetch_all(
        conn,
        AsaasCreditRow,
        f"select c.id, c.order_id, c.asaas_payment_id, c.paid_cents, c.net_cents, {day} as credit_on "
        f"from charges c where c.status in {_RECEIVED} and c.paid_cents > 0 and c.paid_at is not null "
        "and c.id = any(%s)",
        [*params, list(ids)],
    )


# --- matches ---------------------------------------------------------------------------------------------


def _with_parts(conn: Conn, rows: list[MatchRow]) -> list[Match]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    items = fetch_all(
        conn,
        MatchItemRow,
        "select match_id, bank_file_line_id, charge_id, amount_cents from statement_match_items "
        "where match_id = any(%s) order by match_id, created_at, bank_file_line_id, charge_id",
        (ids,),
    )
    lines = fetch_all(
        conn,
        MatchLineRow,
        "select ml.match_id, ml.statement_line_id, ml.role, ml.amount_cents from statement_match_lines ml "
        "join statement_lines s on s.tenant_id = ml.tenant_id and s.id = ml.statement_line_id "
        "where ml.match_id = any(%s) order by ml.match_id, ml.role, s.posted_on, ml.amount_cents, s.id",
        (ids,),
    )
    items_of: dict[UUID, list[MatchItemRow]] = {}
    lines_of: dict[UUID, list[MatchLineRow]] = {}
    for item in items:
        items_of.setdefault(item.match_id, []).append(item)
    for line in lines:
        lines_of.setdefault(line.match_id, []).append(line)
    return [Match(r, tuple(items_of.get(r.id, ())), tuple(lines_of.get(r.id, ()))) for r in rows]


def live_matches_touching(
    conn: Conn, *, line_ids: Sequence[UUID], settlement_ids: Sequence[UUID], charge_ids: Sequence[UUID]
) -> list[Match]:
    """The suggested and confirmed matches that hold any of these lines, settlements or charges."""
    return _touching(conn, ("suggested", "confirmed"), line_ids, settlement_ids, charge_ids)


def rejected_touching(
    conn: Conn, *, line_ids: Sequence[UUID], settlement_ids: Sequence[UUID], charge_ids: Sequence[UUID]
) -> list[Match]:
    return _touching(conn, ("rejected",), line_ids, settlement_ids, charge_ids)


def _touching(
    conn: Conn,
    statuses: tuple[str, ...],
    line_ids: Sequence[UUID],
    settlement_ids: Sequence[UUID],
    charge_ids: Sequence[UUID],
) -> list[Match]:
    rows = fetch_all(
        conn,
        MatchRow,
        f"select {_MATCH} {_MATCH_FROM} where m.status = any(%s) and ("
        "m.statement_line_id = any(%s) "
        "or exists (select 1 from statement_match_lines ml where ml.tenant_id = m.tenant_id "
        "  and ml.match_id = m.id and ml.statement_line_id = any(%s)) "
        "or exists (select 1 from statement_match_items i where i.tenant_id = m.tenant_id "
        "  and i.match_id = m.id and (i.bank_file_line_id = any(%s) or i.charge_id = any(%s)))) "
        "order by m.created_at, m.id",
        (list(statuses), list(line_ids), list(line_ids), list(settlement_ids), list(charge_ids)),
    )
    return _with_parts(conn, rows)


def list_matches(
    conn: Conn, *, status: str | None, start: date | None, end: date | None, limit: int
) -> list[Match]:
    where: list[str] = ["true"]
    params: list[Any] = []
    if status:
        where.append("m.status = %s")
        params.append(status)
    if start:
        where.append("s.posted_on >= %s")
        params.append(start)
    if end:
        where.append("s.posted_on <= %s")
        params.append(end)
    rows = fetch_all(
        conn,
        MatchRow,
        f"select {_MATCH} {_MATCH_FROM} where {' and '.join(where)} "
        "order by s.posted_on desc, m.created_at desc, m.id limit %s",
        [*params, limit],
    )
    return _with_parts(conn, rows)


def get_match(conn: Conn, match_id: UUID, *, lock: bool = False) -> Match | None:
    row = fetch_one(
        conn, MatchRow, f"select {_MATCH} {_MATCH_FROM} where m.id = %s{for_update(lock)}", (match_id,)
    )
    return None if row is None else _with_parts(conn, [row])[0]


def insert_match(
    conn: Conn,
    *,
    tenant_id: UUID,
    statement_line_id: UUID,
    method: str,
    score: int | None,
    reason: str,
    difference_cents: int,
    items: Sequence[tuple[UUID | None, UUID | None, int]],
    lines: Sequence[tuple[UUID, str, int]],
) -> UUID:
    """A new suggested match with its items ``(bank_file_line_id, charge_id, amount)`` and lines
    ``(statement_line_id, role, amount)``."""
    row = conn.execute(
        "insert into statement_matches (tenant_id, statement_line_id, method, status, score, reason, "
        "difference_cents) values (%s, %s, %s, 'suggested', %s, %s, %s) returning id",
        (tenant_id, statement_line_id, method, score, reason, difference_cents),
    ).fetchone()
    assert row is not None
    match_id: UUID = row[0]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into statement_match_items "
            "(tenant_id, match_id, bank_file_line_id, charge_id, amount_cents) values (%s, %s, %s, %s, %s)",
            [(tenant_id, match_id, line, charge, amount) for line, charge, amount in items],
        )
        cur.executemany(
            "insert into statement_match_lines (tenant_id, match_id, statement_line_id, role, amount_cents) "
            "values (%s, %s, %s, %s, %s)",
            [(tenant_id, match_id, line, role, amount) for line, role, amount in lines],
        )
    return match_id


def confirm(conn: Conn, match_id: UUID, user_id: UUID) -> None:
    conn.execute(
        "update statement_matches set status = 'confirmed', confirmed_by = %s, confirmed_at = now() "
        "where id = %s and status = 'suggested'",
        (user_id, match_id),
    )


def reject(conn: Conn, match_id: UUID, user_id: UUID | None) -> None:
    conn.execute(
        "update statement_matches set status = 'rejected', rejected_by = %s, rejected_at = now() "
        "where id = %s and status = 'suggested'",
        (user_id, match_id),
    )


def withdraw(conn: Conn, match_ids: Sequence[UUID]) -> None:
    """Suggestions no longer made (a person's decision elsewhere, or a later run of the matcher)."""
    if match_ids:
        conn.execute(
            "update statement_matches set status = 'withdrawn', withdrawn_at = now() "
            "where id = any(%s) and status = 'suggested'",
            (list(match_ids),),
        )
