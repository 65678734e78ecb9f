"""Sicoob (756, ex-Bancoob): CNAB 240 as FEBRABAN's but the T segment's 38-57 holds nosso número
(10 digits with its check digit) 38-47, installment 48-49, modality 50-51, form 52 (Sicoob's CNAB 240
manual; python-cnab's spec cuts the nosso número at 46, which would drop the check digit).
CNAB 400 below."""

from __future__ import annotations

from assistec.domain.banking.cnab.engine import alpha, num
from assistec.domain.banking.cnab.febraban240 import SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank

_SEG_T = SEG_T.replace(
    add=[
        alpha("nosso_numero", 38, 47),
        num("installment", 48, 49),
        num("modality", 50, 51),
        alpha("form", 52, 52),
    ]
)

CNAB240 = Cnab240Bank(
    slug="sicoob240", code="756", name="Sicoob", seg_t=_SEG_T, layout_version=81, lot_layout_version=40
)
