"""Charge states and how Asaas's payment statuses and webhook events move them. Pure data.

A charge being refunded (``refunding``) still counts as received: it is neither open (no cancel, no
second charge in its place) nor refundable again, until Asaas says REFUNDED."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PAID = frozenset({"RECEIVED", "CONFIRMED", "RECEIVED_IN_CASH", "DUNNING_RECEIVED"})
CHARGEBACK = frozenset({"CHARGEBACK_REQUESTED", "CHARGEBACK_DISPUTE", "AWAITING_CHARGEBACK_REVERSAL"})
OVERDUE = frozenset({"OVERDUE", "DUNNING_REQUESTED"})
REFUNDED = frozenset({"REFUNDED"})
# A refund asked for but not done yet: the money is still the shop's until Asaas says REFUNDED.
REFUNDING = frozenset({"REFUND_REQUESTED", "REFUND_IN_PROGRESS"})

# The events assistec acts on; any other is stored and marked ignored.
KNOWN_EVENTS = frozenset(
    {
        "PAYMENT_CREATED",
        "PAYMENT_UPDATED",
        "PAYMENT_CONFIRMED",
        "PAYMENT_RECEIVED",
        "PAYMENT_RECEIVED_IN_CASH",
        "PAYMENT_RECEIVED_IN_CASH_UNDONE",
        "PAYMENT_OVERDUE",
        "PAYMENT_DELETED",
        "PAYMENT_RESTORED",
        "PAYMENT_REFUNDED",
        "PAYMENT_PARTIALLY_REFUNDED",
        "PAYMENT_REFUND_IN_PROGRESS",
        "PAYMENT_CHARGEBACK_REQUESTED",
        "PAYMENT_CHARGEBACK_DISPUTE",
        "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
        "PAYMENT_DUNNING_RECEIVED",
        "PAYMENT_DUNNING_REQUESTED",
    }
)

LABELS_PT = {
    "pending": "Aguardando pagamento",
    "overdue": "Vencida",
    "paid": "Paga",
    "refunding": "Estorno em andamento",
    "refunded": "Estornada",
    "chargeback": "Contestada (chargeback)",
    "cancelled": "Cancelada",
}


def state_of(payment: dict[str, object]) -> str:
    """Our state for an Asaas payment object."""
    if payment.get("deleted"):
        return "cancelled"
    status = str(payment.get("status") or "")
    if status in PAID:
        return "paid"
    if status in REFUNDING:
        return "refunding"
    if status in REFUNDED:
        return "refunded"
    if status in CHARGEBACK:
        return "chargeback"
    if status in OVERDUE:
        return "overdue"
    return "pending"


def cents(value: object) -> int:
    """Asaas's decimal reais (a JSON number) as integer centavos, half up."""
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def reais(value_cents: int) -> Decimal:
    """Integer centavos as exact reais with two places (``1999`` → ``Decimal("19.99")``): what is sent
    to Asaas as a JSON number, never through a float."""
    if isinstance(value_cents, bool) or not isinstance(value_cents, int):
        raise TypeError(f"centavos are an int, not {type(value_cents).__name__}")
    return Decimal(value_cents).scaleb(-2)
