"""How Asaas's refusals and a missing account reach the shop (pt-BR, with the API's status codes)."""

from __future__ import annotations

from assistec.errors import AppError, ValidationFailedError
from assistec.integrations.asaas import AsaasError


class PaymentProviderError(AppError):
    status = 502
    code = "payment_provider_error"
    message = "O Asaas recusou ou não respondeu. Nada foi cobrado; tente novamente em instantes."


class NoPaymentAccountError(AppError):
    status = 409
    code = "payment_account_missing"
    message = "Conecte a conta Asaas da loja em /settings/payments antes de cobrar."


def provider_error(exc: AsaasError) -> AppError:
    """A refusal of the data (4xx but 429) is the shop's to fix: 422 with Asaas's own words; anything
    else (Asaas down, throttled) is 502, nothing charged."""
    if 400 <= exc.status < 500 and exc.status != 429:
        description = "; ".join(e.get("description", "") for e in exc.errors if e.get("description"))
        return ValidationFailedError(
            f"O Asaas recusou a cobrança: {description or 'dados inválidos'}.",
            details=[
                {"field": "asaas", "message": e.get("description", ""), "code": e.get("code", "")}
                for e in exc.errors
            ],
        )
    return PaymentProviderError(details={"status": exc.status})


class OpenChargesError(AppError):
    """A reconnection while charges of the current account can still move: they live in that
    account (only its key reads them, only its webhook reports them), so the account stays."""

    status = 409
    code = "payment_account_has_open_charges"
    message = (
        "A loja tem cobranças em aberto ou estornos em andamento na conta Asaas conectada. "
        "Aguarde o pagamento, cancele-as ou espere o estorno terminar antes de trocar de conta."
    )
