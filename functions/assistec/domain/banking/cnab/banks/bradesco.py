"""Bradesco (237), CNAB 400: nosso número 71-82 (carteira + 11 digits + DV as 12 columns); the
trailer counts and sums the file's details per occurrence (02 entries, 06 settlements, 09/10
write-offs, 12/13 abatements, 14 due-date changes, 19 protests), so each pair is checked; its
18-25/26-39 "títulos em cobrança" are the portfolio (not checked)."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import Record, alpha, day, money, num
from assistec.domain.banking.cnab.layouts import Cnab400Bank, Remessa400, TrailerCheck
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
    "14": (K.DUE_DATE_CHANGED, "Vencimento alterado"),
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


# -- CNAB 400 remessa -------------------------------------------------------------------------------

# The company is "código da empresa" (20) in the header; the detail identifies it as zero + carteira
# (3) + branch (5) + account (7) + DV. Nosso número 71-82 (11 digits + DV, as the retorno reports
# it); the company prints the boleto ("2"), no automatic debit ("N"), species 01 (DM), "N". Bradesco
# 400 has no city/UF columns (the CEP locates the payer) and takes a fine only as a percentage
# (66-70), which our values (a fine in centavos) cannot state: it is written as none.
_REM_HEADER = Record(
    "header",
    [
        num("record_type", 1, 1, 0),
        num("file_kind", 2, 2, 1),
        alpha("file_kind_name", 3, 9, "REMESSA"),
        num("service", 10, 11, 1),
        alpha("service_name", 12, 26, "COBRANCA"),
        num("agreement_code", 27, 46),
        alpha("company_name", 47, 76),
        num("bank_code", 77, 79),
        alpha("bank_name", 80, 94, "BRADESCO"),
        day("file_date", 95, 100),
        alpha("system", 109, 110, "MX"),
        num("sequence", 111, 117),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_REM_DETAIL = Record(
    "detail",
    [
        num("record_type", 1, 1, 1),
        num("debit_branch", 2, 6),
        alpha("debit_branch_dv", 7, 7, "0"),
        num("debit_reason", 8, 12),
        num("debit_account", 13, 19),
        alpha("debit_account_dv", 20, 20, "0"),
        num("zero_21", 21, 21),
        num("wallet", 22, 24),
        num("branch", 25, 29),
        num("account", 30, 36),
        alpha("account_dv", 37, 37),
        alpha("company_use", 38, 62),
        num("debit_bank", 63, 65),
        num("fine_flag", 66, 66),
        num("fine_percent", 67, 70),
        alpha("nosso_numero", 71, 82),
        money("daily_bonus_cents", 83, 92),
        num("boleto_issuer", 93, 93, 2),
        alpha("auto_debit", 94, 94, "N"),
        alpha("apportionment", 105, 105),
        num("debit_notice", 106, 106, 2),
        num("movement", 109, 110),
        alpha("document_number", 111, 120),
        day("due_date", 121, 126),
        money("amount_cents", 127, 139),
        num("collecting_bank", 140, 142),
        num("collecting_branch", 143, 147),
        num("species", 148, 149),
        alpha("acceptance", 150, 150, "N"),
        day("issue_date", 151, 156),
        num("instruction_1", 157, 158),
        num("instruction_2", 159, 160),
        money("interest_cents", 161, 173),
        day("discount_until", 174, 179),
        money("discount_cents", 180, 192),
        money("iof_cents", 193, 205),
        money("abatement_cents", 206, 218),
        num("payer_doc_type", 219, 220),
        num("payer_document", 221, 234),
        alpha("payer_name", 235, 274),
        alpha("payer_address", 275, 314),
        alpha("message_1", 315, 326),
        num("payer_zip", 327, 334),
        alpha("message_2", 335, 394),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_REM_TRAILER = Record("trailer", [num("record_type", 1, 1, 9), num("sequence_number", 395, 400)], width=400)
CNAB400 = replace(
    CNAB400,
    remessa=Remessa400(
        header=_REM_HEADER,
        detail=_REM_DETAIL,
        trailer=_REM_TRAILER,
        constants={"detail": {"species": 1}},
    ),
)
