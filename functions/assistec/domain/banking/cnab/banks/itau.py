"""Itaú (341). CNAB 240 cobrança: the T segment splits 38-57 into carteira (38-40), nosso número
(41-48) and its check digit (49); branch 19-22 and account 31-35 (Itaú's manual, as python-cnab's
``itauRetorno`` spec; the nosso número is kept with its DAC, 41-49, as the remessa writes it).
Its lot trailer totals this file's T segments. CNAB 400 below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import Record, alpha, day, money, num
from assistec.domain.banking.cnab.febraban240 import FILE_HEADER, LOT_HEADER, SEG_P, SEG_T
from assistec.domain.banking.cnab.layouts import (
    Cnab240Bank,
    Cnab400Bank,
    Remessa240,
    Remessa400,
    TrailerCheck,
)
from assistec.domain.banking.cnab.model import OccurrenceKind as K

_FILE_HEADER = FILE_HEADER.replace(
    add=[num("branch", 54, 57), num("account", 66, 70), alpha("account_dv", 72, 72)],
    drop=["agreement_code", "branch_dv", "branch_account_dv"],
)
_SEG_T = SEG_T.replace(
    add=[
        num("branch", 19, 22),
        num("account", 31, 35),
        alpha("wallet_code", 38, 40),
        alpha("nosso_numero", 41, 49),  # 8 digits and the DAC, as the remessa writes it
        alpha("document_number", 59, 68),
        alpha("payer_name", 149, 178),
        alpha("reasons", 214, 221),
        alpha("settlement_code", 222, 223),
    ],
    drop=["wallet", "branch_dv", "account_dv"],
)

CNAB240 = Cnab240Bank(
    slug="itau240",
    code="341",
    name="Itaú",
    file_header=_FILE_HEADER,
    seg_t=_SEG_T,
    layout_version=40,
    lot_layout_version=30,
)

# -- CNAB 400 ---------------------------------------------------------------------------------------


_HEADER_400 = cnab400.HEADER.replace(
    add=[
        num("branch", 27, 30),
        num("account", 33, 37),
        alpha("account_dv", 38, 38),
        num("sequence", 109, 113),
    ],
    drop=["company_code"],
)
_DETAIL_400 = cnab400.DETAIL.replace(
    add=[
        num("branch", 18, 21),
        num("account", 24, 28),
        alpha("nosso_numero", 63, 70),  # 8 digits: the CNAB 400 remessa has no DAC column
        alpha("wallet_code", 83, 85),
        alpha("nosso_numero_dac", 86, 94),
        alpha("wallet", 108, 108),
        alpha("reasons", 378, 385),
        alpha("settlement_code", 393, 394),
    ],
)
_TRAILER_400 = cnab400.TRAILER.replace(
    add=[
        num("simple_titles", 18, 25),
        money("simple_cents", 26, 39),
        num("file_sequence", 208, 212),
        num("details", 213, 220),
        money("details_cents", 221, 234),
    ]
)

_FEES = {
    "26": "Tarifa de aviso de cobrança",
    "27": "Tarifa de extrato posição",
    "28": "Tarifa de relação das liquidações",
    "29": "Tarifa de manutenção de títulos vencidos",
    "30": "Débito mensal de tarifas (para entradas e baixas)",
    "33": "Custas de protesto",
    "34": "Custas de sustação",
    "35": "Custas de cartório distribuidor",
    "36": "Custas de edital",
    "37": "Tarifa de emissão de boleto/tarifa de envio de duplicata",
    "38": "Tarifa de instrução",
    "39": "Tarifa de ocorrências",
    "40": "Tarifa mensal de emissão de boleto/tarifa mensal de envio de duplicata",
    "41": "Débito mensal de tarifas - extrato de posição",
    "42": "Débito mensal de tarifas - outras instruções",
    "43": "Débito mensal de tarifas - manutenção de títulos vencidos",
    "44": "Débito mensal de tarifas - outras ocorrências",
    "45": "Débito mensal de tarifas - protesto",
    "46": "Débito mensal de tarifas - sustação de protesto",
    "48": "Custas de sustação judicial",
}
OCCURRENCES_400 = {
    "02": (K.ENTRY_CONFIRMED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "04": (K.OTHER, "Alteração de dados - nova entrada ou alteração/exclusão de dados acatada"),
    "05": (K.WRITTEN_OFF, "Alteração de dados - baixa"),
    "06": (K.SETTLED, "Liquidação normal"),
    "07": (K.SETTLED, "Liquidação parcial - cobrança inteligente"),
    "08": (K.SETTLED, "Liquidação em cartório"),
    "09": (K.WRITTEN_OFF, "Baixa simples"),
    "10": (K.SETTLED, "Baixa por ter sido liquidado"),
    "11": (K.OTHER, "Em ser"),
    "12": (K.OTHER, "Abatimento concedido"),
    "13": (K.OTHER, "Abatimento cancelado"),
    "14": (K.DUE_DATE_CHANGED, "Vencimento alterado"),
    "15": (K.REJECTED, "Baixas rejeitadas"),
    "16": (K.REJECTED, "Instruções rejeitadas"),
    "17": (K.REJECTED, "Alteração/exclusão de dados rejeitados"),
    "18": (K.REJECTED, "Cobrança contratual - instruções/alterações rejeitadas/pendentes"),
    "19": (K.OTHER, "Confirma recebimento de instrução de protesto"),
    "20": (K.OTHER, "Confirma recebimento de instrução de sustação de protesto/tarifa"),
    "21": (K.OTHER, "Confirma recebimento de instrução de não protestar"),
    "23": (K.OTHER, "Título enviado a cartório/tarifa"),
    "24": (K.REJECTED, "Instrução de protesto rejeitada/sustada/pendente"),
    "25": (K.OTHER, "Alegações do pagador"),
    "32": (K.WRITTEN_OFF, "Baixa por ter sido protestado"),
    "47": (K.WRITTEN_OFF, "Baixa com transferência para desconto"),
    "59": (K.SETTLED, "Baixa por crédito em c/c através do SISPAG"),
    "60": (K.REJECTED, "Entrada rejeitada carnê"),
    "64": (K.ENTRY_CONFIRMED, "Entrada confirmada com rateio de crédito"),
    **{code: (K.FEE, text) for code, text in _FEES.items()},
}

# The trailer's 213-220 / 221-234: the number of details and their title values, this file's.
CNAB400 = Cnab400Bank(
    slug="itau400",
    code="341",
    name="Itaú",
    header=_HEADER_400,
    details={"1": _DETAIL_400},
    trailer=_TRAILER_400,
    occurrences=OCCURRENCES_400,
    trailer_checks=(TrailerCheck("details", "details_cents"),),
    # 254-266, "valor principal", is what was credited: title - discount - abatement + interest -
    # fee, to the centavo, on every settlement in the fixtures (e.g. 40,00 - 2,10 of fee = 37,90).
    paid_is_net=True,
)


# -- CNAB 240 remessa -------------------------------------------------------------------------------

# Itaú's P segment: branch 19-22 and account 31-35 between zeros, DAC at 37; carteira 38-40 (109),
# nosso número 41-48 + DAC 49; document number 63-72; species 08 (DS, duplicata de serviço: a repair
# shop sells services), acceptance "A", interest code 0 (juros por dia informado em valor), no
# protest (3); only P and Q per title (fines go in the agreement's instructions); the lot trailer
# carries the lot's title count and sum.
_REM_SEG_P = SEG_P.replace(
    add=[
        num("zero_18", 18, 18),
        num("branch", 19, 22),
        num("zeros_24", 24, 30),
        num("account", 31, 35),
        alpha("account_dv", 37, 37),
        num("wallet_code", 38, 40),
        alpha("nosso_numero", 41, 49),
        num("zeros_58", 58, 62),
        alpha("document_number", 63, 72),
        num("write_off_days", 225, 226),
        num("zeros_227", 227, 229),
        num("contract", 230, 239),
    ],
    drop=["branch_dv", "branch_account_dv", "wallet", "registration", "boleto_issuer", "currency"],
)
_REM_FILE_HEADER = _FILE_HEADER.replace(
    add=[num("zero_53", 53, 53), num("zeros_59", 59, 65), num("zeros_226", 226, 228)]
)
_REM_LOT_HEADER = LOT_HEADER.replace(
    add=[num("zeros_12", 12, 13), alpha("account_dv", 73, 73)], drop=["branch_account_dv"]
)
CNAB240 = replace(
    CNAB240,
    remessa=Remessa240(
        file_header=_REM_FILE_HEADER,
        lot_header=_REM_LOT_HEADER,
        seg_p=_REM_SEG_P,
        segments=("P", "Q"),
        constants={
            "file_header": {"bank_name": "BANCO ITAU SA"},
            "segment_p": {
                "wallet_code": 109,
                "document_type": "0",
                "distribution": "0",
                "collecting_branch_dv": "0",
                "species": 8,
                "acceptance": "A",
                "protest_code": 3,
            },
            "lot_trailer": {"notice": "00000000"},
        },
        interest_code=0,
        no_interest_code=0,
        company_use="",
        lot_totals=True,
    ),
)


# -- CNAB 400 remessa -------------------------------------------------------------------------------

# Itaú's CNAB 400: nosso número 63-70 (8 digits, no DAC column: the retorno 400 is read at the same
# columns), carteira 84-86 and its letter 108 ("I"), species 01 (DM), "N"; the header has no file
# sequence. The optional type-2 record (fine) is not written: our fine is in centavos and Itaú's
# record states code/date/value, to be added with the boleto module's fine rules.
_REM_HEADER_400 = Record(
    "header",
    [
        num("record_type", 1, 1, 0),
        num("file_kind", 2, 2, 1),
        alpha("file_kind_name", 3, 9, "REMESSA"),
        num("service", 10, 11, 1),
        alpha("service_name", 12, 26, "COBRANCA"),
        num("branch", 27, 30),
        num("zeros_31", 31, 32),
        num("account", 33, 37),
        alpha("account_dv", 38, 38),
        alpha("company_name", 47, 76),
        num("bank_code", 77, 79),
        alpha("bank_name", 80, 94, "BANCO ITAU SA"),
        day("file_date", 95, 100),
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
        num("branch", 18, 21),
        num("zeros_22", 22, 23),
        num("account", 24, 28),
        alpha("account_dv", 29, 29),
        num("cancelled_instruction", 34, 37),
        alpha("company_use", 38, 62),
        alpha("nosso_numero", 63, 70),
        num("currency_quantity", 71, 83),
        num("wallet", 84, 86),
        alpha("wallet_letter", 108, 108, "I"),
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
        alpha("payer_name", 235, 264),
        alpha("payer_address", 275, 314),
        alpha("payer_district", 315, 326),
        num("payer_zip", 327, 334),
        alpha("payer_city", 335, 349),
        alpha("payer_state", 350, 351),
        alpha("guarantor_name", 352, 381),
        day("interest_from", 386, 391),
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
        constants={"detail": {"species": 1, "protest_days": 3}},
    ),
)
