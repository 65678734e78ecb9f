"""Banco do Brasil (001). CNAB 240 as FEBRABAN's (convênio in the header's 33-52; nosso número
convênio + sequence left-aligned in 38-57); the lot trailer's title totals come as zeros.
CNAB 400 (CBR641 remessa / CBR643 retorno, detail type 7 for 7-digit convênios) below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import Field, Record, alpha, day, money, num
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank, Remessa240, Remessa400
from assistec.domain.banking.cnab.model import OccurrenceKind as K

CNAB240 = Cnab240Bank(
    slug="bb240", code="001", name="Banco do Brasil", layout_version=83, lot_layout_version=42
)


# The file and lot headers' "código do convênio no banco" (FEBRABAN's 20 free columns), as BB's
# CNAB 240 manual fills them: convênio (9 digits, zero-padded) + 0014 (cobrança cedente) + carteira (2)
# + variação da carteira (3) + 2 blanks ("TS" there marks a test file: never written). The retorno's
# header is read as FEBRABAN's (BB's own retornos may leave carteira and variação blank).
def _convenio_fields(start: int) -> list[Field]:
    return [
        num("agreement_code", start, start + 8),
        alpha("collection_code", start + 9, start + 12, "0014"),
        num("agreement_wallet", start + 13, start + 14),
        num("wallet_variation", start + 15, start + 17),
    ]


# Remessa: carteira 17 (code 7 in P 58), registered ("1"), species 02 (DM), not accepted ("N"), no
# protest ("3"); BB asks zeros in the header's reserved areas.
CNAB240 = replace(
    CNAB240,
    remessa=Remessa240(
        file_header=CNAB240.file_header.replace(add=_convenio_fields(33)),
        lot_header=CNAB240.lot_header.replace(add=_convenio_fields(34)),
        constants={
            "file_header": {
                "bank_name": "BANCO DO BRASIL SA",
                "bank_reserved": "0" * 20,
                "company_reserved": "0" * 20,
            },
            "segment_p": {
                "wallet": 7,
                "registration": 1,
                "distribution": "0",
                "species": 2,
                "acceptance": "N",
                "protest_code": 3,
                "write_off_days": "000",
                "currency": 9,
            },
            "segment_r": {"payer_occurrence": "00000000"},
            "lot_trailer": {"notice": "00000000"},
        },
        no_interest_code=3,
        wallet_variation_required=True,
    ),
)

# -- CNAB 400: CBR643 retorno (detail type 7 for 7-digit convênios, type 1 for 6-digit ones) --------


_HEADER_400 = cnab400.HEADER.replace(
    add=[
        num("branch", 27, 30),
        alpha("branch_dv", 31, 31),
        num("account", 32, 39),
        alpha("account_dv", 40, 40),
        num("sequence", 101, 107),
        alpha("agreement_code", 150, 156),
    ],
    drop=["company_code"],
)
_DETAIL_7 = cnab400.DETAIL.replace(
    "detail_7",
    add=[
        num("record_type", 1, 1, 7),
        alpha("agreement_code", 32, 38),
        alpha("company_use", 39, 63),
        alpha("nosso_numero", 64, 80),
        alpha("wallet", 107, 108),
        day("credited_on", 176, 181),
        money("fee_cents", 182, 188),
        money("credited_cents", 306, 318),
        alpha("reasons", 383, 392),
    ],
    drop=["collecting_branch"],
)
_DETAIL_1 = _DETAIL_7.replace(
    "detail_1",
    add=[num("record_type", 1, 1, 1), alpha("company_use", 39, 62), alpha("nosso_numero", 63, 74)],
    drop=["agreement_code"],
)

OCCURRENCES_400 = {
    "02": (K.ENTRY_CONFIRMED, "Confirmação de entrada de título"),
    "03": (K.REJECTED, "Comando recusado"),
    "05": (K.SETTLED, "Liquidado sem registro"),
    "06": (K.SETTLED, "Liquidação normal"),
    "07": (K.SETTLED, "Liquidação por conta/parcial"),
    "08": (K.SETTLED, "Liquidação por saldo"),
    "09": (K.WRITTEN_OFF, "Baixa de título"),
    "10": (K.WRITTEN_OFF, "Baixa solicitada"),
    "11": (K.OTHER, "Títulos em ser"),
    "12": (K.OTHER, "Abatimento concedido"),
    "13": (K.OTHER, "Abatimento cancelado"),
    "14": (K.DUE_DATE_CHANGED, "Alteração de vencimento do título"),
    "15": (K.SETTLED, "Liquidação em cartório"),
    "16": (K.OTHER, "Confirmação de alteração de juros de mora"),
    "19": (K.OTHER, "Confirmação de recebimento de instruções para protesto"),
    "20": (K.OTHER, "Débito em conta"),
    "21": (K.OTHER, "Alteração do nome do sacado"),
    "22": (K.OTHER, "Alteração do endereço do sacado"),
    "23": (K.OTHER, "Indicação de encaminhamento a cartório"),
    "24": (K.OTHER, "Sustar protesto"),
    "25": (K.OTHER, "Dispensar juros de mora"),
    "26": (K.OTHER, "Alteração do número do título dado pelo cedente"),
    "28": (K.OTHER, "Manutenção de título vencido"),
    "31": (K.OTHER, "Conceder desconto"),
    "32": (K.OTHER, "Não conceder desconto"),
    "33": (K.OTHER, "Retificar desconto"),
    "34": (K.OTHER, "Alterar data para desconto"),
    "35": (K.OTHER, "Cobrar multa"),
    "36": (K.OTHER, "Dispensar multa"),
    "44": (K.WRITTEN_OFF, "Título pago com cheque devolvido"),
    "46": (K.OTHER, "Título pago com cheque, aguardando compensação"),
    "72": (K.OTHER, "Alteração de tipo de cobrança"),
    "96": (K.FEE, "Despesas de protesto"),
    "97": (K.FEE, "Despesas de sustação de protesto"),
    "98": (K.FEE, "Débito de custas antecipadas"),
}

# The trailer's "cobrança simples" totals are the portfolio's; BB sends them as zeros here anyway.
CNAB400 = Cnab400Bank(
    slug="bb_cbr643",
    code="001",
    name="Banco do Brasil",
    header=_HEADER_400,
    details={"7": _DETAIL_7, "1": _DETAIL_1},
    trailer=cnab400.TRAILER,
    occurrences=OCCURRENCES_400,
)


# -- CNAB 400 remessa: CBR641 (detail type 7, 7-digit convênio) --------------------------------------

# Header: branch/account with DVs, the file sequence 101-107 and the leading convênio 130-136.
# Detail 7: convênio 32-38, nosso número 64-80 (convênio + 10 digits), carteira 107-108 and its
# variation 92-94 from the agreement, species 01 (DM), "N", simple collection (102-106 blank).
_REM_HEADER_400 = Record(
    "header",
    [
        num("record_type", 1, 1, 0),
        num("file_kind", 2, 2, 1),
        alpha("file_kind_name", 3, 9, "REMESSA"),
        num("service", 10, 11, 1),
        alpha("service_name", 12, 26, "COBRANCA"),
        num("branch", 27, 30),
        alpha("branch_dv", 31, 31),
        num("account", 32, 39),
        alpha("account_dv", 40, 40),
        num("zeros_41", 41, 46),
        alpha("company_name", 47, 76),
        num("bank_code", 77, 79),
        alpha("bank_name", 80, 94, "BANCODOBRASIL"),
        day("file_date", 95, 100),
        num("sequence", 101, 107),
        alpha("agreement_code", 130, 136),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_REM_DETAIL_400 = Record(
    "detail",
    [
        num("record_type", 1, 1, 7),
        num("company_doc_type", 2, 3),
        num("company_document", 4, 17),
        num("branch", 18, 21),
        alpha("branch_dv", 22, 22),
        num("account", 23, 30),
        alpha("account_dv", 31, 31),
        alpha("agreement_code", 32, 38),
        alpha("company_use", 39, 63),
        alpha("nosso_numero", 64, 80),
        num("installment", 81, 82),
        num("value_group", 83, 84),
        num("wallet_variation", 92, 94),
        num("guarantee_account", 95, 95),
        num("bordero", 96, 101),
        alpha("collection_type", 102, 106),
        num("wallet", 107, 108),
        num("movement", 109, 110),
        alpha("document_number", 111, 120),
        day("due_date", 121, 126),
        money("amount_cents", 127, 139),
        num("bank_code", 140, 142),
        num("collecting_branch", 143, 146),
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
        alpha("payer_name", 235, 271),
        alpha("payer_address", 275, 314),
        alpha("payer_district", 315, 326),
        num("payer_zip", 327, 334),
        alpha("payer_city", 335, 349),
        alpha("payer_state", 350, 351),
        alpha("notes", 352, 391),
        num("protest_days", 392, 393),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
CNAB400 = replace(
    CNAB400,
    remessa=Remessa400(
        header=_REM_HEADER_400,
        detail=_REM_DETAIL_400,
        trailer=Record("trailer", [num("record_type", 1, 1, 9), num("sequence_number", 395, 400)], width=400),
        constants={"detail": {"species": 1}},
        wallet_variation_required=True,
    ),
)
