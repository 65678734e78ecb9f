"""CNAB 400: not standardised by FEBRABAN, but the banks share a skeleton (record type at column 1:
0 header, 1 detail, 9 trailer; the bank code at the header's 77-79; a sequential number at 395-400)
and most of the retorno detail's value columns (153-165 title value, 254-266 paid, ...). The bank
modules in ``banks/`` replace what their manuals move."""

from __future__ import annotations

from assistec.domain.banking.cnab.engine import Record, alpha, day, money, num

W = 400

HEADER = Record(
    "header",
    [
        num("record_type", 1, 1, 0),
        num("file_kind", 2, 2, 2),
        alpha("file_kind_name", 3, 9, "RETORNO"),
        num("service", 10, 11, 1),
        alpha("service_name", 12, 26, "COBRANCA"),
        alpha("company_code", 27, 46),
        alpha("company_name", 47, 76),
        num("bank_code", 77, 79),
        alpha("bank_name", 80, 94),
        day("file_date", 95, 100),
        num("sequence_number", 395, 400, 1),
    ],
    width=W,
)

DETAIL = Record(
    "detail",
    [
        num("record_type", 1, 1, 1),
        num("company_doc_type", 2, 3),
        num("company_document", 4, 17),
        alpha("company_use", 38, 62),
        alpha("nosso_numero", 71, 82),
        alpha("occurrence", 109, 110),
        day("occurred_on", 111, 116),
        alpha("document_number", 117, 126),
        day("due_date", 147, 152),
        money("title_cents", 153, 165),
        num("collecting_bank", 166, 168),
        num("collecting_branch", 169, 173),
        money("fee_cents", 176, 188),
        money("other_expenses_cents", 189, 201),
        money("iof_cents", 215, 227),
        money("abatement_cents", 228, 240),
        money("discount_cents", 241, 253),
        money("paid_cents", 254, 266),
        money("interest_cents", 267, 279),
        money("other_credits_cents", 280, 292),
        day("credited_on", 296, 301),
        alpha("reasons", 319, 328),
        num("sequence_number", 395, 400),
    ],
    width=W,
)

TRAILER = Record(
    "trailer",
    [
        num("record_type", 1, 1, 9),
        num("file_kind", 2, 2, 2),
        num("service", 3, 4, 1),
        num("bank_code", 5, 7),
        num("sequence_number", 395, 400),
    ],
    width=W,
)
