"""Brazilian company and person documents (CNPJ, CPF), normalised and checked.

Validation is validate-docbr's (maintained; knows the alphanumeric CNPJ that Receita Federal issues
from July 2026). Normal form: no punctuation, letters upper-case.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[.\-/\s]")


def normalize_cnpj(raw: str) -> str | None:
    """The CNPJ in normal form, or None when it is not a valid CNPJ."""
    from validate_docbr import CNPJ  # deferred: only requests carrying a document pay for it

    candidate = _PUNCTUATION.sub("", raw).upper()
    if len(candidate) != 14 or not CNPJ().validate(candidate):
        return None
    return candidate


def normalize_cpf(raw: str) -> str | None:
    """The CPF as 11 digits, or None when it is not a valid CPF."""
    from validate_docbr import CPF

    candidate = _PUNCTUATION.sub("", raw)
    if len(candidate) != 11 or not candidate.isdigit() or not CPF().validate(candidate):
        return None
    return candidate
