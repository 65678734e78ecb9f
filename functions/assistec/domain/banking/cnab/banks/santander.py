"""Santander (033). CNAB 240: its own header (agreement "código do beneficiário" 53-61, branch 4
digits, account 9) and T segment (nosso número 41-53, carteira 54, values 4 columns to the left of
FEBRABAN's); the lot trailer counts only the detail lines, and its "títulos em carteira" totals are
the portfolio, not the file (so not checked). CNAB 400 (with the PIX fields) below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import Record, alpha, day, money, num
from assistec.domain.banking.cnab.febraban240 import LOT_HEADER, SEG_P, SEG_Q
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank, Remessa240, Remessa400
from assistec.domain.banking.cnab.model import OccurrenceKind as K

_FILE_HEADER = Record(
    "file_header",
    [
        num("bank_code", 1, 3),
        num("lot", 4, 7, 0),
        num("record_type", 8, 8, 0),
        num("company_doc_type", 17, 17),
        num("company_document", 18, 32),
        num("branch", 33, 36),
        alpha("branch_dv", 37, 37),
        num("account", 38, 46),
        alpha("account_dv", 47, 47),
        alpha("agreement_code", 53, 61),
        alpha("company_name", 73, 102),
        alpha("bank_name", 103, 132),
        num("file_kind", 143, 143),
        day("file_date", 144, 151),
        num("sequence", 158, 163),
        num("layout_version", 164, 166),
    ],
)
_LOT_HEADER = LOT_HEADER.replace(
    add=[
        alpha("agreement_code", 34, 42),
        num("branch", 54, 57),
        alpha("branch_dv", 58, 58),
        num("account", 59, 67),
        alpha("account_dv", 68, 68),
    ],
    drop=["branch_account_dv"],
)
_SEG_T = Record(
    "segment_t",
    [
        num("bank_code", 1, 3),
        num("lot", 4, 7),
        num("record_type", 8, 8, 3),
        num("record_number", 9, 13),
        alpha("segment", 14, 14, "T"),
        alpha("movement", 16, 17),
        num("branch", 18, 21),
        alpha("branch_dv", 22, 22),
        num("account", 23, 31),
        alpha("account_dv", 32, 32),
        alpha("nosso_numero", 41, 53),
        alpha("wallet", 54, 54),
        alpha("document_number", 55, 69),
        day("due_date", 70, 77),
        money("title_cents", 78, 92),
        num("collecting_bank", 93, 95),
        num("collecting_branch", 96, 99),
        alpha("collecting_branch_dv", 100, 100),
        alpha("company_use", 101, 125),
        num("currency", 126, 127),
        num("payer_doc_type", 128, 128),
        alpha("payer_document", 129, 143),
        alpha("payer_name", 144, 183),
        alpha("contract", 184, 193),
        money("fee_cents", 194, 208),
        alpha("reasons", 209, 218),
    ],
)

CNAB240 = Cnab240Bank(
    slug="santander240",
    code="033",
    name="Santander",
    file_header=_FILE_HEADER,
    lot_header=_LOT_HEADER,
    seg_t=_SEG_T,
    lot_count="details",
    lot_totals_are_file=False,
    layout_version=40,
    lot_layout_version=30,
)

# -- CNAB 400 (with the type-2 PIX record after a title) -----------------------------------------


_HEADER_400 = cnab400.HEADER.replace(
    add=[num("branch", 27, 30), alpha("agreement_code", 31, 38), num("account", 39, 46)],
    drop=["company_code"],
)
_DETAIL_400 = cnab400.DETAIL.replace(
    add=[
        num("branch", 18, 21),
        alpha("agreement_code", 22, 29),
        alpha("nosso_numero", 63, 70),
        alpha("wallet", 108, 108),
        alpha("reasons", 137, 145),
    ],
    drop=["collecting_branch"],
)

OCCURRENCES_400 = {
    "01": (K.REJECTED, "Título não existe"),
    "02": (K.ENTRY_CONFIRMED, "Entrada de título confirmada"),
    "03": (K.REJECTED, "Entrada de título rejeitada"),
    "06": (K.SETTLED, "Liquidação"),
    "07": (K.SETTLED, "Liquidação por conta"),
    "08": (K.SETTLED, "Liquidação por saldo"),
    "09": (K.WRITTEN_OFF, "Baixa automática"),
    "10": (K.WRITTEN_OFF, "Título baixado conforme instrução ou por título protestado"),
    "11": (K.OTHER, "Em ser"),
    "12": (K.OTHER, "Abatimento concedido"),
    "13": (K.OTHER, "Abatimento cancelado"),
    "14": (K.DUE_DATE_CHANGED, "Prorrogação de vencimento"),
    "15": (K.OTHER, "Enviado para cartório"),
    "16": (K.SETTLED, "Título já baixado/liquidado"),
    "17": (K.SETTLED, "Liquidado em cartório"),
    "21": (K.OTHER, "Entrada em cartório"),
    "22": (K.OTHER, "Retirado de cartório"),
    "24": (K.OTHER, "Custas de cartório"),
    "25": (K.OTHER, "Protestar título"),
    "26": (K.OTHER, "Sustar protesto"),
}

# The trailer's totals are the portfolio's "títulos em cobrança simples": not checked.
CNAB400 = Cnab400Bank(
    slug="santander400",
    code="033",
    name="Santander",
    header=_HEADER_400,
    details={"1": _DETAIL_400},
    trailer=cnab400.TRAILER,
    occurrences=OCCURRENCES_400,
    extra_records=frozenset({"2"}),
)


# -- CNAB 240 remessa -------------------------------------------------------------------------------

# Santander's remessa identifies the agreement by its "código de transmissão" (15 digits: branch,
# 0000, account and DV, per its manual) in the headers; the P segment has branch 4 + DV, account 9 +
# DV twice (conta corrente and conta cobrança), nosso número 45-57 (13 with DV), carteira 1 (simples),
# registered, document type 2 (escritural); species 02 (DM), "N", no interest (3), no protest (3),
# write-off code 3 (use the agreement's). Its R segment ends at the fine; its lot trailer has only the count.
_REM_FILE_HEADER = Record(
    "file_header",
    [
        num("bank_code", 1, 3),
        num("lot", 4, 7, 0),
        num("record_type", 8, 8, 0),
        num("company_doc_type", 17, 17),
        num("company_document", 18, 32),
        alpha("agreement_code", 33, 47),
        alpha("company_name", 73, 102),
        alpha("bank_name", 103, 132),
        num("file_kind", 143, 143),
        day("file_date", 144, 151),
        num("sequence", 158, 163),
        num("layout_version", 164, 166),
    ],
)
_REM_LOT_HEADER = Record(
    "lot_header",
    [
        num("bank_code", 1, 3),
        num("lot", 4, 7),
        num("record_type", 8, 8, 1),
        alpha("operation", 9, 9),
        num("service", 10, 11, 1),
        num("lot_layout_version", 14, 16),
        num("company_doc_type", 18, 18),
        num("company_document", 19, 33),
        alpha("agreement_code", 54, 68),
        alpha("company_name", 74, 103),
        alpha("message_1", 104, 143),
        alpha("message_2", 144, 183),
        num("sequence", 184, 191),
        day("recorded_on", 192, 199),
        day("credit_date", 200, 207),
    ],
)
_REM_SEG_P = SEG_P.replace(
    add=[
        num("branch", 18, 21),
        alpha("branch_dv", 22, 22),
        num("account", 23, 31),
        alpha("account_dv", 32, 32),
        num("collection_account", 33, 41),
        alpha("collection_account_dv", 42, 42),
        alpha("nosso_numero", 45, 57),
        num("wallet", 58, 58),
        num("registration", 59, 59),
        alpha("document_type", 60, 60),
        alpha("document_number", 63, 77),
        num("collecting_branch", 101, 104),
        num("collecting_branch_dv", 105, 105),
        num("protest_code", 221, 221),
        num("protest_days", 222, 223),
        num("write_off_code", 224, 224),
        num("write_off_zero", 225, 225),
        num("write_off_days", 226, 227),
        num("currency", 228, 229),
    ],
    drop=["branch_account_dv", "boleto_issuer", "distribution", "contract"],
)
_REM_SEG_Q = SEG_Q.replace(add=[num("correspondent_nosso_numero", 213, 221)])
_REM_SEG_R = Record(
    "segment_r",
    [
        num("bank_code", 1, 3),
        num("lot", 4, 7),
        num("record_type", 8, 8, 3),
        num("record_number", 9, 13),
        alpha("segment", 14, 14, "R"),
        num("movement", 16, 17),
        num("discount2_code", 18, 18),
        day("discount2_until", 19, 26),
        money("discount2_cents", 27, 41),
        num("filler_42", 42, 65),
        num("fine_code", 66, 66),
        day("fine_from", 67, 74),
        money("fine_cents", 75, 89),
    ],
)
_REM_LOT_TRAILER = Record(
    "lot_trailer",
    [num("bank_code", 1, 3), num("lot", 4, 7), num("record_type", 8, 8, 5), num("records", 18, 23)],
)
CNAB240 = replace(
    CNAB240,
    remessa=Remessa240(
        file_header=_REM_FILE_HEADER,
        lot_header=_REM_LOT_HEADER,
        seg_p=_REM_SEG_P,
        seg_q=_REM_SEG_Q,
        seg_r=_REM_SEG_R,
        lot_trailer=_REM_LOT_TRAILER,
        constants={
            "file_header": {"bank_name": "BANCO SANTANDER"},
            "segment_p": {
                "wallet": 1,
                "registration": 1,
                "document_type": "2",
                "species": 2,
                "acceptance": "N",
                "protest_code": 3,
                "write_off_code": 3,
            },
        },
        no_interest_code=3,
    ),
)


# -- CNAB 400 remessa -------------------------------------------------------------------------------

# Header: the "código de transmissão" (20) and the layout version 058. Detail: the same code (branch,
# conta movimento, conta cobrança) at 18-37, nosso número 63-70 (7 + DV),
# carteira code 1 (simples), species 01 (DM), "N". The fine (78-82) is a percentage in this layout:
# our fine is in centavos, so none is written. The optional type-8 record (PIX QR data for the
# boleto híbrido) is not written: the PIX key/TXID come from the bank's API, not from a file. The
# trailer counts the file's records and sums the titles.
_REM_HEADER_400 = Record(
    "header",
    [
        num("record_type", 1, 1, 0),
        num("file_kind", 2, 2, 1),
        alpha("file_kind_name", 3, 9, "REMESSA"),
        num("service", 10, 11, 1),
        alpha("service_name", 12, 26, "COBRANCA"),
        alpha("agreement_code", 27, 46),
        alpha("company_name", 47, 76),
        num("bank_code", 77, 79),
        alpha("bank_name", 80, 94, "SANTANDER"),
        day("file_date", 95, 100),
        num("zeros_101", 101, 116),
        num("layout_version", 392, 394, 58),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_REM_DETAIL_400 = Record(
    "detail",
    [
        num("record_type", 1, 1, 1),
        num("company_doc_type", 2, 3),
        num("company_document", 4, 17),
        alpha("agreement_code", 18, 37),  # the código de transmissão: branch, account, collection account
        alpha("company_use", 38, 62),
        alpha("nosso_numero", 63, 70),
        day("discount2_until", 71, 76),
        num("fine_flag", 78, 78),
        num("fine_percent", 79, 82),
        num("currency_unit", 83, 84),
        money("other_currency_cents", 85, 97),
        day("fine_from", 102, 107),
        num("wallet", 108, 108),
        num("movement", 109, 110),
        alpha("document_number", 111, 120),
        day("due_date", 121, 126),
        money("amount_cents", 127, 139),
        num("bank_code", 140, 142),
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
        alpha("payer_district", 315, 326),
        num("payer_zip", 327, 334),
        alpha("payer_city", 335, 349),
        alpha("payer_state", 350, 351),
        alpha("guarantor_name", 352, 381),
        alpha("account_complement", 383, 385),
        num("protest_days", 392, 393),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_REM_TRAILER_400 = Record(
    "trailer",
    [
        num("record_type", 1, 1, 9),
        num("records", 2, 7),
        money("total_cents", 8, 20),
        num("zeros_21", 21, 394),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
CNAB400 = replace(
    CNAB400,
    remessa=Remessa400(
        header=_REM_HEADER_400,
        detail=_REM_DETAIL_400,
        trailer=_REM_TRAILER_400,
        constants={"detail": {"wallet": 1, "species": 1}},
    ),
)
