"""The hourly reconciliation: every shop's charges compared with Asaas (the ledger), and what a lost
webhook left behind repaired."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from assistec.db import payments as pay_db
from assistec.db.rows import ChargeRow, PaymentAccountRow
from assistec.domain import payments as payment_rules
from assistec.integrations.asaas import BUDGET_S, AsaasError
from assistec.integrations.queue import ShopQueue
from assistec.observability import logger
from assistec.services.audit import PublicActor
from assistec.services.payments.charges import PaymentsService
from assistec.services.payments.state import OPEN, Resume, apply_state, resume_flow
from assistec.services.unit_of_work import UnitsOfWork

_PAGE = 100
# A shop reconciled this recently is skipped by the worker (a duplicate message, two fan-outs
# overlapping) and left out of the fan-out (it is not due yet).
RECENT_S = 45 * 60
FAN_OUT_LIMIT = 100_000
# What the write at the end of a shop may take (one transaction over the shop's differences).
_WRITE_S = 10.0  # shops enqueued per fan-out; the oldest-reconciled first


@dataclass
class ReconcileReport:
    shops: int = 0
    checked: int = 0
    mismatches: int = 0  # differences found this run for the first time (repaired or not)
    repaired: int = 0
    errors: int = 0
    still_open: int = 0  # unrepaired differences already recorded by an earlier run (not again)
    skipped: int = 0  # shops reconciled recently (a duplicate message)
    partial: int = 0  # shops cut short by the time budget (first in line next time)


class Reconciliation:
    """Compares each shop's charges with Asaas and applies Asaas's state where they differ.

    Scales past one invocation: ``fan_out`` (the hourly rule) enqueues one message per shop, the
    shops reconciled longest ago first, and ``shop`` (the queue's worker) reconciles one shop and
    records when. A failed shop is retried by the queue alone; a fan-out cut short leaves the
    shops it did not reach first in line for the next one. No transaction is open while Asaas is
    read: each shop is read, then Asaas is asked, then the differences are written in one short
    transaction that re-reads each charge under lock."""

    def __init__(self, work: UnitsOfWork, payments: PaymentsService, resume: Resume | None = None) -> None:
        self._work = work
        self._payments = payments
        self._resume = resume

    def fan_out(self, queue: ShopQueue, *, limit: int = FAN_OUT_LIMIT) -> int:
        """Enqueue the shops due (not reconciled within ``RECENT_S``), those reconciled longest ago
        (never first) first; how many."""
        with self._work.db.transaction() as conn:
            shops = pay_db.shops_to_reconcile(conn, not_since_s=RECENT_S, limit=limit)
        queue.send_shops(shops)
        return len(shops)

    def run(self, *, window_days: int = 3, only: list[UUID] | None = None) -> ReconcileReport:
        """Reconcile every shop with an account in this process (``only``: these shops, ops
        reconciling by hand). The deployed schedule fans out instead (``fan_out`` + ``shop``).

        Asaas's side: our open charges and those changed within the window, read one by one, and
        the payments Asaas says were paid within the window (paginated) that carry our reference.
        Each difference is recorded as a mismatch and applied as Asaas has it (audited as the
        reconciliation, its event published after commit, a waiting flow resumed), except a
        settled charge gone from Asaas: reported for people, never "repaired". One shop's trouble
        (Asaas down, key revoked) is counted in ``errors`` and never stops the others."""
        report = ReconcileReport()
        with self._work.db.transaction() as conn:
            shops = [t for t in pay_db.shops_with_accounts(conn) if only is None or t in only]
        for tenant_id in shops:
            try:
                self._shop(tenant_id, report, window_days=window_days, time_left=None)
            except Exception:
                report.errors += 1
                logger.exception("reconciliation failed for a shop", extra={"tenant_id": str(tenant_id)})
        return report

    def shop(
        self,
        tenant_id: UUID,
        *,
        window_days: int = 3,
        time_left: Callable[[], float] | None = None,
        recent_s: int = RECENT_S,
    ) -> ReconcileReport:
        """Reconcile one shop (the fan-out's message) and record when; raises on what a retry may
        fix (Asaas unavailable), so the queue tries again. A shop reconciled within ``recent_s`` is
        skipped. ``time_left`` (seconds) stops reading Asaas when less than one call's worst case
        is left: what was read is applied and the shop stays first in line for the next run."""
        report = ReconcileReport()
        with self._work(_actor(tenant_id)) as uow:
            recent = recent_s > 0 and pay_db.reconciled_within(uow.conn, recent_s)
        if recent:
            report.skipped += 1
            return report
        self._shop(tenant_id, report, window_days=window_days, time_left=time_left)
        return report

    def _shop(
        self,
        tenant_id: UUID,
        report: ReconcileReport,
        *,
        window_days: int,
        time_left: Callable[[], float] | None,
    ) -> None:
        since = (datetime.now(UTC) - timedelta(days=window_days)).date().isoformat()
        report.shops += 1
        # 1. Read (short transaction): the account and the charges to compare.
        with self._work(_actor(tenant_id)) as uow:
            account = pay_db.get_account(uow.conn)
            charges = pay_db.charges_to_check(uow.conn, window_days=window_days)
        if account is None:
            return  # disconnected since the fan-out
        # 2. Call: Asaas, with nothing open.
        remote, complete = self._remote(tenant_id, account, charges, since=since, time_left=time_left)
        report.checked += len(remote)
        if not complete:
            report.partial += 1
        # 3. Write (short transaction): each charge re-read under lock, what differs applied.
        to_resume: list[ChargeRow] = []
        with self._work(_actor(tenant_id)) as uow:
            for payment_id, payment in remote.items():
                local = pay_db.charge_by_payment(uow.conn, payment_id, lock=True)
                want = payment_rules.state_of(payment)
                if local is not None and local.status == want:
                    continue
                # A charge settled here and gone from Asaas is reported, never "repaired" (read
                # again under the lock: it may have moved since Asaas was asked)
                settled_and_gone = payment.get("status") == "NOT_FOUND" and (
                    local is None or local.status not in OPEN
                )
                repair = local is not None and not settled_and_gone
                if local is not None and repair:
                    repaired, _ = apply_state(
                        uow,
                        local,
                        want,
                        asaas_status=str(payment.get("status") or "DELETED"),
                        payment=payment,
                    )
                    report.repaired += 1
                    to_resume.append(repaired)
                new = pay_db.record_mismatch(
                    uow.conn,
                    tenant_id=tenant_id,
                    charge_id=local.id if local else None,
                    asaas_payment_id=payment_id,
                    local_status=local.status if local else None,
                    remote_status=str(payment.get("status") or "DELETED"),
                    repaired=repair,
                )
                if new:
                    report.mismatches += 1
                else:
                    report.still_open += 1
            if complete:
                pay_db.mark_reconciled(uow.conn)
        for row in to_resume:
            resume_flow(row, self._resume)

    def _remote(
        self,
        tenant_id: UUID,
        account: PaymentAccountRow,
        charges: list[ChargeRow],
        *,
        since: str,
        time_left: Callable[[], float] | None,
    ) -> tuple[dict[str, dict[str, Any]], bool]:
        """Asaas's payments to compare, by id: each charge to check, then the paid ones of ours;
        and whether all were read (False: the time budget ran out first)."""

        def out_of_time() -> bool:
            return time_left is not None and time_left() < BUDGET_S + _WRITE_S

        remote: dict[str, dict[str, Any]] = {}
        client = self._payments.client_for(tenant_id, account)
        for charge in charges:
            assert charge.asaas_payment_id is not None
            if out_of_time():
                return remote, False
            try:
                remote[charge.asaas_payment_id] = client.get_payment(charge.asaas_payment_id)
            except AsaasError as exc:
                if exc.status != 404:
                    raise
                # Gone from Asaas: an open charge was deleted there; a settled one going
                # missing is an anomaly for people to look at, never "repaired".
                remote[charge.asaas_payment_id] = {
                    "id": charge.asaas_payment_id,
                    "deleted": True,
                    "status": "NOT_FOUND",
                }
        offset = 0
        while True:
            if out_of_time():
                return remote, False
            page = client.list_payments(**{"paymentDate[ge]": since, "limit": _PAGE, "offset": offset})
            for payment in page.get("data") or []:
                if str(payment.get("externalReference") or "").startswith("assistec:"):
                    remote.setdefault(str(payment["id"]), payment)
            if not page.get("hasMore"):
                break
            offset += _PAGE
        return remote, True


def _actor(tenant_id: UUID) -> PublicActor:
    return PublicActor(tenant_id=tenant_id, label="Reconciliação")
