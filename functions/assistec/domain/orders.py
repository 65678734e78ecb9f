"""The service order's status machine. Pure data and functions: the service applies it, tests read it.

The default machine is the widest a shop may use; a shop only tightens it (disables transitions),
never widens it. Terminal states (delivered, cancelled) accept nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "received"
    DIAGNOSING = "diagnosing"
    QUOTE_SENT = "quote_sent"
    APPROVED = "approved"
    REJECTED = "rejected"
    WAITING_PARTS = "waiting_parts"
    REPAIRING = "repairing"
    QUALITY_CHECK = "quality_check"
    READY = "ready"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


S = Status
TERMINAL = frozenset({S.DELIVERED, S.CANCELLED})
OPEN = frozenset(Status) - TERMINAL

# Work moves forward; a few steps back are real life (parts missing mid-repair, a failed quality
# check, a new quote after a rejection). No work starts before approval: the only ways into
# waiting_parts/repairing pass through approved.
_FORWARD: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.DIAGNOSING}),
    S.DIAGNOSING: frozenset({S.QUOTE_SENT}),
    S.QUOTE_SENT: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.WAITING_PARTS, S.REPAIRING}),
    S.REJECTED: frozenset({S.QUOTE_SENT, S.READY}),  # a new quote, or the device goes back as it came
    S.WAITING_PARTS: frozenset({S.REPAIRING}),
    S.REPAIRING: frozenset({S.WAITING_PARTS, S.QUALITY_CHECK, S.READY}),
    S.QUALITY_CHECK: frozenset({S.REPAIRING, S.READY}),
    S.READY: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}
DEFAULT_TRANSITIONS: dict[Status, frozenset[Status]] = {
    status: targets | ({S.CANCELLED} if status in OPEN else frozenset())
    for status, targets in _FORWARD.items()
}

# Transitions the quote flow owns: the shop's staff cannot click them, the customer's decision
# (or staff recording it on the quote) makes them.
QUOTE_DECISIONS = frozenset({(S.QUOTE_SENT, S.APPROVED), (S.QUOTE_SENT, S.REJECTED)})

LABELS_PT = {
    S.RECEIVED: "Recebido",
    S.DIAGNOSING: "Em diagnóstico",
    S.QUOTE_SENT: "Orçamento enviado",
    S.APPROVED: "Orçamento aprovado",
    S.REJECTED: "Orçamento recusado",
    S.WAITING_PARTS: "Aguardando peças",
    S.REPAIRING: "Em reparo",
    S.QUALITY_CHECK: "Em testes de qualidade",
    S.READY: "Pronto para retirada",
    S.DELIVERED: "Entregue",
    S.CANCELLED: "Cancelado",
}


def is_default_transition(source: Status, target: Status) -> bool:
    return target in DEFAULT_TRANSITIONS[source]


def allowed_from(source: Status, disabled: Iterable[Sequence[str]]) -> list[Status]:
    """The statuses an order may move to from ``source`` in a shop that disabled ``disabled``
    (``(from, to)`` pairs, as stored: tuples or two-item lists)."""
    off = {(a, b) for a, b in disabled}
    return sorted(
        (t for t in DEFAULT_TRANSITIONS[source] if (source.value, t.value) not in off),
        key=list(Status).index,
    )


def validate_disabled(disabled: Iterable[tuple[str, str]]) -> list[str]:
    """Problems with a shop's list of disabled transitions (pt-BR), empty when it is acceptable.

    A shop may switch off any default transition except cancelling (an open order must always be
    cancellable) and, in doing so, must not strand a status with no way out but cancelling.
    """
    problems: list[str] = []
    pairs = list(disabled)
    for a, b in pairs:
        try:
            source, target = Status(a), Status(b)
        except ValueError:
            problems.append(f"Status desconhecido em {a} → {b}.")
            continue
        if not is_default_transition(source, target):
            problems.append(f"{a} → {b} não é uma transição do fluxo padrão.")
        elif target is S.CANCELLED:
            problems.append("O cancelamento não pode ser desativado.")
        elif (source, target) in QUOTE_DECISIONS:
            problems.append("A decisão do cliente sobre o orçamento não pode ser desativada.")
    if problems:
        return problems
    for status in OPEN:
        if not [t for t in allowed_from(status, pairs) if t is not S.CANCELLED]:
            problems.append(f"Sem saída para {status.value} além do cancelamento.")
    return sorted(problems)
