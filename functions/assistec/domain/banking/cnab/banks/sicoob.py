"""Sicoob (756, ex-Bancoob): CNAB 240 as FEBRABAN's but the T segment's 38-57 holds nosso número
(10 digits with its check digit) 38-47, installment 48-49, modality 50-51, form 52 (Sicoob's CNAB 240
manual; python-cnab's spec cuts the nosso número at 46, which would drop the check digit).
CNAB 400 below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab.engine import alpha, num
from assistec.domain.banking.cnab.febraban240 import SEG_P, SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Remessa240

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

# Remessa (CNAB 240): P 38-57 as the T segment (nosso número with DV, installment 01, modality 01
# simples com registro, form 4 = A4 sem envelopamento), carteira 1, the company prints and posts
# ("2"/"2"), species 02 (DM), "N", protest code 1 with no days; the lot trailer carries the lot's
# title count and sum.
_SEG_P = SEG_P.replace(
    add=[
        alpha("nosso_numero", 38, 47),
        num("installment", 48, 49),
        num("modality", 50, 51),
        alpha("form", 52, 52),
    ]
)
CNAB240 = replace(
    CNAB240,
    remessa=Remessa240(
        seg_p=_SEG_P,
        constants={
            "file_header": {"bank_name": "SICOOB"},
            "segment_p": {
                "installment": 1,
                "modality": 1,
                "form": "4",
                "wallet": 1,
                "registration": 0,
                "boleto_issuer": 2,
                "distribution": "2",
                "species": 2,
                "acceptance": "N",
                "protest_code": 1,
                "currency": 9,
            },
            "segment_r": {"payer_occurrence": "00000000"},
        },
        interest_code=1,
        no_interest_code=0,
        lot_totals=True,
    ),
)
