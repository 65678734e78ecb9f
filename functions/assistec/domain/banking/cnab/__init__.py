"""CNAB files: layouts as data, retorno parsing, remessa building and reading (pure, no I/O).

Public API::

    parse_retorno(data: bytes) -> Retorno
    check_agreement(retorno: Retorno, agreement: Agreement) -> None   # CnabError "other_agreement"
    build_remessa(agreement: Agreement, items: Sequence[RemessaItem], sequence: int,
                  generated_at: datetime, *, layout: str = "cnab240") -> bytes
    read_remessa(data: bytes) -> RemessaFile

Refusals are :class:`CnabError` (``code``, pt-BR ``message``, ``line``, ``details``); nothing is
half-read: a refused file yields no occurrences at all.
"""

from __future__ import annotations

from assistec.domain.banking.cnab.errors import CnabError
from assistec.domain.banking.cnab.model import (
    Agreement,
    AgreementId,
    Defect,
    Instruction,
    Occurrence,
    OccurrenceKind,
    RemessaItem,
    Retorno,
    TrailerTotals,
)
from assistec.domain.banking.cnab.remessa import RemessaFile, build_remessa, read_remessa
from assistec.domain.banking.cnab.retorno import check_agreement, parse_retorno

__all__ = [
    "Agreement",
    "AgreementId",
    "CnabError",
    "Defect",
    "Instruction",
    "Occurrence",
    "OccurrenceKind",
    "RemessaFile",
    "RemessaItem",
    "Retorno",
    "TrailerTotals",
    "build_remessa",
    "check_agreement",
    "parse_retorno",
    "read_remessa",
]
