"""Errors every layer may raise; the API maps them to HTTP in one place (handlers/api.py).

``code`` is stable and machine-readable (clients branch on it); ``message`` is pt-BR for people.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"
    message: str = "Requisição inválida."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.details = details


class NotFoundError(AppError):
    status = 404
    code = "not_found"
    message = "Recurso não encontrado."


class ServiceUnavailableError(AppError):
    status = 503
    code = "service_unavailable"
    message = "Serviço temporariamente indisponível. Tente novamente em instantes."
