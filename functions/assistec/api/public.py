"""The customer's public links: the quote to approve or reject, and the order's tracking page.

HTML by default (what a phone opens from WhatsApp); JSON for the SPA with ``?format=json`` or
``Accept: application/json``. The decision form posts ``application/x-www-form-urlencoded``; JSON
is accepted too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from assistec.api import pages
from assistec.api.identity import public_base_url, services
from assistec.api.routes import Routes
from assistec.api.schemas.auth import TokensOut
from assistec.api.schemas.common import DecisionIn, ErrorBody, QuoteLineOut
from assistec.api.schemas.public import PublicOrderOut, PublicQuoteOut, PublicStep
from assistec.api.schemas.signup import SignupPendingOut
from assistec.domain import orders as machine
from assistec.domain import quotes as quote_rules
from assistec.domain.orders import Status
from assistec.errors import AppError, ValidationFailedError

if TYPE_CHECKING:
    from assistec.services.quotes import PublicOrder, PublicQuote

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="public", public=True)

Token = Annotated[str, Path(min_length=40, max_length=100, pattern=r"^[0-9a-f-]{36}\.[A-Za-z0-9_-]{20,60}$")]
Format = Annotated[str | None, Query(pattern="^(html|json)$")]


def _html_answer(status: int, description: str, model: Any) -> dict[int, Any]:
    return {
        status: {
            "description": description,
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {"model": model}},
        }
    }


def _errors(*codes: int) -> dict[int, Any]:
    return {
        code: {
            "description": desc,
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"model": ErrorBody},
            },
        }
        for code, desc in {
            404: "Unknown link",
            409: "Already decided, or the order no longer waits for a decision",
            410: "The link expired or a newer quote replaced it",
            415: "Body neither a form nor JSON",
            422: "Invalid input",
        }.items()
        if code in codes
    }


def _wants_json(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "json"
    accept = str(
        router.current_event.headers.get("accept") or router.current_event.headers.get("Accept") or ""
    )
    return "application/json" in accept and "text/html" not in accept


def _html(status: int, body: str) -> Response[Any]:
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=body, headers=pages.SECURITY_HEADERS
    )


def _json(status: int, body: str) -> Response[Any]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=body,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"},
    )


def _error(exc: AppError, as_json: bool) -> Response[Any]:
    if as_json:
        body = ErrorBody(
            code=exc.code,
            message=exc.message,
            details=exc.details,
        )
        return _json(exc.status, body.model_dump_json())
    titles = {404: "Link não encontrado", 409: "Decisão já registrada", 410: "Link indisponível"}
    title = {
        "signup_already_confirmed": "Cadastro já confirmado",
        "order_not_delivered": "Comprovante ainda não disponível",
    }.get(exc.code)
    return _html(
        exc.status,
        pages.message_page(title or titles.get(exc.status, "Não foi possível continuar"), exc.message),
    )


def _quote_json(view: PublicQuote) -> PublicQuoteOut:
    quote = view.quote
    return PublicQuoteOut(
        shop_name=view.shop_name,
        logo_url=view.logo_url,
        order_number=view.order.number,
        customer_name=view.customer_name,
        device=view.device,
        version=quote.version,
        is_latest=quote.version == view.latest_version,
        status=pages.quote_status(view),  # type: ignore[arg-type]
        lines=[QuoteLineOut.model_validate(line) for line in quote.lines],
        subtotal_cents=quote.subtotal_cents,
        discount_cents=quote.discount_cents,
        total_cents=quote.total_cents,
        total_text=quote_rules.brl(quote.total_cents),
        deadline_days=quote.deadline_days,
        valid_until=quote.valid_until,
        decided_at=quote.decided_at,
        decided_name=quote.decided_name,
    )


def _order_json(view: PublicOrder) -> PublicOrderOut:
    order = view.order
    return PublicOrderOut(
        shop_name=view.shop_name,
        logo_url=view.logo_url,
        order_number=order.number,
        status=order.status,  # type: ignore[arg-type]
        status_label=machine.LABELS_PT[Status(order.status)],
        promised_at=order.promised_at,
        delivered_at=order.delivered_at,
        warranty_until=order.warranty_until,
        steps=[
            PublicStep(status=s, label=machine.LABELS_PT[Status(s)], at=at)  # type: ignore[arg-type]
            for s, at in view.steps
        ],
    )


@routes.get(
    "/public/quotes/<token>",
    summary="The customer's quote page (HTML; JSON with ?format=json)",
    responses={**_html_answer(200, "The quote", PublicQuoteOut), **_errors(404, 422)},
)
def public_quote(token: Token, format: Format = None) -> Response[Any]:
    as_json = _wants_json(format)
    try:
        view = services().quotes.public_view(token)
    except AppError as exc:
        return _error(exc, as_json)
    if as_json:
        return _json(200, _quote_json(view).model_dump_json())
    return _html(200, pages.quote_page(view))


_DECISION_SCHEMA = {
    "type": "object",
    "required": ["decision", "name"],
    "additionalProperties": False,
    "properties": {
        "decision": {"type": "string", "enum": ["approve", "reject"]},
        "name": {"type": "string", "minLength": 2, "maxLength": 120},
    },
}
# The decision route reads its own body (a plain HTML form or JSON); documented here.
REQUEST_BODIES = [
    (
        "/public/quotes/{token}/decision",
        "post",
        {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _DECISION_SCHEMA},
                "application/json": {"schema": _DECISION_SCHEMA},
            },
        },
    )
]


def _decision_input() -> DecisionIn:
    event = router.current_event
    media = str(event.headers.get("content-type") or event.headers.get("Content-Type") or "").split(";")[0]
    raw = event.decoded_body or ""
    try:
        if media.strip().lower() == "application/x-www-form-urlencoded":
            fields = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        else:
            fields = json.loads(raw) if raw else {}
        if not isinstance(fields, dict):
            raise TypeError("not an object")
        return DecisionIn.model_validate(fields)
    except (ValueError, TypeError) as exc:
        details = (
            [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            if isinstance(exc, ValidationError)
            else None
        )
        raise ValidationFailedError(
            "Digite seu nome (pelo menos 2 letras) e escolha aprovar ou recusar.", details=details
        ) from exc


@routes.post(
    "/public/quotes/<token>/decision",
    summary="Approve or reject the quote: the typed name, time, IP and browser are recorded",
    responses={**_html_answer(200, "Decision recorded", PublicQuoteOut), **_errors(404, 409, 410, 415, 422)},
)
def public_decision(token: Token, format: Format = None) -> Response[Any]:
    event = router.current_event
    accept_json = _wants_json(format) or "json" in str(event.headers.get("content-type") or "")
    try:
        decision = _decision_input()
        view = services().quotes.decide_on_link(
            token,
            approve=decision.decision == "approve",
            name=decision.name,
            ip=event.request_context.identity.source_ip,
            user_agent=event.headers.get("user-agent") or event.headers.get("User-Agent"),
        )
    except ValidationFailedError as exc:
        if accept_json:
            return _error(exc, True)
        try:
            current = services().quotes.public_view(token)
        except AppError as inner:
            return _error(inner, False)
        return _html(
            422,
            pages.quote_page(current, notice=exc.message, notice_kind="bad", action="decision", deeper=True),
        )
    except AppError as exc:
        return _error(exc, accept_json)
    if accept_json:
        return _json(200, _quote_json(view).model_dump_json())
    approved = view.quote.status == "approved"
    notice = (
        f"Obrigado, {view.quote.decided_name}! Orçamento aprovado. A loja já pode iniciar o serviço."
        if approved
        else f"Orçamento recusado, {view.quote.decided_name}. A loja foi avisada."
    )
    return _html(
        200, pages.quote_page(view, notice=notice, notice_kind="good" if approved else "bad", deeper=True)
    )


@routes.get(
    "/public/orders/<token>",
    summary="The order's tracking page: status and dates only (HTML; JSON with ?format=json)",
    responses={**_html_answer(200, "The order's status", PublicOrderOut), **_errors(404, 422)},
)
def public_order(token: Token, format: Format = None) -> Response[Any]:
    as_json = _wants_json(format)
    try:
        view = services().quotes.public_order(token)
    except AppError as exc:
        return _error(exc, as_json)
    if as_json:
        return _json(200, _order_json(view).model_dump_json())
    return _html(200, pages.order_page(view))


# --- the documents the customer's links offer ("Baixar PDF") ------------------------------------
Paper = Annotated[Literal["a4", "thermal80"], Query()]
TrackingDocument = Annotated[Literal["intake", "delivery"], Query()]


def _pdf_answers(*codes: int) -> dict[int, Any]:
    errors = _errors(*codes)
    if 409 in errors:
        errors[409] = {**errors[409], "description": "A delivery receipt before the order was delivered"}
    return {
        302: {
            "description": "The PDF: Location is a download link valid 5 minutes",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}},
        },
        **errors,
        503: {
            "description": "The database or the file storage is unavailable: retry later",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"model": ErrorBody},
            },
        },
    }


def _redirect(url: str) -> Response[Any]:
    return Response(
        status_code=302,
        content_type="text/plain; charset=utf-8",
        body="",
        headers={
            "Location": url,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex, nofollow",
        },
    )


@routes.get(
    "/public/quotes/<token>/pdf",
    summary="The quote of the link as PDF: a redirect to a download link (5 minutes)",
    responses=_pdf_answers(404, 410, 422),
)
def public_quote_pdf(token: Token, paper: Paper = "a4") -> Response[Any]:
    try:
        link = services().documents.public_quote_document(token, paper, link_base=public_base_url(router))
    except AppError as exc:
        return _error(exc, _wants_json(None))
    return _redirect(link.url)


@routes.get(
    "/public/orders/<token>/pdf",
    summary="The order's intake or delivery receipt as PDF: a redirect to a download link (5 minutes)",
    responses=_pdf_answers(404, 409, 410, 422),
)
def public_order_pdf(token: Token, kind: TrackingDocument, paper: Paper = "a4") -> Response[Any]:
    try:
        link = services().documents.public_order_document(
            token, kind, paper, link_base=public_base_url(router)
        )
    except AppError as exc:
        return _error(exc, _wants_json(None))
    return _redirect(link.url)


# --- signup's confirmation link (the owner's, not a customer's: the shop does not exist yet) ---
SignupToken = Annotated[str, Path(min_length=40, max_length=60, pattern=r"^[A-Za-z0-9_-]{40,60}$")]


@routes.get(
    "/public/signup/<token>",
    summary="The page of signup's e-mail link: what confirming will create (HTML; JSON with ?format=json)",
    responses={
        **_html_answer(200, "A signup waiting for confirmation", SignupPendingOut),
        **_errors(404, 409, 410, 422),
    },
)
def signup_confirmation(token: SignupToken, format: Format = None) -> Response[Any]:
    as_json = _wants_json(format)
    try:
        pending = services().signup.pending(token)
    except AppError as exc:
        return _error(exc, as_json)
    if as_json:
        return _json(
            200, SignupPendingOut(email=pending.email, shop_name=pending.shop_name).model_dump_json()
        )
    return _html(200, pages.signup_page(token, shop_name=pending.shop_name, email=pending.email))


@routes.post(
    "/public/signup/<token>",
    summary="Confirm the e-mail: the shop is created and its owner logged in (201 tokens as JSON; HTML page)",
    responses={
        201: {
            "description": "Shop created; the owner's tokens",
            "content": {"application/json": {"model": TokensOut}},
        },
        200: {
            "description": "Shop created (the HTML page)",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        **_errors(404, 409, 410, 415, 422),
    },
)
def signup_confirm(token: SignupToken, format: Format = None) -> Response[Any]:
    event = router.current_event
    as_json = _wants_json(format) or "json" in str(event.headers.get("content-type") or "")
    try:
        pair = services().signup.confirm(token)
    except AppError as exc:
        return _error(exc, as_json)
    if as_json:
        tokens_out = TokensOut(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            tenant_id=pair.identity.tenant_id,
            user_id=pair.identity.user_id,
            role=pair.identity.role,
        )
        return _json(201, tokens_out.model_dump_json())
    return _html(
        200,
        pages.message_page(
            "Loja criada",
            "E-mail confirmado e loja criada! Entre no assistec com seu e-mail e senha.",
            kind="good",
        ),
    )
