"""Banco Inter (077), CNAB 400: its own detail (occurrence 90-91, values 125-137 and 160-172); the
trailer's 18-25 counts the file's details. Its layout has no fee, interest, discount or abatement
columns: those read 0."""

from __future__ import annotations

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import Record, alpha, day, money, num
from assistec.domain.banking.cnab.layouts import Cnab400Bank, TrailerCheck
from assistec.domain.banking.cnab.model import OccurrenceKind as K

_DETAIL = Record(
    "detail",
    [
        num("record_type", 1, 1, 1),
        alpha("wallet", 21, 23),
        num("branch", 24, 27),
        num("account", 28, 36),
        alpha("account_dv", 37, 37),
        alpha("company_use", 38, 62),
        alpha("nosso_numero", 71, 81),
        alpha("occurrence", 90, 91),
        day("occurred_on", 92, 97),
        alpha("document_number", 98, 107),
        day("due_date", 119, 124),
        money("title_cents", 125, 137),
        money("paid_cents", 160, 172),
        day("credited_on", 173, 178),
        alpha("reasons", 241, 380),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_TRAILER = cnab400.TRAILER.replace(add=[num("details", 18, 25), money("paid_cents", 121, 132)])

OCCURRENCES = {
    "02": (K.ENTRY_CONFIRMED, "Em aberto (entrada confirmada)"),
    "03": (K.REJECTED, "Erro (entrada rejeitada)"),
    "06": (K.SETTLED, "Pago"),
    "07": (K.WRITTEN_OFF, "Baixado"),
}

CNAB400 = Cnab400Bank(
    slug="inter400",
    code="077",
    name="Banco Inter",
    header=cnab400.HEADER,
    details={"1": _DETAIL},
    trailer=_TRAILER,
    occurrences=OCCURRENCES,
    trailer_checks=(TrailerCheck("details"),),
)
