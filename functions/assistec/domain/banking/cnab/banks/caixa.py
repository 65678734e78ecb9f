"""Caixa Econômica Federal (104), CNAB 240 SIGCB: the agreement ("código do beneficiário", 6 digits)
replaces the account (header 59-64, lot header 34-39, T 24-29); nosso número 40-56 (modality 2 +
15 digits) in the T segment. The lot trailer's title totals come as zeros. CNAB 400 below."""

from __future__ import annotations

from assistec.domain.banking.cnab.engine import alpha
from assistec.domain.banking.cnab.febraban240 import FILE_HEADER, LOT_HEADER, SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank

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
