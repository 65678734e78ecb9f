"""One small module per bank: its CNAB 240 and/or CNAB 400 variant as data."""

from __future__ import annotations

from assistec.domain.banking.cnab.banks import (
    ailos,
    bb,
    bradesco,
    btg,
    caixa,
    inter,
    itau,
    santander,
    sicoob,
    sicredi,
)
from assistec.domain.banking.cnab.layouts import Cnab240Bank, Cnab400Bank

CNAB240: dict[str, Cnab240Bank] = {
    m.CNAB240.code: m.CNAB240 for m in (bb, caixa, santander, sicoob, sicredi, ailos, btg, itau)
}
CNAB400: dict[str, Cnab400Bank] = {
    m.CNAB400.code: m.CNAB400
    for m in (bb, itau, bradesco, santander, sicoob, sicredi, caixa, inter)
    if hasattr(m, "CNAB400")
}
