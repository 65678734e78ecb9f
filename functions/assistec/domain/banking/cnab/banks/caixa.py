"""Caixa Econômica Federal (104), CNAB 240 SIGCB: the agreement ("código do beneficiário", 6 digits)
replaces the account (header 59-64, lot header 34-39, T 24-29); nosso número 40-56 (modality 2 +
15 digits) in the T segment. The lot trailer's title totals come as zeros. CNAB 400 below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import alpha, day, num
from assistec.domain.banking.cnab.febraban240 import FILE_HEADER, LOT_HEADER, SEG_P, SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank, Remessa240
from assistec.domain.banking.cnab.model import OccurrenceKind as K

_FILE_HEADER = FILE_HEADER.replace(
    add=[alpha("agreement_code", 59, 64), alpha("bank_reserved_2", 65, 72)],
    drop=["agreement_code", "account", "account_dv", "branch_account_dv"],
)
_LOT_HEADER = LOT_HEADER.replace(
    add=[alpha("agreement_code", 34, 39), alpha("agreement_code_2", 60, 65)],
    drop=["agreement_code", "account", "account_dv", "branch_account_dv"],
)
_SEG_T = SEG_T.replace(
    add=[alpha("agreement_code", 24, 29), alpha("nosso_numero", 40, 56), alpha("document_number", 59, 69)],
    drop=["account", "account_dv", "branch_account_dv"],
)

CNAB240 = Cnab240Bank(
    slug="caixa240",
    code="104",
    name="Caixa Econômica Federal",
    file_header=_FILE_HEADER,
    lot_header=_LOT_HEADER,
    seg_t=_SEG_T,
    layout_version=50,
    lot_layout_version=30,
)

# -- CNAB 400 (SIGCB) -------------------------------------------------------------------------------


_HEADER_400 = cnab400.HEADER.replace(
    add=[num("branch", 27, 30), alpha("agreement_code", 31, 36)], drop=["company_code"]
)
_DETAIL_400 = cnab400.DETAIL.replace(
    add=[
        alpha("company_use", 32, 56),
        alpha("nosso_numero", 57, 73),
        alpha("reasons", 80, 82),
        alpha("wallet", 107, 108),
        day("credited_on", 294, 299),
    ],
)

OCCURRENCES_400 = {
    "01": (K.ENTRY_CONFIRMED, "Entrada confirmada"),
    "02": (K.WRITTEN_OFF, "Baixa confirmada"),
    "03": (K.OTHER, "Abatimento concedido"),
    "04": (K.OTHER, "Abatimento cancelado"),
    "05": (K.OTHER, "Vencimento alterado"),
    "06": (K.OTHER, "Uso da empresa alterado"),
    "07": (K.OTHER, "Prazo de protesto alterado"),
    "08": (K.OTHER, "Prazo de devolução alterado"),
    "09": (K.OTHER, "Alteração confirmada"),
    "10": (K.OTHER, "Alteração com reemissão de boleto confirmada"),
    "11": (K.OTHER, "Alteração da opção de protesto para devolução"),
    "12": (K.OTHER, "Alteração da opção de devolução para protesto"),
    "20": (K.OTHER, "Em ser"),
    "21": (K.SETTLED, "Liquidação"),
    "22": (K.SETTLED, "Liquidação em cartório"),
    "23": (K.WRITTEN_OFF, "Baixa por devolução"),
    "24": (K.WRITTEN_OFF, "Baixa por franco pagamento"),
    "25": (K.WRITTEN_OFF, "Baixa por protesto"),
    "26": (K.OTHER, "Título enviado para cartório"),
    "27": (K.OTHER, "Sustação de protesto"),
    "28": (K.OTHER, "Estorno de protesto"),
    "29": (K.OTHER, "Estorno de sustação de protesto"),
    "30": (K.OTHER, "Alteração de título"),
    "31": (K.FEE, "Tarifa sobre título vencido"),
    "32": (K.FEE, "Outras tarifas de alteração"),
    "33": (K.OTHER, "Estorno de baixa/liquidação"),
    "34": (K.OTHER, "Transferência de carteira/entrada"),
    "35": (K.OTHER, "Transferência de carteira/baixa"),
    "99": (K.REJECTED, "Rejeição do título"),
}

CNAB400 = Cnab400Bank(
    slug="caixa400",
    code="104",
    name="Caixa Econômica Federal",
    header=_HEADER_400,
    details={"1": _DETAIL_400},
    trailer=cnab400.TRAILER,
    occurrences=OCCURRENCES_400,
)


# -- CNAB 240 remessa (SIGCB) ---------------------------------------------------------------------

# The agreement code goes where FEBRABAN puts the account, zero-filled around it; the P segment's
# nosso número is 41-57 (modality 14 = registered, beneficiary prints, + 15 digits) and the document
# number 63-73. Species 99 (outros), "N", interest 1 (valor por dia) from the day after due, fine 2
# (percentual) from the day after due, no protest ("3"), write-off after 120 days.
_REM_FILE_HEADER = _FILE_HEADER.replace(
    add=[
        alpha("zeros_33", 33, 52),
        alpha("company_reserved", 192, 211),
        alpha("app_version", 212, 215),
    ]
)
_REM_LOT_HEADER = _LOT_HEADER.replace(
    add=[alpha("zeros_12", 12, 13), alpha("zeros_40", 40, 53), alpha("zeros_66", 66, 73)]
)
_SEG_P = SEG_P.replace(
    add=[
        alpha("agreement_code", 24, 29),
        alpha("zeros_30", 30, 40),
        alpha("nosso_numero", 41, 57),
        alpha("document_number", 63, 73),
    ],
    drop=["account", "account_dv", "branch_account_dv"],
)
CNAB240 = replace(
    CNAB240,
    remessa=Remessa240(
        file_header=_REM_FILE_HEADER,
        lot_header=_REM_LOT_HEADER,
        seg_p=_SEG_P,
        constants={
            "file_header": {
                "zeros_33": "0" * 20,
                "bank_reserved_2": "00000000",
                "bank_name": "CAIXA ECONOMICA FEDERAL",
                "company_reserved": "REMESSA-PRODUCAO",
            },
            "lot_header": {"zeros_12": "00", "zeros_40": "0" * 14, "zeros_66": "0" * 8},
            "segment_p": {
                "zeros_30": "0" * 11,
                "wallet": 1,
                "registration": 1,
                "document_type": "2",
                "boleto_issuer": 2,
                "distribution": "0",
                "collecting_branch_dv": "0",
                "species": 99,
                "acceptance": "N",
                "protest_code": 3,
                "write_off_code": 1,
                "write_off_days": "120",
                "currency": 9,
            },
        },
        interest_code=1,
        no_interest_code=1,
        no_fine_code=2,
    ),
)
