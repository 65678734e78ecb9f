"""The REST API: one resolver, one Router per resource, one place mapping errors to HTTP, and the
checks made before routing (body size and media type, the local stage's authorizer, the billing
gate). ``serve`` answers one API Gateway event with the environment's composition root."""

from __future__ import annotations

import base64
import importlib
import json
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec import __version__
from assistec.api import (
    auth,
    billing,
    customers,
    devices,
    documents,
    health,
    orders,
    payments,
    public,
    quotes,
    realtime,
    scheduling,
    shop_settings,
    stock,
    users,
    webhooks,
    whatsapp,
)
from assistec.api.identity import (
    Unauthorized,
    emulate_authorizer,
    identity_from_authorizer,
    services,
    serving,
)
from assistec.api.public_routes import LOCAL_ONLY_PUBLIC_ROUTES, PUBLIC_ROUTES, WEBHOOK_PREFIX, is_public_path
from assistec.api.schemas.common import ErrorBody
from assistec.db.connection import DatabaseUnavailableError, TenantBlockedError, billing_gate
from assistec.errors import (
    AppError,
    InvalidJsonError,
    PayloadTooLargeError,
    PaymentRequiredError,
    ServiceUnavailableError,
    SubscriptionCancelledError,
    TooManyAttemptsError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from assistec.observability import logger
from assistec.services.banking.limits import INLINE_MAX_BASE64

if TYPE_CHECKING:
    from assistec.wiring.api import ApiRoot

app = APIGatewayRestResolver(enable_validation=True)


def _error(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response[str]:
    body = ErrorBody(code=code, message=message, details=details, correlation_id=logger.get_correlation_id())
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers=headers,
    )


def _log_identity(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Put the caller's shop and user on every log line of the request."""
    identity = identity_from_authorizer(resolver.current_event.request_context.authorizer.get_context())
    if identity is not None:
        logger.append_keys(tenant_id=str(identity.tenant_id), user_id=str(identity.user_id))
    return next_middleware(resolver)


app.use(middlewares=[_log_identity])
for module in (
    health,
    auth,
    billing,
    users,
    shop_settings,
    customers,
    devices,
    orders,
    documents,
    stock,
    quotes,
    payments,
    public,
    webhooks,
    whatsapp,
    scheduling,
    realtime,
):
    app.include_router(module.router)


@dataclass(frozen=True)
class LazyRoutes:
    """Router modules staff call rarely, kept off the cold start: imported and included on the first
    request whose path could match one of their routes (under one of ``prefixes``, or matching one of
    ``patterns``, written as Powertools matches a rule: a ``<param>`` is one path segment)."""

    name: str
    modules: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def covers(self, path: str) -> bool:
        return path.startswith(self.prefixes) or any(p.match(path) for p in self.patterns)


# Each group's routes all lie in its paths (tests/unit/test_lazy_routes.py checks it, and that no route
# of a group could answer a path another route answers): a path outside them answers as if the group
# were not there, and inside them the group is loaded first, so every path answers as ever (a 404
# for an unknown path or a method no route takes there, a lazy module's route otherwise).
LAZY_ROUTES = (
    # ~1/3 of the API's import: the CNAB layouts of every bank, the statements and reconciliation.
    LazyRoutes(
        "banking",
        (
            "assistec.api.banking",
            "assistec.api.banking_boletos",
            "assistec.api.banking_remessas",
            "assistec.api.banking_reconciliation",
        ),
        prefixes=("/banking/",),
        patterns=(re.compile(r"^/orders/[^/]+/boletos$"),),
    ),
    # Owners' and admins' pages, a few ms each: audit log, reports, e-mail settings and log, LGPD exports.
    LazyRoutes("audit", ("assistec.api.audit",), prefixes=("/audit/",), patterns=(re.compile(r"^/audit$"),)),
    LazyRoutes("reports", ("assistec.api.reports",), prefixes=("/reports/",)),
    LazyRoutes(
        "email",
        ("assistec.api.email",),
        prefixes=("/email/", "/settings/email/"),
        patterns=(re.compile(r"^/settings/email$"),),
    ),
    LazyRoutes(
        "data_exports",
        ("assistec.api.data_exports",),
        prefixes=("/data-exports/",),
        patterns=(re.compile(r"^/data-exports$"),),
    ),
)
_included: set[str] = set()
_including = threading.Lock()


def _include(groups: tuple[LazyRoutes, ...] | list[LazyRoutes]) -> None:
    with _including:
        for group in groups:
            if group.name in _included:
                continue
            # Every module imported before any is included: a failed import leaves no half group.
            modules = [importlib.import_module(name) for name in group.modules]
            for module in modules:
                app.include_router(module.router)
            _included.add(group.name)


def include_routes_for(path: str) -> None:
    """Include the lazy route groups ``path`` could need (nothing, past their first request)."""
    needed = [g for g in LAZY_ROUTES if g.name not in _included and g.covers(path)]
    if needed:
        _include(needed)


def include_all_routes() -> None:
    """Include every lazy route group (the OpenAPI document describes them all)."""
    _include(LAZY_ROUTES)


@app.get("/docs", include_in_schema=False)
def _swagger_ui() -> Response[str]:
    """Swagger UI, outside prod. Built on first request: the OpenAPI machinery costs ~60 ms of import
    that API calls should not pay at cold start."""
    if services().settings.stage == "prod":
        return _error(404, "route_not_found", "Rota não encontrada.")
    from pathlib import Path

    import aws_lambda_powertools.event_handler as powertools_handler
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(powertools_handler.__file__).parent / "openapi" / "swagger_ui"
    html = generate_swagger_html(
        openapi_json(servers=SWAGGER_SERVERS).replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
    return Response(status_code=200, content_type="text/html", body=html)


@app.exception_handler(AppError)  # type: ignore[untyped-decorator]
def _app_error(exc: AppError) -> Response[str]:
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyAttemptsError) else None
    return _error(exc.status, exc.code, exc.message, exc.details, headers)


@app.exception_handler(TenantBlockedError)  # type: ignore[untyped-decorator]
def _tenant_blocked(exc: TenantBlockedError) -> Response[str]:
    refusal = SubscriptionCancelledError() if exc.status == "cancelled" else PaymentRequiredError()
    return _error(refusal.status, refusal.code, refusal.message)


@app.exception_handler(DatabaseUnavailableError)  # type: ignore[untyped-decorator]
def _database_unavailable(_: DatabaseUnavailableError) -> Response[str]:
    # Nothing was written (the transaction never committed); callers, Asaas included, retry.
    logger.exception("database unavailable")
    exc = ServiceUnavailableError()
    return _error(exc.status, exc.code, exc.message, headers={"Retry-After": "5"})


def _invalid_json() -> Response[str]:
    exc = InvalidJsonError()
    return _error(exc.status, exc.code, exc.message)


# pydantic's error types are stable; people read these. Our own validators already speak pt-BR.
_PT_BR = {
    "missing": "campo obrigatório",
    "extra_forbidden": "campo não permitido",
    "string_type": "deve ser um texto",
    "string_too_short": "texto curto demais",
    "string_too_long": "texto longo demais",
    "int_type": "deve ser um número inteiro",
    "int_parsing": "deve ser um número inteiro",
    "bool_type": "deve ser verdadeiro ou falso",
    "bool_parsing": "deve ser verdadeiro ou falso",
    "greater_than_equal": "valor abaixo do mínimo",
    "less_than_equal": "valor acima do máximo",
    "literal_error": "valor não permitido",
    "enum": "valor não permitido",
    "uuid_parsing": "identificador inválido",
    "uuid_type": "identificador inválido",
    "dict_type": "deve ser um objeto",
    "list_type": "deve ser uma lista",
    "model_attributes_type": "deve ser um objeto JSON",
    "date_parsing": "data inválida (AAAA-MM-DD)",
    "date_from_datetime_parsing": "data inválida (AAAA-MM-DD)",
    "date_type": "data inválida (AAAA-MM-DD)",
    "datetime_parsing": "data e hora inválidas (AAAA-MM-DDTHH:MM:SS)",
    "datetime_from_date_parsing": "data e hora inválidas (AAAA-MM-DDTHH:MM:SS)",
    "datetime_type": "data e hora inválidas (AAAA-MM-DDTHH:MM:SS)",
}


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def _unsupported_media_type(_: RequestUnsupportedContentType) -> Response[str]:
    exc = UnsupportedMediaTypeError()
    return _error(exc.status, exc.code, exc.message)


@app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
def _undecodable_body(_: UnicodeDecodeError) -> Response[str]:
    # A (base64) body that is not UTF-8 cannot be JSON.
    return _invalid_json()


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _validation_error(exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return _invalid_json()
    details = [
        {
            "field": ".".join(str(part) for part in e.get("loc", ()) if part != "body"),
            "type": e.get("type"),
            "message": _PT_BR.get(str(e.get("type")), str(e.get("ctx", {}).get("error") or e.get("msg"))),
        }
        for e in errors
    ]
    return _error(422, "validation_error", "Dados inválidos. Verifique os campos indicados.", details)


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


# Routes whose body may pass the API's limit, each with its own (the route checks what it got):
# /banking/files/inline takes the base64 of the largest file, and room for its other fields.
LARGE_BODY_ROUTES = {("POST", "/banking/files/inline"): INLINE_MAX_BASE64 + 4096}


def body_limit(event: dict[str, Any], max_body_bytes: int) -> int:
    """The body limit of the event's route: the API's, or the larger one of LARGE_BODY_ROUTES."""
    route = (str(event.get("httpMethod") or "").upper(), str(event.get("path") or ""))
    return max(max_body_bytes, LARGE_BODY_ROUTES.get(route, 0))


def _refuse_body(event: dict[str, Any], max_body_bytes: int) -> AppError | None:
    """Bodies are checked before routing: request validation would otherwise parse an oversized
    body whole, and hand a form or plain text to parsers this JSON-only API never meant to use."""
    # PostgreSQL text cannot hold U+0000: refused here for the query string and the path too.
    query = event.get("multiValueQueryStringParameters") or {}
    if "\x00" in str(event.get("path") or "") or any(
        "\x00" in str(k) or any("\x00" in str(v) for v in (vs or [])) for k, vs in query.items()
    ):
        return ValidationFailedError(
            "Caractere nulo (\\u0000) não é aceito.",
            details=[{"field": "query", "message": "caractere nulo"}],
        )
    body = event.get("body") or ""
    if not body:
        return None
    if len(body) > max_body_bytes:
        return PayloadTooLargeError(details={"max_bytes": max_body_bytes})
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded" and is_public_path(str(event.get("path") or "")):
        # the public pages' plain HTML forms (they parse their own bodies)
        return _nul_in_body(event, form=True)
    if media_type != "application/json" and not media_type.endswith("+json"):
        return UnsupportedMediaTypeError()
    return _nul_in_body(event, form=False)


def _nul_refusal() -> AppError:
    return ValidationFailedError(
        "Caractere nulo (\\u0000) não é aceito.", details=[{"field": "body", "message": "caractere nulo"}]
    )


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _nul_in_body(event: dict[str, Any], *, form: bool) -> AppError | None:
    """PostgreSQL text and jsonb cannot hold U+0000 (a JSON ``\\u0000`` or a form's ``%00``): such a
    body would fail as it is written (a 500). Refused here for every route (422), except the
    providers' webhooks: a 4xx counts as a failed delivery at Asaas (its queue pauses after 15),
    so there each U+0000 in the JSON becomes U+FFFD and the delivery is stored as ever."""
    raw = str(event.get("body") or "")
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw).decode()
        except ValueError:  # not UTF-8 (UnicodeDecodeError) or not base64: routing refuses it
            return None
    if "\x00" in raw or (form and "%00" in raw):
        return _nul_refusal()
    if form or "\\u0000" not in raw:  # the fast path: no escape that could decode to U+0000
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return None  # not JSON: routing answers 422 invalid_json
    if not _holds_nul(document):
        return None  # an escaped backslash ("\\\\u0000") is six plain characters
    if str(event.get("path") or "").startswith(WEBHOOK_PREFIX):
        event["body"] = json.dumps(_without_nul(document))
        event["isBase64Encoded"] = False
        return None
    return _nul_refusal()


def _as_proxy_response(exc: AppError) -> dict[str, Any]:
    error = _error(exc.status, exc.code, exc.message, exc.details)
    return {
        "statusCode": error.status_code,
        "body": error.body,
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
    }


def _resolve(event: dict[str, Any], context: LambdaContext, root: ApiRoot) -> dict[str, Any]:
    if root.settings.authorizer_emulation:
        route = (event.get("httpMethod", ""), event.get("path", ""))
        try:
            emulate_authorizer(event, root.signing_key.verifying())
        except Unauthorized:
            if route not in PUBLIC_ROUTES | LOCAL_ONLY_PUBLIC_ROUTES and not is_public_path(route[1]):
                # What API Gateway answers for a refused token (our UNAUTHORIZED gateway response).
                return _as_proxy_response(UnauthorizedError())
    # A suspended (or cancelled) shop's own requests are refused as they enter the shop's unit of
    # work (db.connection.billing_gate): before anything is read or written for it. Its owner can
    # still log in, see the invoice and pay (billing.OPEN_WHEN_SUSPENDED); public links and
    # webhooks serve its customers and Asaas as ever.
    identity = identity_from_authorizer((event.get("requestContext") or {}).get("authorizer"))
    path = str(event.get("path") or "")
    gated = (
        identity is not None and not path.startswith(billing.OPEN_WHEN_SUSPENDED) and not is_public_path(path)
    )
    include_routes_for(path)
    with serving(root), billing_gate(identity.tenant_id if gated and identity is not None else None):
        return app.resolve(event, context)


def serve(event: dict[str, Any], context: LambdaContext, root: ApiRoot) -> dict[str, Any]:
    """Answer one API Gateway (REST, proxy) event; every answer carries the correlation id."""
    refusal = _refuse_body(event, body_limit(event, root.settings.max_body_bytes))
    response = _as_proxy_response(refusal) if refusal is not None else _resolve(event, context, root)
    response.setdefault("multiValueHeaders", {})["X-Correlation-Id"] = [logger.get_correlation_id() or ""]
    return response


_ERROR_BODY_REF = "#/components/schemas/ErrorBody"


# "Try it out" on /docs calls the stage that served the page: Swagger UI resolves a relative server
# against the page's own URL (<stage base>/docs), so "." is the stage's base path wherever it is
# served (API Gateway's /<stage>/, LocalStack's /_aws/execute-api/<id>/<stage>/ or
# /restapis/<id>/<stage>/_user_request_/, a custom domain). The committed document's "/" sent
# every call to the host's root.
SWAGGER_SERVERS = [{"url": ".", "description": "This stage (where /docs is served)"}]


def openapi_json(servers: list[dict[str, str]] | None = None) -> str:
    """The OpenAPI document of this API (committed as openapi.json; a test fails when it drifts);
    ``servers`` replaces its server list (the Swagger UI page's own)."""
    import json

    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    include_all_routes()
    document = json.loads(
        app.get_openapi_json_schema(
            title="assistec API",
            version=__version__,
            description="REST API of assistec, the back office of Brazilian repair shops.",
            security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        )
    )
    # Routes that read their own body (Powertools documents only the bodies it parses).
    for path, method, body in [
        *public.REQUEST_BODIES,
        *webhooks.REQUEST_BODIES,
        *billing.REQUEST_BODIES,
        *whatsapp.REQUEST_BODIES,
    ]:
        document["paths"][path][method]["requestBody"] = body
    # Every route behind a token answers 402 while the shop is suspended (except billing's own).
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if operation.get("security") and not path.startswith(billing.OPEN_WHEN_SUSPENDED):
                operation["responses"].setdefault(
                    "402",
                    {
                        "description": "The shop's subscription is suspended or cancelled: nothing was done",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                        },
                    },
                )
    if servers is not None:
        document["servers"] = servers
    return json.dumps(document, indent=2, ensure_ascii=False)
