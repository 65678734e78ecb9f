"""Charge states and how Asaas's payment statuses and webhook events move them. Pure data."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PAID = frozenset({"RECEIVED", "CONFIRMED", "RECEIVED_IN_CASH", "DUNNING_RECEIVED"})
CHARGEBACK = frozenset({"CHARGEBACK_REQUESTED", "CHARGEBACK_DISPUTE", "AWAITING_CHARGEBACK_REVERSAL"})
OVERDUE = frozenset({"OVERDUE", "DUNNING_REQUESTED"})
REFUNDED = frozenset({"REFUNDED"})


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


def reais(value_cents: int) -> float:
    return float(Decimal(value_cents) / 100)
