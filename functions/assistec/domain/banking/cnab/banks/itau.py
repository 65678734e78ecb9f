"""Itaú (341). CNAB 240 cobrança: the T segment splits 38-57 into carteira (38-40), nosso número
(41-48) and its check digit (49); branch 19-22 and account 31-35 (Itaú's manual, as python-cnab's
``itauRetorno`` spec; the nosso número is kept with its DAC, 41-49, as the remessa writes it).
Its lot trailer totals this file's T segments. CNAB 400 below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import alpha, money, num
from assistec.domain.banking.cnab.febraban240 import FILE_HEADER, LOT_HEADER, SEG_P, SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank, Remessa240, TrailerCheck
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
        alpha("wallet_code", 83, 85),
        alpha("nosso_numero", 86, 94),  # 8 digits and the DAC
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
    "14": (K.OTHER, "Vencimento alterado"),
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
