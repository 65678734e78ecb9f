"""Itaú (341). CNAB 240 cobrança: the T segment splits 38-57 into carteira (38-40), nosso número
(41-48) and its check digit (49); branch 19-22 and account 31-35 (Itaú's manual, as python-cnab's
``itauRetorno`` spec). Its lot trailer totals this file's T segments. CNAB 400 below."""

from __future__ import annotations

from assistec.domain.banking.cnab.engine import alpha, num
from assistec.domain.banking.cnab.febraban240 import FILE_HEADER, SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank

_FILE_HEADER = FILE_HEADER.replace(
    add=[num("branch", 54, 57), num("account", 66, 70), alpha("account_dv", 72, 72)],
    drop=["agreement_code", "branch_dv", "branch_account_dv"],
)
_SEG_T = SEG_T.replace(
    add=[
        num("branch", 19, 22),
        num("account", 31, 35),
        alpha("wallet_code", 38, 40),
        alpha("nosso_numero", 41, 48),
        alpha("nosso_numero_dv", 49, 49),
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
