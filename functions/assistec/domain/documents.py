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


def formatted(document: str) -> str:
    """A CPF or CNPJ in normal form as people write it: ``123.456.789-09``, ``12.345.678/0001-95``
    (an alphanumeric CNPJ keeps the same mask); anything else as it is."""
    if len(document) == 11:
        return f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"
    if len(document) == 14:
        return f"{document[:2]}.{document[2:5]}.{document[5:8]}/{document[8:12]}-{document[12:]}"
    return document
