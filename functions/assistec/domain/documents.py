"""Brazilian company and person documents (CNPJ, CPF), normalised and checked.

Validation is validate-docbr's (maintained; knows the alphanumeric CNPJ that Receita Federal issues
from July 2026). Normal form: no punctuation, letters upper-case.
"""

from __future__ import annotations

import re

from validate_docbr import CNPJ, CPF

_PUNCTUATION = re.compile(r"[.\-/\s]")
_cnpj = CNPJ()
_cpf = CPF()


def normalize_cnpj(raw: str) -> str | None:
    """The CNPJ in normal form, or None when it is not a valid CNPJ."""
    candidate = _PUNCTUATION.sub("", raw).upper()
    if len(candidate) != 14 or not _cnpj.validate(candidate):
        return None
    return candidate


def normalize_cpf(raw: str) -> str | None:
    """The CPF as 11 digits, or None when it is not a valid CPF."""
    candidate = _PUNCTUATION.sub("", raw)
    if len(candidate) != 11 or not candidate.isdigit() or not _cpf.validate(candidate):
        return None
    return candidate
