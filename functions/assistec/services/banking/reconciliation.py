"""The reconciliation of the shop's bank statements: the matcher (domain/banking/reconcile.py) run
over what is stored — statement lines against CNAB settlements (bank_file_lines ``settled``) and
Asaas credits (paid charges: the net value on the credit day) —, its output kept as suggestions, a
person's confirmations, rejections and manual matches, and the accountant's report.

Decisions:
- The matcher never confirms. Its matches are stored as ``suggested`` (method ``automatic``, the
  domain's confidence as ``score``, its rule as ``reason``) and count as reconciled automatically in
  the report and the match-rate metric; only a person confirms (the domain keeps "confirmed" for a
  person's decision, and the schema requires who confirmed). A confirmed match is never touched
  again: the matcher takes it as fixed, and the database refuses any change to it (migration 0036).
- A run covers a period: it owns the automatic suggestions whose first credit line is posted in the
  period. It reads the period with a margin on both sides (the matcher's date window), takes every
  other live match (confirmed, or suggested for lines outside the period) as fixed, and brings the
  period's suggestions to what the matcher says now: the same ones are kept as they are, new ones
  written, those it no longer makes marked ``withdrawn`` (never deleted). Re-running with nothing
  new changes nothing. A suggestion a person rejected is not made again (the same items to the same
  lines). Runs, confirmations, rejections and manual matches of one shop are serialized by an
  advisory lock taken in their transaction, and the database keeps one live suggestion per line.
- After a statement or retorno is parsed, the intake has its dates' period run, widened by the
  matcher's reach (``after_intake``);
  a failure there is logged and leaves the file as it is (``POST /banking/reconciliation/run``
  redoes it).
- Asaas credits are one per paid charge (net value, credit date). Asaas transfers that sum several
  charges in one credit are not matched automatically (the domain does one-to-many for boletos
  only); a person matches them by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import reconciliation as db
from assistec.domain.banking.reconcile import (
    ConfirmedMatch,
    ExpectedCredit,
    ExpectedSource,
    MatchReason,
    Reconciliation,
    ReconciliationReport,
    Suggestion,
    build_report,
    reconcile,
)
from assistec.domain.banking.reconcile import Match as DomainMatch
from assistec.domain.banking.report import ReportRow, brl_number, report_csv, report_rows
from assistec.domain.banking.statements import LineKind, StatementLine, line_kind
from assistec.domain.permissions import Permission
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError, found
from assistec.observability import logger, metrics

if TYPE_CHECKING:
    from assistec.domain.tokens import Identity
    from assistec.integrations.storage import DocumentStore
    from assistec.services.audit import Actor
    from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

# The matcher's date window reaches a few business days around a credit date (and a reference up to
# five after): a run reads this many calendar days more on each side of its period.
MARGIN_DAYS = 12
MAX_PERIOD_DAYS = 366
# After a file is read, the run covers its dates and this many days on each side.
INTAKE_REACH_DAYS = 10
LIST_LIMIT = 500
LINK_EXPIRES_S = 5 * 60
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"
METRIC_RATE = "ReconciliationAutoMatchRate"

_NO_MATCH = "Conciliação não encontrada."
_PERIOD = (
    "Período inválido: a data final deve ser igual ou posterior à inicial, o período de até 366 dias, "
    "entre 2000 e 2199."
)
# Bank files and payments of this system's life (and room for the margins' arithmetic).
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def emit_match_rate(rate_bp: int, suggested: int) -> None:
    """The automatic match rate of the period a run covered, as a CloudWatch metric (EMF, flushed by
    the handler's ``log_metrics``), with the number of suggestions it wrote."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=METRIC_RATE, unit=MetricUnit.Percent, value=rate_bp / 100)
    metrics.add_metric(name="ReconciliationSuggestionsWritten", unit=MetricUnit.Count, value=suggested)


# --- ids between the database and the matcher ------------------------------------------------------------


def _settlement_key(line_id: UUID) -> str:
    return f"b:{line_id}"


def _charge_key(charge_id: UUID) -> str:
    return f"c:{charge_id}"


def _split(expected_ids: Iterable[str]) -> tuple[list[UUID], list[UUID]]:
    settlements: list[UUID] = []
    charges: list[UUID] = []
    for key in expected_ids:
        (settlements if key.startswith("b:") else charges).append(UUID(key[2:]))
    return settlements, charges


def _line(row: db.StatementLineRow) -> StatementLine:
    text = row.description or ""
    return StatementLine(
        line_id=str(row.id),
        posted_on=row.posted_on,
        amount_cents=row.amount_cents,
        description=text,
        kind=line_kind(row.amount_cents, text),
        document=row.reference,
    )


def _settlement(row: db.SettlementRow) -> ExpectedCredit:
    return ExpectedCredit(
        expected_id=_settlement_key(row.id),
        source=ExpectedSource.BOLETO,
        amount_cents=row.paid_cents,
        credit_on=row.credit_on,
        reference=str(row.nosso_numero) if row.nosso_numero else "",
        fee_cents=row.fee_cents if 0 <= row.fee_cents < row.paid_cents else 0,
        batch_key=str(row.agreement_id or row.bank_file_id),
    )


def _credit(row: db.AsaasCreditRow) -> ExpectedCredit:
    fee = row.paid_cents - row.net_cents if row.net_cents is not None else 0
    return ExpectedCredit(
        expected_id=_charge_key(row.id),
        source=ExpectedSource.ASAAS,
        amount_cents=row.paid_cents,
        credit_on=row.credit_on,
        reference=row.asaas_payment_id or "",
        fee_cents=fee if 0 <= fee < row.paid_cents else 0,
    )


def _expected_ids(match: db.Match) -> tuple[str, ...]:
    return (
        *(_settlement_key(i) for i in match.settlement_ids),
        *(_charge_key(i) for i in match.charge_ids),
    )


Signature = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _stored_signature(match: db.Match) -> Signature:
    return (
        frozenset(_expected_ids(match)),
        frozenset(str(i) for i in match.credit_line_ids),
        frozenset(str(i) for i in match.fee_line_ids),
    )


def _signature(match: DomainMatch) -> Signature:
    return (frozenset(match.expected_ids), frozenset(match.line_ids), frozenset(match.fee_line_ids))


# --- what a period holds ------------------------------------------------------------------------------


@dataclass
class _Pool:
    timezone: str
    lines: dict[UUID, db.StatementLineRow]
    settlements: dict[UUID, db.SettlementRow]
    credits: dict[UUID, db.AsaasCreditRow]
    live: list[db.Match]
    rejected: list[db.Match]

    def expected(self) -> list[ExpectedCredit]:
        settlements = [_settlement(r) for r in self.settlements.values()]
        return settlements + [_credit(r) for r in self.credits.values()]

    def statement(self) -> list[StatementLine]:
        return [_line(r) for r in self.lines.values()]


def _load(conn: Any, start: date, end: date) -> _Pool:
    """The lines, settlements and Asaas credits of the period and its margins, the live (suggested,
    confirmed) and rejected matches that hold any of them, and whatever else those matches hold."""
    timezone = db.shop_timezone(conn, _tenant(conn))
    low, high = start - timedelta(days=MARGIN_DAYS), end + timedelta(days=MARGIN_DAYS)
    lines = {r.id: r for r in db.statement_lines(conn, low, high)}
    settlements = {r.id: r for r in db.settlements(conn, low, high)}
    credits = {r.id: r for r in db.asaas_credits(conn, low, high, timezone=timezone)}
    touching = {"line_ids": list(lines), "settlement_ids": list(settlements), "charge_ids": list(credits)}
    live = db.live_matches_touching(conn, **touching)
    rejected = db.rejected_touching(conn, **touching)
    missing_lines = {i for m in live for i in (*m.credit_line_ids, *m.fee_line_ids)} - lines.keys()
    lines.update((r.id, r) for r in db.statement_lines_by_id(conn, sorted(missing_lines)))
    missing = {i for m in live for i in m.settlement_ids} - settlements.keys()
    settlements.update((r.id, r) for r in db.settlements_by_id(conn, sorted(missing), settled_only=False))
    missing = {i for m in live for i in m.charge_ids} - credits.keys()
    credits.update((r.id, r) for r in db.asaas_credits_by_id(conn, sorted(missing), timezone=timezone))
    return _Pool(timezone, lines, settlements, credits, live, rejected)


def _tenant(conn: Any) -> UUID:
    row = conn.execute("select nullif(current_setting('app.tenant_id', true), '')::uuid").fetchone()
    assert row is not None
    assert row[0] is not None
    return UUID(str(row[0]))


def _fixed(match: db.Match) -> ConfirmedMatch:
    return ConfirmedMatch(
        expected_ids=_expected_ids(match),
        line_ids=tuple(str(i) for i in match.credit_line_ids),
        fee_line_ids=tuple(str(i) for i in match.fee_line_ids),
    )


# --- results -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunOutcome:
    start: date
    end: date
    created: int
    kept: int
    withdrawn: int
    report: ReconciliationReport


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something a person might match: a stored suggestion (``match_id``) or the matcher's weaker
    candidate, not stored (``match_id`` None)."""

    match_id: UUID | None
    score: int
    reason: str
    statement_line_ids: tuple[UUID, ...]
    bank_file_line_ids: tuple[UUID, ...]
    charge_ids: tuple[UUID, ...]
    difference_cents: int


@dataclass(frozen=True, slots=True)
class OpenLine:
    line: db.StatementLineRow
    kind: str
    suggestions: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class OpenItem:
    source: str  # "boleto" | "asaas"
    id: UUID  # the settlement (bank_file_lines) or the charge
    amount_cents: int
    fee_cents: int
    credit_on: date
    reference: str
    suggestions: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class Unmatched:
    start: date
    end: date
    lines: tuple[OpenLine, ...]
    items: tuple[OpenItem, ...]


@dataclass(frozen=True, slots=True)
class PeriodReport:
    report: ReconciliationReport
    rows: tuple[ReportRow, ...]
    shop_name: str
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class ReportLink:
    url: str
    filename: str
    content_type: str
    expires_at: datetime


# --- the service ---------------------------------------------------------------------------------------


class BankReconciliation:
    """Runs the matcher, keeps its suggestions and people's decisions, reports the period."""

    def __init__(
        self,
        work: UnitsOfWork,
        store: Callable[[], DocumentStore],
        *,
        rate_metric: Callable[[int, int], None] = emit_match_rate,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._work = work
        self._store = store
        self._rate_metric = rate_metric
        self._now = now

    # --- periods ----------------------------------------------------------------------------------------

    def _period(self, uow: UnitOfWork, start: date | None, end: date | None) -> tuple[date, date]:
        """The period asked for; by default the last 30 days to today, the shop's calendar days."""
        refused = ValidationFailedError(
            _PERIOD, details=[{"field": "to", "message": "deve ser de 0 a 365 dias após 'from'"}]
        )
        if any(day is not None and not EARLIEST <= day <= LATEST for day in (start, end)):
            raise refused
        today = datetime.now(ZoneInfo(db.shop_timezone(uow.conn, uow.tenant_id))).date()
        end = end or today
        start = start or max(EARLIEST, end - timedelta(days=30))
        if end < start or (end - start).days >= MAX_PERIOD_DAYS:
            raise refused
        return start, end

    # --- the matcher ------------------------------------------------------------------------------------

    def run(self, identity: Identity, start: date | None, end: date | None) -> RunOutcome:
        """Run the matcher over the period (``POST /banking/reconciliation/run``)."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            first, last = self._period(uow, start, end)
            return self._run(uow, first, last)

    def after_intake(self, actor: Identity | Actor, start: date, end: date) -> RunOutcome | None:
        """The matcher over a file's dates, once its lines are recorded (its own transaction, after
        the file's): None, logged, when it fails (the file stays recorded; a run redoes it)."""
        # A credit may be posted days away from the credit date a retorno states (and a statement's
        # lines may be late credits of earlier settlements): the run covers the matcher's reach too
        start, end = start - timedelta(days=INTAKE_REACH_DAYS), end + timedelta(days=INTAKE_REACH_DAYS)
        try:
            with self._work(actor) as uow:
                return self._run(uow, start, min(end, start + timedelta(days=MAX_PERIOD_DAYS - 1)))
        except Exception:
            logger.exception("reconciliation after a bank file failed")
            return None

    def _run(self, uow: UnitOfWork, start: date, end: date) -> RunOutcome:
        db.lock_shop(uow.conn, uow.tenant_id)
        pool = _load(uow.conn, start, end)

        def owned(match: db.Match) -> bool:
            return (
                match.row.status == "suggested"
                and match.row.method == "automatic"
                and start <= match.row.posted_on <= end
            )

        old = {_stored_signature(m): m for m in pool.live if owned(m)}
        fixed = [_fixed(m) for m in pool.live if not owned(m)]
        result = reconcile(pool.expected(), pool.statement(), fixed)
        refused = {_stored_signature(m)[:2] for m in pool.rejected}
        made: dict[Signature, DomainMatch] = {}
        for match in result.automatic:
            primary = pool.lines[UUID(match.line_ids[0])]
            if start <= primary.posted_on <= end and _signature(match)[:2] not in refused:
                made[_signature(match)] = match
        stale = [m.row.id for sig, m in old.items() if sig not in made]
        db.withdraw(uow.conn, stale)
        created = 0
        for sig, match in made.items():
            if sig not in old:
                self._write(uow, pool, match)
                created += 1
        if created or stale:
            uow.audit(
                "reconcile",
                "bank_reconciliation",
                uow.tenant_id,
                changes={
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "suggested": created,
                    "withdrawn": len(stale),
                },
            )
        report = self._build(uow.conn, start, end).report
        if report.expected_count:
            self._rate_metric(report.auto_match_rate_bp, created)
        logger.info(
            "reconciliation run",
            extra={
                "from": start.isoformat(),
                "to": end.isoformat(),
                "suggestions_written": created,
                "suggestions_withdrawn": len(stale),
                "auto_match_rate_bp": report.auto_match_rate_bp,
            },
        )
        return RunOutcome(start, end, created, len(old) - len(stale), len(stale), report)

    @staticmethod
    def _write(uow: UnitOfWork, pool: _Pool, match: DomainMatch) -> UUID:
        items: list[tuple[UUID | None, UUID | None, int]] = []
        for key in match.expected_ids:
            item_id = UUID(key[2:])
            if key.startswith("b:"):
                items.append((item_id, None, pool.settlements[item_id].paid_cents))
            else:
                items.append((None, item_id, pool.credits[item_id].paid_cents))
        lines = [(UUID(i), "credit", pool.lines[UUID(i)].amount_cents) for i in match.line_ids]
        lines += [(UUID(i), "fee", pool.lines[UUID(i)].amount_cents) for i in match.fee_line_ids]
        return db.insert_match(
            uow.conn,
            tenant_id=uow.tenant_id,
            statement_line_id=UUID(match.line_ids[0]),
            method="automatic",
            score=match.confidence,
            reason=match.reason.value,
            difference_cents=match.difference_cents,
            items=items,
            lines=lines,
        )

    # --- people's decisions -------------------------------------------------------------------------------

    def matches(
        self, identity: Identity, status: str | None, start: date | None, end: date | None
    ) -> list[db.Match]:
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            return db.list_matches(uow.conn, status=status, start=start, end=end, limit=LIST_LIMIT)

    def get(self, identity: Identity, match_id: UUID) -> db.Match:
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            return found(db.get_match(uow.conn, match_id), _NO_MATCH)

    def confirm(self, identity: Identity, match_id: UUID) -> db.Match:
        """A person confirms a suggestion: from now on it never changes. Confirming it again answers
        it as it is; a rejected or withdrawn one, or one whose line or items another confirmed match
        holds, is 409."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            db.lock_shop(uow.conn, uow.tenant_id)
            match = found(db.get_match(uow.conn, match_id), _NO_MATCH)
            if match.row.status == "confirmed":
                return match
            if match.row.status != "suggested":
                raise ConflictError(
                    "Esta sugestão foi rejeitada ou substituída e não pode mais ser confirmada.",
                    details={"status": match.row.status},
                )
            self._refuse_taken(uow, match.credit_line_ids + match.fee_line_ids, match.settlement_ids,
                               match.charge_ids, ignore=match.row.id)  # fmt: skip
            self._withdraw_rivals(uow, match, keep=match.row.id)
            db.confirm(uow.conn, match.row.id, identity.user_id)
            uow.audit("confirm", "statement_match", match.row.id, changes=self._audit_shape(match))
            return found(db.get_match(uow.conn, match_id), _NO_MATCH)

    def reject(self, identity: Identity, match_id: UUID) -> db.Match:
        """A person rejects a suggestion: the matcher will not make it again. Rejecting it again
        answers it as it is; a confirmed match is 409 (it never changes)."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            db.lock_shop(uow.conn, uow.tenant_id)
            match = found(db.get_match(uow.conn, match_id), _NO_MATCH)
            if match.row.status == "rejected":
                return match
            if match.row.status != "suggested":
                raise ConflictError(
                    "Uma conciliação confirmada não pode ser rejeitada."
                    if match.row.status == "confirmed"
                    else "Esta sugestão foi substituída por outra e não pode mais ser rejeitada.",
                    details={"status": match.row.status},
                )
            db.reject(uow.conn, match.row.id, identity.user_id)
            uow.audit("reject", "statement_match", match.row.id, changes=self._audit_shape(match))
            return found(db.get_match(uow.conn, match_id), _NO_MATCH)

    def manual(
        self,
        identity: Identity,
        *,
        statement_line_id: UUID,
        bank_file_line_ids: Sequence[UUID],
        charge_ids: Sequence[UUID],
        fee_line_ids: Sequence[UUID] = (),
        difference_cents: int = 0,
    ) -> db.Match:
        """A person's match of one credit line to settlements and/or Asaas charges (and the tariff
        debits that charge them), confirmed at once. The money is checked: the credit, less the
        tariff debits, against what the items credit (paid less tariffs); a difference must be the
        one declared (``difference_cents``), else 422 with the figures and nothing is written."""
        if not bank_file_line_ids and not charge_ids:
            raise ValidationFailedError(
                "Informe ao menos uma liquidação (bank_file_line_ids) ou cobrança Asaas (charge_ids).",
                details=[{"field": "bank_file_line_ids", "message": "vazio"}],
            )
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            db.lock_shop(uow.conn, uow.tenant_id)
            timezone = db.shop_timezone(uow.conn, uow.tenant_id)
            wanted_lines = [statement_line_id, *fee_line_ids]
            lines = {r.id: r for r in db.statement_lines_by_id(uow.conn, wanted_lines)}
            credit = lines.get(statement_line_id)
            if credit is None:
                raise NotFoundError("Lançamento do extrato não encontrado.")
            if credit.amount_cents <= 0:
                raise ValidationFailedError(
                    "O lançamento escolhido não é um crédito.",
                    details=[{"field": "statement_line_id", "message": "não é um crédito"}],
                )
            fees = [lines.get(i) for i in fee_line_ids]
            if any(f is None for f in fees):
                raise NotFoundError("Lançamento de tarifa do extrato não encontrado.")
            if any(f is not None and f.amount_cents >= 0 for f in fees) or statement_line_id in fee_line_ids:
                raise ValidationFailedError(
                    "As tarifas (fee_line_ids) devem ser débitos do extrato.",
                    details=[{"field": "fee_line_ids", "message": "não é um débito"}],
                )
            settlements = {r.id: r for r in db.settlements_by_id(uow.conn, bank_file_line_ids)}
            unknown = [str(i) for i in bank_file_line_ids if i not in settlements]
            if unknown:
                raise NotFoundError(
                    "Liquidação não encontrada (só liquidações de retorno com valor pago entram).",
                    details={"bank_file_line_ids": unknown},
                )
            credits = {r.id: r for r in db.asaas_credits_by_id(uow.conn, charge_ids, timezone=timezone)}
            unknown = [str(i) for i in charge_ids if i not in credits]
            if unknown:
                raise NotFoundError("Cobrança paga não encontrada.", details={"charge_ids": unknown})
            self._refuse_taken(uow, wanted_lines, list(settlements), list(credits), ignore=None)
            expected = [_settlement(r) for r in settlements.values()] + [_credit(r) for r in credits.values()]
            gross = sum(i.amount_cents for i in expected)
            tariffs = sum(i.fee_cents for i in expected)
            debited = -sum(f.amount_cents for f in fees if f is not None)
            computed = (credit.amount_cents - debited) - (gross - tariffs)
            if computed != difference_cents:
                raise ValidationFailedError(
                    f"A soma não confere: o crédito de R$ {brl_number(credit.amount_cents)}"
                    + (f" menos tarifas de R$ {brl_number(debited)}" if debited else "")
                    + f" contra R$ {brl_number(gross - tariffs)} esperados (R$ {brl_number(gross)} pagos, "
                    f"R$ {brl_number(tariffs)} de tarifas) deixa uma diferença de R$ {brl_number(computed)}. "
                    "Confira os itens, ou informe essa diferença em difference_cents para conciliar assim.",
                    details=[
                        {
                            "field": "difference_cents",
                            "message": "a diferença não confere",
                            "line_cents": credit.amount_cents,
                            "fee_lines_cents": debited,
                            "expected_cents": gross,
                            "fees_cents": tariffs,
                            "difference_cents": computed,
                        }
                    ],
                )
            rivals = db.live_matches_touching(
                uow.conn,
                line_ids=wanted_lines,
                settlement_ids=list(settlements),
                charge_ids=list(credits),
            )
            db.withdraw(uow.conn, [m.row.id for m in rivals if m.row.status == "suggested"])
            match_id = db.insert_match(
                uow.conn,
                tenant_id=uow.tenant_id,
                statement_line_id=statement_line_id,
                method="manual",
                score=None,
                reason="manual",
                difference_cents=computed,
                items=[(r.id, None, r.paid_cents) for r in settlements.values()]
                + [(None, r.id, r.paid_cents) for r in credits.values()],
                lines=[(credit.id, "credit", credit.amount_cents)]
                + [(f.id, "fee", f.amount_cents) for f in fees if f is not None],
            )
            db.confirm(uow.conn, match_id, identity.user_id)
            match = found(db.get_match(uow.conn, match_id), _NO_MATCH)
            uow.audit("create", "statement_match", match_id, changes=self._audit_shape(match))
            return match

    @staticmethod
    def _refuse_taken(
        uow: UnitOfWork,
        line_ids: Sequence[UUID],
        settlement_ids: Sequence[UUID],
        charge_ids: Sequence[UUID],
        *,
        ignore: UUID | None,
    ) -> None:
        taken = [
            m
            for m in db.live_matches_touching(
                uow.conn, line_ids=line_ids, settlement_ids=settlement_ids, charge_ids=charge_ids
            )
            if m.row.status == "confirmed" and m.row.id != ignore
        ]
        if taken:
            raise ConflictError(
                "Parte destes lançamentos ou recebimentos já está numa conciliação confirmada.",
                details={"confirmed_match_ids": [str(m.row.id) for m in taken]},
            )

    @staticmethod
    def _withdraw_rivals(uow: UnitOfWork, match: db.Match, *, keep: UUID) -> None:
        rivals = db.live_matches_touching(
            uow.conn,
            line_ids=[*match.credit_line_ids, *match.fee_line_ids],
            settlement_ids=match.settlement_ids,
            charge_ids=match.charge_ids,
        )
        db.withdraw(uow.conn, [m.row.id for m in rivals if m.row.status == "suggested" and m.row.id != keep])

    @staticmethod
    def _audit_shape(match: db.Match) -> dict[str, Any]:
        return {
            "method": match.row.method,
            "reason": match.row.reason,
            "statement_line_ids": [str(i) for i in match.credit_line_ids],
            "fee_line_ids": [str(i) for i in match.fee_line_ids],
            "bank_file_line_ids": [str(i) for i in match.settlement_ids],
            "charge_ids": [str(i) for i in match.charge_ids],
            "difference_cents": match.row.difference_cents,
        }

    # --- what a person still has to look at -----------------------------------------------------------

    def unmatched(self, identity: Identity, start: date | None, end: date | None) -> Unmatched:
        """The period's credit and tariff lines and its expected credits (settlements, Asaas) that no
        confirmed match holds, each with its suggestions: the stored one the matcher made, else the
        matcher's candidates for a person (scored, not stored)."""
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            first, last = self._period(uow, start, end)
            pool = _load(uow.conn, first, last)
        live = pool.live
        confirmed = [m for m in live if m.row.status == "confirmed"]
        fresh = reconcile(pool.expected(), pool.statement(), [_fixed(m) for m in live])
        taken_lines = {i for m in confirmed for i in (*m.credit_line_ids, *m.fee_line_ids)}
        taken_items = {k for m in confirmed for k in _expected_ids(m)}
        stored_by_line: dict[str, list[Candidate]] = {}
        stored_by_item: dict[str, list[Candidate]] = {}
        for m in live:
            if m.row.status != "suggested":
                continue
            candidate = Candidate(
                m.row.id, m.row.score or 0, m.row.reason or "", (*m.credit_line_ids, *m.fee_line_ids),
                m.settlement_ids, m.charge_ids, m.row.difference_cents,
            )  # fmt: skip
            for i in (*m.credit_line_ids, *m.fee_line_ids):
                stored_by_line.setdefault(str(i), []).append(candidate)
            for key in _expected_ids(m):
                stored_by_item.setdefault(key, []).append(candidate)

        def candidates(suggestions: Sequence[Suggestion]) -> tuple[Candidate, ...]:
            out = []
            for s in suggestions:
                settlements, charges = _split(s.expected_ids)
                lines = tuple(UUID(i) for i in s.line_ids)
                out.append(
                    Candidate(
                        None, s.score, s.reason, lines, tuple(settlements), tuple(charges), s.difference_cents
                    )
                )
            return tuple(out)

        # What the matcher would make now and nobody stored (no run since, or a person rejected it):
        # offered as a candidate, unless a person rejected exactly that
        refused = {_stored_signature(m)[:2] for m in pool.rejected}
        for match in fresh.automatic:
            if _signature(match)[:2] in refused:
                continue
            settlements, charges = _split(match.expected_ids)
            candidate = Candidate(
                None, match.confidence, match.reason.value,
                tuple(UUID(i) for i in (*match.line_ids, *match.fee_line_ids)), tuple(settlements),
                tuple(charges), match.difference_cents,
            )  # fmt: skip
            for line_id in (*match.line_ids, *match.fee_line_ids):
                stored_by_line.setdefault(line_id, []).append(candidate)
            for key in match.expected_ids:
                stored_by_item.setdefault(key, []).append(candidate)

        lines = []
        for row in sorted(pool.lines.values(), key=lambda r: (r.posted_on, r.amount_cents, r.id)):
            kind = line_kind(row.amount_cents, row.description or "")
            if not first <= row.posted_on <= last or kind is LineKind.DEBIT or str(row.id) in taken_lines:
                continue
            key = str(row.id)
            found_here = stored_by_line.get(key) or candidates(fresh.suggestions_for_line.get(key, ()))
            lines.append(OpenLine(row, kind.value, tuple(found_here)))
        items = []
        for item in sorted(pool.expected(), key=lambda i: (i.credit_on, i.amount_cents, i.expected_id)):
            if not first <= item.credit_on <= last or item.expected_id in taken_items:
                continue
            key = item.expected_id
            found_here = stored_by_item.get(key) or candidates(fresh.suggestions_for_expected.get(key, ()))
            items.append(
                OpenItem(
                    source=item.source.value,
                    id=UUID(key[2:]),
                    amount_cents=item.amount_cents,
                    fee_cents=item.fee_cents,
                    credit_on=item.credit_on,
                    reference=item.reference,
                    suggestions=tuple(found_here),
                )
            )
        return Unmatched(first, last, tuple(lines), tuple(items))

    # --- the report -------------------------------------------------------------------------------------

    def report(self, identity: Identity, start: date | None, end: date | None) -> PeriodReport:
        with self._work(identity, Permission.BANKING_MANAGE) as uow:
            first, last = self._period(uow, start, end)
            return self._build(uow.conn, first, last)

    def _build(self, conn: Any, start: date, end: date) -> PeriodReport:
        """The period's report from what is stored: the live matches (a person's confirmed ones, the
        matcher's suggested ones), what no live match holds, and for that the matcher's candidates.
        The automatic rate counts the items the matcher matched, confirmed since by a person or not."""
        pool = _load(conn, start, end)
        live = pool.live
        expected = pool.expected()
        by_expected = {i.expected_id: i for i in expected}
        statement = pool.statement()
        by_line = {line.line_id: line for line in statement}
        fresh = reconcile(expected, statement, [_fixed(m) for m in live])
        matches = [self._domain_match(m, by_expected, by_line) for m in live]
        held_items = {k for m in live for k in _expected_ids(m)}
        held_lines = {str(i) for m in live for i in (*m.credit_line_ids, *m.fee_line_ids)}
        result = Reconciliation(
            matches=tuple(matches),
            unmatched_expected=tuple(i for i in fresh.unmatched_expected if i.expected_id not in held_items)
            + tuple(by_expected[k] for m in fresh.automatic for k in m.expected_ids if k not in held_items),
            unmatched_lines=tuple(
                line
                for line in statement
                if line.kind is not LineKind.DEBIT and line.line_id not in held_lines
            ),
            suggestions_for_expected=fresh.suggestions_for_expected,
            suggestions_for_line=fresh.suggestions_for_line,
            expected_by_id=by_expected,
            lines_by_id=by_line,
        )
        report = build_report(result, start, end)
        by_machine = {
            k for m in live if m.row.method == "automatic" for k in _expected_ids(m) if k in by_expected
        }
        auto = sum(1 for k in by_machine if start <= by_expected[k].credit_on <= end)
        count = report.expected_count
        report = dataclasses.replace(
            report, auto_matched_count=auto, auto_match_rate_bp=auto * 10_000 // count if count else 10_000
        )
        row = conn.execute("select name from tenants where id = %s", (_tenant(conn),)).fetchone()
        return PeriodReport(
            report=report,
            rows=tuple(report_rows(result, start, end)),
            shop_name=str(row[0]) if row else "",
            generated_at=self._now().astimezone(ZoneInfo(pool.timezone)),
        )

    @staticmethod
    def _domain_match(
        match: db.Match, expected: dict[str, ExpectedCredit], lines: dict[str, StatementLine]
    ) -> DomainMatch:
        keys = _expected_ids(match)
        items = [expected[k] for k in keys if k in expected]
        credit_ids = tuple(str(i) for i in match.credit_line_ids)
        fee_ids = tuple(str(i) for i in match.fee_line_ids)
        confirmed = match.row.status == "confirmed"
        try:
            reason = MatchReason(match.row.reason or "")
        except ValueError:
            reason = MatchReason.CONFIRMED
        return DomainMatch(
            expected_ids=keys,
            line_ids=credit_ids,
            fee_line_ids=fee_ids,
            reason=MatchReason.CONFIRMED if confirmed else reason,
            confidence=100 if confirmed else match.row.score or 0,
            expected_cents=sum(i.amount_cents for i in items),
            fees_cents=sum(i.fee_cents for i in items),
            line_cents=sum(lines[i].amount_cents for i in credit_ids if i in lines),
            fee_lines_cents=-sum(lines[i].amount_cents for i in fee_ids if i in lines),
            confirmed=confirmed,
        )

    def report_file(self, identity: Identity, start: date | None, end: date | None, fmt: str) -> ReportLink:
        """The report as CSV (pt-BR spreadsheet: ``;``, UTF-8 with BOM) or PDF, stored in S3 under its
        content's hash and handed out as a link valid ``LINK_EXPIRES_S`` (no transaction is open
        while S3 is written)."""
        period = self.report(identity, start, end)
        report = period.report
        stem = f"conciliacao-{report.start:%Y%m%d}-{report.end:%Y%m%d}"
        if fmt == "csv":
            data = ("\ufeff" + report_csv(list(period.rows), report)).encode("utf-8")
            content_type, name = CSV, f"{stem}.csv"
        else:
            from assistec.services.documents.reconciliation_pdf import render_reconciliation_pdf

            data = render_reconciliation_pdf(
                period.shop_name, report, list(period.rows), generated_at=period.generated_at
            )
            content_type, name = PDF, f"{stem}.pdf"
        digest = hashlib.sha256(data).hexdigest()[:32]
        # Under the rendered documents' prefix: the API may write and sign it, and the bucket's rule
        # expires it (documents are made again on demand)
        key = f"documents/{identity.tenant_id}/reconciliation/{digest}/{name}"
        store = self._store()
        store.put(key, data, content_type=content_type, filename=name)
        url = store.download_url(key, expires_s=LINK_EXPIRES_S, filename=name, content_type=content_type)
        return ReportLink(url, name, content_type, self._now() + timedelta(seconds=LINK_EXPIRES_S))
