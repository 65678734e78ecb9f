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


def found[T](value: T | None, message: str) -> T:
    """``value``, or a 404 with ``message`` when there is none (what RLS hides is not found either)."""
    if value is None:
        raise NotFoundError(message)
    return value


class ServiceUnavailableError(AppError):
    status = 503
    code = "service_unavailable"
    message = "Serviço temporariamente indisponível. Tente novamente em instantes."


class ValidationFailedError(AppError):
    status = 422
    code = "validation_error"
    message = "Dados inválidos. Verifique os campos indicados."


class InvalidJsonError(AppError):
    status = 422
    code = "invalid_json"
    message = "O corpo da requisição não é um JSON válido."


class UnsupportedMediaTypeError(AppError):
    status = 415
    code = "unsupported_media_type"
    message = "Envie o corpo como JSON (Content-Type: application/json)."


class PayloadTooLargeError(AppError):
    status = 413
    code = "payload_too_large"
    message = "O corpo da requisição é grande demais."


class UnauthorizedError(AppError):
    status = 401
    code = "unauthorized"
    message = "Autenticação necessária."


class InvalidCredentialsError(AppError):
    status = 401
    code = "invalid_credentials"
    message = "E-mail ou senha incorretos."


class InvalidTokenError(AppError):
    status = 401
    code = "invalid_token"
    message = "Sessão inválida ou expirada. Entre novamente."


class ForbiddenError(AppError):
    status = 403
    code = "forbidden"
    message = "Você não tem permissão para esta ação."


class ConflictError(AppError):
    status = 409
    code = "conflict"
    message = "O recurso foi alterado ou já existe."


class TooManyAttemptsError(AppError):
    status = 429
    code = "too_many_attempts"
    message = "Muitas tentativas de login. Aguarde alguns minutos e tente novamente."

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(details={"retry_after_seconds": retry_after_s})
        self.retry_after_s = retry_after_s


class PaymentRequiredError(AppError):
    """The shop's subscription is suspended or cancelled: the API refuses its work (no data is
    touched) until the open invoice is paid."""

    status = 402
    code = "subscription_suspended"
    message = (
        "O acesso desta loja está suspenso por falta de pagamento da assinatura do assistec. "
        "Nenhum dado foi apagado: o dono ou um administrador pode ver e pagar a fatura em aberto "
        "em Assinatura (GET /billing), e o acesso volta assim que o pagamento for confirmado."
    )


class SubscriptionCancelledError(PaymentRequiredError):
    code = "subscription_cancelled"
    message = (
        "A assinatura desta loja no assistec foi cancelada. Nenhum dado foi apagado; "
        "fale com o suporte para reativá-la."
    )


class ChargeInProgressError(ConflictError):
    """Another request is talking to Asaas about this charge right now (creating its payment,
    refunding or cancelling it): this one calls Asaas for nothing."""

    code = "charge_in_progress"
    message = (
        "Já há uma cobrança sendo gerada para esta OS. Aguarde alguns segundos e atualize a página "
        "para vê-la."
    )


class CustomerChargeInProgressError(ChargeInProgressError):
    """Another order's charge of the same customer is making the customer's Asaas customer right
    now (once per customer): this one would make a second."""

    message = (
        "Já há uma cobrança deste cliente sendo gerada em outra OS. Aguarde alguns segundos e tente "
        "novamente."
    )


class SandboxKeyRefusedError(ValidationFailedError):
    """The prod stage takes only production Asaas accounts: a sandbox key would take no real money."""

    code = "asaas_sandbox_refused"
    message = (
        "Chaves do ambiente de testes (sandbox) do Asaas não são aceitas em produção. "
        "Use a chave de API de produção da sua conta Asaas."
    )
