"""The shops' subscription to assistec: billing status from the invoices, and the dunning schedule.

Pure rules, no I/O: the billing service feeds them what the database and Asaas say.

- No invoice overdue: ``active`` once any invoice was paid (refunded ones count), ``trial`` before.
- An invoice unpaid after its due date: ``past_due`` from the day after; ``suspended`` once the
  oldest unpaid one is more than the plan's grace days late. Paying it brings the shop back.
- ``cancelled`` is final here (only a person reopens a cancelled shop: the ops console's reopen,
  after which the invoices decide again, ``standing``).
- A trial that ends without an Asaas subscription (provisioning refused, or not done yet) does not
  go on: the shop owes as if its first invoice fell due on the trial's last day (``trial_ended``),
  and follows the same past due -> suspended path, with the same e-mails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from assistec.domain.payments import state_of

STATUSES = ("trial", "active", "past_due", "suspended", "cancelled")
LABELS_PT = {
    "trial": "Período de teste",
    "active": "Ativa",
    "past_due": "Pagamento em atraso",
    "suspended": "Suspensa por falta de pagamento",
    "cancelled": "Cancelada",
}
# Shops in these states are refused by the API (402) outside the routes that let them pay.
BLOCKED = frozenset({"suspended", "cancelled"})

# Dunning: which notice goes out how many days after the due date. One e-mail per run at most:
# a run that was missed does not send the skipped steps in a burst, only the latest one due.
NOTICE_DAYS = (("first", 1), ("second", 3), ("final", 7))


@dataclass(frozen=True, slots=True)
class Invoice:
    payment_id: str
    due_date: date
    status: str  # pending, overdue, paid, refunded, cancelled


def invoice_status(payment: dict[str, object]) -> str:
    """An Asaas payment of the platform account as an invoice state. A chargeback takes the money
    back: the invoice is unpaid again. A refund in progress is still paid until Asaas says refunded."""
    state = state_of(payment)
    if state == "refunding":
        return "paid"
    return "overdue" if state == "chargeback" else state


# The stand-in invoice of a trial that ended without a subscription (``trial_ended``): its id (the
# key its notices are recorded under) and the Asaas status it carries.
TRIAL_ENDED = "TRIAL_ENDED"


def trial_ended_id(trial_ends_on: date) -> str:
    return f"trial-ended:{trial_ends_on.isoformat()}"


def trial_ended(trial_ends_on: date, *, provisioned: bool, cancelled: bool, today: date) -> Invoice | None:
    """What a shop without an Asaas subscription owes once its trial is over: an invoice overdue since
    the trial's last day; None while the trial runs, once provisioned, or when cancelled."""
    if provisioned or cancelled or today <= trial_ends_on:
        return None
    return Invoice(trial_ended_id(trial_ends_on), trial_ends_on, "overdue")


def unpaid(invoice: Invoice) -> bool:
    return invoice.status in ("pending", "overdue")


def oldest_overdue(invoices: Iterable[Invoice], today: date) -> date | None:
    """The due date of the oldest invoice still unpaid after its due date."""
    late = [i.due_date for i in invoices if unpaid(i) and i.due_date < today]
    return min(late) if late else None


def status_for(current: str, invoices: Iterable[Invoice], *, today: date, grace_days: int) -> str:
    if current == "cancelled":
        return "cancelled"
    return standing(invoices, today=today, grace_days=grace_days)


def standing(invoices: Iterable[Invoice], *, today: date, grace_days: int) -> str:
    """What the invoices make a shop that is not cancelled (or one support is reopening)."""
    invoices = list(invoices)
    since = oldest_overdue(invoices, today)
    if since is not None:
        return "suspended" if (today - since).days > grace_days else "past_due"
    # A refunded invoice was paid and given back by the platform (a goodwill refund): not owed, and
    # the shop is a paying one.
    return "active" if any(i.status in ("paid", "refunded") for i in invoices) else "trial"


def notice_due(days_late: int, sent: set[str], *, grace_days: int) -> str | None:
    """The dunning step to send now for an invoice ``days_late`` days past its due date, given the
    steps already sent for it; None when nothing is due. Steps only go forward."""
    order = [step for step, _ in NOTICE_DAYS] + ["suspended"]
    reached = [step for step, day in NOTICE_DAYS if days_late >= day]
    if days_late > grace_days:
        reached.append("suspended")
    if not reached:
        return None
    latest = reached[-1]
    if any(order.index(s) >= order.index(latest) for s in sent if s in order):
        return None
    return latest
