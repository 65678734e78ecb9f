"""The daily run over the shops' subscriptions: provision what signup could not, re-read from Asaas
the subscriptions whose invoices are late (a lost webhook cannot leave a shop suspended or free), move
each shop's status, and e-mail the owner on the escalation schedule (domain/billing.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db import billing as bill_db
from assistec.domain import billing as billing_rules
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import PlatformAsaas, calendar
from assistec.services.billing.invoices import fetch_remote, write_remote
from assistec.services.billing.standing import Notices, owed_invoices, refresh_status

if TYPE_CHECKING:
    from assistec.services.billing.provisioning import Provisioning
    from assistec.services.unit_of_work import UnitsOfWork


@dataclass
class DunningReport:
    shops: int = 0
    provisioned: int = 0
    provisioning_refused: int = 0  # shops Asaas refused to subscribe (their data): ops' business
    synced: int = 0
    notices: int = 0
    past_due: int = 0
    suspended: int = 0
    reactivated: int = 0
    errors: int = 0


class Dunning:
    """The daily run. Each shop is its own unit of work: one failing (Asaas down, a notice not sent)
    is counted and rolled back without stopping the others, and its notice goes out on a later run.
    A shop gets at most one e-mail a day, and each notice once per invoice."""

    def __init__(
        self,
        work: UnitsOfWork,
        platform: PlatformAsaas,
        provisioning: Provisioning,
        notices: Notices,
        *,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._work = work
        self._platform = platform
        self._provisioning = provisioning
        self._notices = notices
        self._today = calendar(today)

    def run(self, *, page: int = 200, only: list[UUID] | None = None) -> DunningReport:
        """Visit every shop with a subscription (or just ``only``), in pages of ``page``; the counts."""
        report = DunningReport()
        after: UUID | None = None
        while True:
            if only is not None:
                shops, only = only, []
            else:
                with self._work.db.transaction() as conn:
                    bill_db.as_billing(conn)
                    shops = bill_db.shops_to_visit(conn, after=after, limit=page)
            if not shops:
                break
            for tenant_id in shops:
                report.shops += 1
                try:
                    self._dun_shop(tenant_id, report)
                except Exception:
                    report.errors += 1
                    logger.exception("dunning failed for a shop", extra={"shop": str(tenant_id)})
            after = shops[-1]
        logger.info("dunning", extra=asdict(report))
        return report

    def _dun_shop(self, tenant_id: UUID, report: DunningReport) -> None:
        """One shop: provision it if it never was; re-read Asaas where a lost webhook would matter,
        move its status, and send the oldest late invoice's notice due today. A shop still without
        a subscription (Asaas refused its data) is not left in trial: once the trial is over it owes
        as if its first invoice fell due on the trial's last day (same path, same e-mails)."""
        actor = SystemActor(tenant_id)
        with self._work(actor) as uow:
            sub = bill_db.subscription(uow.conn)
        if sub is None:
            return
        if sub.asaas_subscription_id is None and sub.cancelled_at is None:
            outcome = self._provisioning.provision(tenant_id)
            if outcome == "provisioned":
                report.provisioned += 1
                return
            if outcome == "refused":
                report.provisioning_refused += 1
        today = self._today()
        with self._work(actor) as uow:
            sub = bill_db.subscription(uow.conn)
            assert sub is not None
            open_invoices = bill_db.open_invoices(uow.conn)
        # Ask Asaas only where a lost webhook would matter: something late, or no invoice for a
        # cycle that has started; with no transaction open while it answers.
        late = any(i.due_date < today for i in open_invoices)
        cycle_started = not open_invoices and (sub.next_due_date is None or sub.next_due_date <= today)
        stale = late or cycle_started or sub.billing_status in ("past_due", "suspended")
        remote = None
        if stale and sub.asaas_subscription_id is not None and sub.cancelled_at is None:
            remote = fetch_remote(self._platform.client(), sub.asaas_subscription_id)
        with self._work(actor) as uow:
            sub = bill_db.subscription(uow.conn, lock=True)
            assert sub is not None
            if remote is not None:
                write_remote(uow, remote)
                report.synced += 1
            before, after = refresh_status(uow, today=today)
            if after == "suspended" and before != "suspended":
                report.suspended += 1
            if before in ("past_due", "suspended") and after in ("active", "trial"):
                report.reactivated += 1
            if after == "past_due":
                report.past_due += 1
            for invoice in owed_invoices(uow, today=today) if after != "cancelled" else []:
                days_late = (today - invoice.due_date).days
                step = billing_rules.notice_due(
                    days_late,
                    bill_db.notices_sent(uow.conn, invoice.asaas_payment_id),
                    grace_days=sub.grace_days,
                )
                if step == "suspended" and after != "suspended":
                    step = None
                if step is not None and self._notices.send(uow, step, invoice, today=today):
                    report.notices += 1
                break  # the oldest late invoice speaks for the shop: one e-mail a day at most
