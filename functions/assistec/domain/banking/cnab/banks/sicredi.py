"""Sicredi (748): CNAB 240 as FEBRABAN's (nosso número "AA/BXXXXX-D" as 9 digits left-aligned in
38-57); its lot trailer totals this file's T segments (count and value), so they are checked.
CNAB 400 below."""

from __future__ import annotations

from dataclasses import replace

from assistec.domain.banking.cnab import cnab400
from assistec.domain.banking.cnab.engine import alpha, day, num
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank, Remessa240
from assistec.domain.banking.cnab.model import OccurrenceKind as K

CNAB240 = Cnab240Bank(slug="sicredi240", code="748", name="Sicredi", layout_version=81, lot_layout_version=40)

# -- CNAB 400 ---------------------------------------------------------------------------------------


_HEADER_400 = cnab400.HEADER.replace(
    add=[
        alpha("agreement_code", 27, 31),
        num("company_document", 32, 45),
        day("file_date", 95, 102, "AAAAMMDD"),
        num("sequence", 111, 117),
    ],
    drop=["company_code"],
)
_DETAIL_400 = cnab400.DETAIL.replace(
    add=[alpha("nosso_numero", 48, 62), alpha("reasons", 319, 328), day("credited_on", 329, 336, "AAAAMMDD")],
)

OCCURRENCES_400 = {
    "02": (K.ENTRY_CONFIRMED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "06": (K.SETTLED, "Liquidação normal"),
    "09": (K.WRITTEN_OFF, "Baixado automaticamente via arquivo"),
    "10": (K.WRITTEN_OFF, "Baixado conforme instruções da cooperativa de crédito"),
    "12": (K.OTHER, "Abatimento concedido"),
    "13": (K.OTHER, "Abatimento cancelado"),
    "14": (K.DUE_DATE_CHANGED, "Vencimento alterado"),
    "15": (K.SETTLED, "Liquidação em cartório"),
    "16": (K.SETTLED, "Liquidação (outros canais)"),
    "17": (K.SETTLED, "Liquidação após baixa"),
    "19": (K.OTHER, "Confirmação de recebimento de instrução de protesto"),
    "20": (K.OTHER, "Confirmação de recebimento de instrução de sustação de protesto"),
    "23": (K.OTHER, "Entrada de título em cartório"),
    "24": (K.REJECTED, "Entrada rejeitada por CEP irregular"),
    "27": (K.REJECTED, "Baixa rejeitada"),
    "28": (K.FEE, "Tarifa"),
    "29": (K.OTHER, "Rejeição do pagador"),
    "30": (K.REJECTED, "Alteração rejeitada"),
    "32": (K.REJECTED, "Instrução rejeitada"),
    "33": (K.OTHER, "Confirmação de pedido de alteração de outros dados"),
    "34": (K.OTHER, "Retirado de cartório e manutenção em carteira"),
    "35": (K.OTHER, "Aceite do pagador"),
}

CNAB400 = Cnab400Bank(
    slug="sicredi400",
    code="748",
    name="Sicredi",
    header=_HEADER_400,
    details={"1": _DETAIL_400},
    trailer=cnab400.TRAILER,
    occurrences=OCCURRENCES_400,
)

# Remessa (CNAB 240): carteira simples "1", registered, document type "1" (tradicional), the
# company prints and posts ("2"/"2"), species 03 (DMI), "N", interest 1 (valor por dia) and
# discount code 1 as Sicredi's manual asks even at zero, no protest ("3"), write-off after 60 days.
CNAB240 = replace(
    CNAB240,
    remessa=Remessa240(
        constants={
            "file_header": {"bank_name": "SICREDI", "density": 1600},
            "segment_p": {
                "wallet": 1,
                "registration": 1,
                "document_type": "1",
                "boleto_issuer": 2,
                "distribution": "2",
                "species": 3,
                "acceptance": "N",
                "protest_code": 3,
                "write_off_code": 1,
                "write_off_days": "060",
                "currency": 9,
            },
            "segment_r": {"payer_occurrence": "00000000"},
        },
        interest_code=1,
        no_interest_code=1,
        no_discount_code=1,
    ),
)
