"""The hourly reconciliation: every shop's charges compared with Asaas (the ledger), and what a lost
webhook left behind repaired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from assistec.db import payments as pay_db
from assistec.db.rows import ChargeRow, PaymentAccountRow
from assistec.domain import payments as payment_rules
from assistec.integrations.asaas import AsaasError
from assistec.observability import logger
from assistec.services.audit import PublicActor
from assistec.services.payments.charges import PaymentsService
from assistec.services.payments.state import OPEN, Resume, apply_state, resume_flow
from assistec.services.unit_of_work import UnitsOfWork

_PAGE = 100


@dataclass
class ReconcileReport:
    shops: int = 0
    checked: int = 0
    mismatches: int = 0
    repaired: int = 0
    errors: int = 0


class Reconciliation:
    """Compares each shop's charges with Asaas and applies Asaas's state where they differ."""

    def __init__(self, work: UnitsOfWork, payments: PaymentsService, resume: Resume | None = None) -> None:
        self._work = work
        self._payments = payments
        self._resume = resume

    def run(self, *, window_days: int = 3, only: list[UUID] | None = None) -> ReconcileReport:
        """Reconcile every shop with an account (``only``: these shops, ops reconciling one by hand).

        Asaas's side: our open charges and those changed within the window, read one by one, and
        the payments Asaas says were paid within the window (paginated) that carry our reference.
        Each difference is recorded as a mismatch and applied as Asaas has it (audited as the
        reconciliation, its event published after commit, a waiting flow resumed), except a
        settled charge gone from Asaas: reported for people, never "repaired". One shop's trouble
        (Asaas down, key revoked) is counted in ``errors`` and never stops the others."""
        report = ReconcileReport()
        with self._work.db.transaction() as conn:
            shops = [t for t in pay_db.shops_with_accounts(conn) if only is None or t in only]
        since = (datetime.now(UTC) - timedelta(days=window_days)).date().isoformat()
        for tenant_id in shops:
            report.shops += 1
            try:
                self._shop(tenant_id, report, window_days=window_days, since=since)
            except Exception:
                report.errors += 1
                logger.exception("reconciliation failed for a shop", extra={"tenant_id": str(tenant_id)})
        return report

    def _shop(self, tenant_id: UUID, report: ReconcileReport, *, window_days: int, since: str) -> None:
        actor = PublicActor(tenant_id=tenant_id, label="Reconciliação")
        with self._work(actor) as uow:
            account = pay_db.get_account(uow.conn)
            charges = pay_db.charges_to_check(uow.conn, window_days=window_days)
        assert account is not None
        remote = self._remote(tenant_id, account, charges, since=since)
        report.checked += len(remote)
        to_resume: list[ChargeRow] = []
        with self._work(actor) as uow:
            for payment_id, payment in remote.items():
                local = pay_db.charge_by_payment(uow.conn, payment_id, lock=True)
                want = payment_rules.state_of(payment)
                if local is not None and local.status == want:
                    continue
                report.mismatches += 1
                repair = local is not None and not payment.get("_settled_locally")
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
                pay_db.record_mismatch(
                    uow.conn,
                    tenant_id=tenant_id,
                    charge_id=local.id if local else None,
                    asaas_payment_id=payment_id,
                    local_status=local.status if local else None,
                    remote_status=str(payment.get("status") or "DELETED"),
                    repaired=repair,
                )
        for row in to_resume:
            resume_flow(row, self._resume)

    def _remote(
        self, tenant_id: UUID, account: PaymentAccountRow, charges: list[ChargeRow], *, since: str
    ) -> dict[str, dict[str, Any]]:
        """Asaas's payments to compare, by id: each charge to check, then the paid ones of ours."""
        remote: dict[str, dict[str, Any]] = {}
        client = self._payments.client_for(tenant_id, account)
        for charge in charges:
            assert charge.asaas_payment_id is not None
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
                    "_settled_locally": charge.status not in OPEN,
                }
        offset = 0
        while True:
            page = client.list_payments(**{"paymentDate[ge]": since, "limit": _PAGE, "offset": offset})
            for payment in page.get("data") or []:
                if str(payment.get("externalReference") or "").startswith("assistec:"):
                    remote.setdefault(str(payment["id"]), payment)
            if not page.get("hasMore"):
                break
            offset += _PAGE
        return remote
