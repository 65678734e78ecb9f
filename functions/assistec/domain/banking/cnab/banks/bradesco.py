"""Bradesco (237), CNAB 400: nosso número 71-82 (carteira + 11 digits + DV as 12 columns); the
trailer counts and sums the file's details per occurrence (02 entries, 06 settlements, 09/10
write-offs, 12/13 abatements, 14 due-date changes, 19 protests), so each pair is checked; its
18-25/26-39 "títulos em cobrança" are the portfolio (not checked)."""

from __future__ import annotations

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import alpha, day, money, num
from assistec.domain.banking.cnab.layouts import Cnab400Bank, TrailerCheck
from assistec.domain.banking.cnab.model import OccurrenceKind as K

_HEADER = cnab400.HEADER.replace(
    add=[alpha("agreement_code", 27, 46), num("sequence", 109, 113), day("credit_date", 380, 385)],
    drop=["company_code"],
)
_DETAIL = cnab400.DETAIL.replace(
    add=[
        num("branch", 25, 29),
        num("account", 30, 36),
        alpha("account_dv", 37, 37),
        alpha("nosso_numero", 71, 82),
        alpha("wallet", 108, 108),
    ]
)
_TRAILER = cnab400.TRAILER.replace(
    add=[
        num("portfolio_titles", 18, 25),
        money("portfolio_cents", 26, 39),
        num("notice", 40, 47),
        num("entries", 58, 62),
        money("entries_cents", 63, 74),
        money("settled_paid_cents", 75, 86),
        num("settled", 87, 91),
        money("settled_cents", 92, 103),
        num("written_off", 104, 108),
        money("written_off_cents", 109, 120),
        num("abatement_cancelled", 121, 125),
        money("abatement_cancelled_cents", 126, 137),
        num("due_changed", 138, 142),
        money("due_changed_cents", 143, 154),
        num("abatement_granted", 155, 159),
        money("abatement_granted_cents", 160, 171),
        num("protest", 172, 176),
        money("protest_cents", 177, 188),
    ]
)

OCCURRENCES = {
    "02": (K.ENTRY_CONFIRMED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "06": (K.SETTLED, "Liquidação normal"),
    "09": (K.WRITTEN_OFF, "Baixado automaticamente via arquivo"),
    "10": (K.WRITTEN_OFF, "Baixado conforme instruções da agência"),
    "11": (K.OTHER, "Em ser - arquivo de títulos pendentes"),
    "12": (K.OTHER, "Abatimento concedido"),
    "13": (K.OTHER, "Abatimento cancelado"),
    "14": (K.OTHER, "Vencimento alterado"),
    "15": (K.SETTLED, "Liquidação em cartório"),
    "16": (K.OTHER, "Título pago em cheque - vinculado"),
    "17": (K.SETTLED, "Liquidação após baixa ou título não registrado"),
    "18": (K.OTHER, "Acerto de depositária"),
    "19": (K.OTHER, "Confirmação recebimento instrução de protesto"),
    "20": (K.OTHER, "Confirmação recebimento instrução sustação de protesto"),
    "21": (K.OTHER, "Acerto do controle do participante"),
    "22": (K.OTHER, "Título com pagamento cancelado"),
    "23": (K.OTHER, "Entrada do título em cartório"),
    "24": (K.REJECTED, "Entrada rejeitada por CEP irregular"),
    "25": (K.OTHER, "Confirmação recebimento instrução de protesto falimentar"),
    "27": (K.REJECTED, "Baixa rejeitada"),
    "28": (K.FEE, "Débito de tarifas/custas"),
    "29": (K.OTHER, "Ocorrências do pagador"),
    "30": (K.REJECTED, "Alteração de outros dados rejeitados"),
    "32": (K.REJECTED, "Instrução rejeitada"),
    "33": (K.OTHER, "Confirmação pedido alteração outros dados"),
    "34": (K.OTHER, "Retirado de cartório e manutenção carteira"),
    "35": (K.OTHER, "Desagendamento do débito automático"),
    "40": (K.OTHER, "Estorno de pagamento"),
    "55": (K.OTHER, "Sustado judicial"),
}

CNAB400 = Cnab400Bank(
    slug="bradesco400",
    code="237",
    name="Bradesco",
    header=_HEADER,
    details={"1": _DETAIL},
    trailer=_TRAILER,
    occurrences=OCCURRENCES,
    trailer_checks=(
        TrailerCheck("entries", "entries_cents", frozenset({"02"})),
        TrailerCheck("settled", "settled_cents", frozenset({"06"})),
        TrailerCheck("written_off", "written_off_cents", frozenset({"09", "10"})),
        TrailerCheck("abatement_cancelled", "abatement_cancelled_cents", frozenset({"13"})),
        TrailerCheck("due_changed", "due_changed_cents", frozenset({"14"})),
        TrailerCheck("abatement_granted", "abatement_granted_cents", frozenset({"12"})),
        TrailerCheck("protest", "protest_cents", frozenset({"19"})),
    ),
)
