"""CNAB files: layouts as data, retorno parsing, remessa building and reading (pure, no I/O).

Public API::

    parse_retorno(data: bytes) -> Retorno
    build_remessa(agreement: Agreement, items: Sequence[RemessaItem], sequence: int,
                  generated_at: datetime, *, layout: str = "cnab240") -> bytes
    read_remessa(data: bytes) -> RemessaFile

Refusals are :class:`CnabError` (``code``, pt-BR ``message``, ``line``).
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
from assistec.domain.banking.cnab.retorno import parse_retorno

__all__ = [
    "Agreement",
    "AgreementId",
    "CnabError",
    "Defect",
    "Instruction",
    "Occurrence",
    "OccurrenceKind",
    "RemessaItem",
    "Retorno",
    "TrailerTotals",
    "parse_retorno",
]
