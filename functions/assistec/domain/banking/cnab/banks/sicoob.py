"""Sicoob (756, ex-Bancoob): CNAB 240 as FEBRABAN's but the T segment's 38-57 holds nosso número
(10 digits with its check digit) 38-47, installment 48-49, modality 50-51, form 52 (Sicoob's CNAB 240
manual; python-cnab's spec cuts the nosso número at 46, which would drop the check digit).
CNAB 400 below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab.engine import Record, alpha, day, money, num
from assistec.domain.banking.cnab.febraban240 import SEG_P, SEG_T
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank, Remessa240, Remessa400

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


# -- CNAB 400 remessa (Bancoob/Sicoob, CBR641-based) -------------------------------------------------

# Header: cooperative prefix + DV, the beneficiary code with its DV (agreement_code, 9), the sequence.
# Detail: nosso número 63-74 (11 + DV), installment 01, the company prints ("2"), modality 01,
# species 01 (DM), acceptance 0, distribution 2. Interest and fine are rates here (161-172, 4
# decimals): our values are in centavos, so they are written as none; the trailer is zero-filled.
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
        alpha("agreement_code", 32, 40),  # the beneficiary code (8) and its DV
        alpha("company_name", 47, 76),
        num("bank_code", 77, 79),
        alpha("bank_name", 80, 94, "BANCOOBCED"),
        day("file_date", 95, 100),
        num("sequence", 101, 107),
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
        alpha("branch_dv", 22, 22),
        num("account", 23, 30),
        alpha("account_dv", 31, 31),
        num("agreement_zeros", 32, 37),
        alpha("company_use", 38, 62),
        alpha("nosso_numero", 63, 74),
        num("installment", 75, 76),
        num("value_group", 77, 78),
        num("wallet_variation", 86, 88),
        num("guarantee_account", 89, 89),
        num("guarantee_contract", 90, 94),
        num("guarantee_contract_dv", 95, 95),
        num("bordero", 96, 101),
        num("boleto_issuer", 106, 106),
        num("modality", 107, 108),
        num("movement", 109, 110),
        alpha("document_number", 111, 120),
        day("due_date", 121, 126),
        money("amount_cents", 127, 139),
        num("bank_code", 140, 142),
        num("branch_2", 143, 146),  # the cooperative again, as "agência cobradora"
        alpha("branch_dv_2", 147, 147),
        num("species", 148, 149),
        num("acceptance", 150, 150),
        day("issue_date", 151, 156),
        num("instruction_1", 157, 158),
        num("instruction_2", 159, 160),
        num("interest_rate", 161, 166),
        num("fine_rate", 167, 172),
        num("distribution", 173, 173),
        day("discount_until", 174, 179),
        money("discount_cents", 180, 192),
        num("currency", 193, 193),
        num("zeros_194", 194, 205),
        money("abatement_cents", 206, 218),
        num("payer_doc_type", 219, 220),
        num("payer_document", 221, 234),
        alpha("payer_name", 235, 274),
        alpha("payer_address", 275, 311),
        alpha("payer_district", 312, 326),
        num("payer_zip", 327, 334),
        alpha("payer_city", 335, 349),
        alpha("payer_state", 350, 351),
        alpha("notes", 352, 391),
        num("protest_days", 392, 393),
        num("sequence_number", 395, 400),
    ],
    width=400,
)
_REM_TRAILER_400 = Record(
    "trailer",
    [num("record_type", 1, 1, 9), num("zeros", 2, 394), num("sequence_number", 395, 400)],
    width=400,
)
CNAB400 = Cnab400Bank(
    slug="sicoob400",
    code="756",
    name="Sicoob",
    header=_REM_HEADER_400,
    details={},  # no Sicoob CNAB 400 retorno in the fixtures: retornos are refused as unknown layout
    trailer=_REM_TRAILER_400,
    occurrences={},
    remessa=Remessa400(
        header=_REM_HEADER_400,
        detail=_REM_DETAIL_400,
        trailer=_REM_TRAILER_400,
        constants={
            "detail": {
                "installment": 1,
                "boleto_issuer": 2,
                "modality": 1,
                "species": 1,
                "distribution": 2,
            }
        },
    ),
)
