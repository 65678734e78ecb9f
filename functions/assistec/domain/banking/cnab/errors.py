"""The CNAB domain's refusal: a stable ``code`` for machines, a pt-BR ``message`` for people."""

from __future__ import annotations

from typing import Any


class CnabError(Exception):
    """A file (or a remessa request) that cannot be trusted or built. Nothing was changed."""

    def __init__(self, code: str, message: str, *, line: int | None = None, details: Any = None) -> None:
        text = f"Linha {line}: {message}" if line else message
        super().__init__(text)
        self.code = code
        self.message = text
        self.line = line
        self.details = details
