"""The REST API: one resolver, one Router per resource, one place mapping errors to HTTP."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.api import health
from assistec.api.models import ErrorBody
from assistec.errors import AppError
from assistec.observability import logger, metrics

app = APIGatewayRestResolver()
app.include_router(health.router)


def _error(status: int, code: str, message: str, details: Any = None) -> Response[str]:
    body = ErrorBody(code=code, message=message, details=details, correlation_id=logger.get_correlation_id())
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json()
    )


@app.exception_handler(AppError)  # type: ignore[untyped-decorator]
def _app_error(exc: AppError) -> Response[str]:
    return _error(exc.status, exc.code, exc.message, exc.details)


@app.not_found
def _not_found(_: Exception) -> Response[str]:
    return _error(404, "route_not_found", "Rota não encontrada.")


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(exc: Exception) -> Response[str]:
    # The stack trace goes to the log (with the correlation id); the client gets no internals.
    logger.exception("unhandled error")
    return _error(
        500, "internal_error", "Erro interno. Tente novamente; se persistir, informe o código de correlação."
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    response.setdefault("multiValueHeaders", {})["X-Correlation-Id"] = [logger.get_correlation_id() or ""]
    return response
