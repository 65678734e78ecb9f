from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from assistec.api import pagination
from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import Deleted, Digits
from assistec.api.schemas.email import (
    EmailMessageOut,
    EmailMessagePage,
    EmailSettingsOut,
    MessageStatus,
    PreviewIn,
    PreviewOut,
    SmtpIn,
    SmtpOut,
    SmtpTestOut,
    SuppressionOut,
    SuppressionPage,
    TemplateIn,
    TemplateList,
    TemplateOut,
)

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="email")

Limit = Annotated[int, Field(ge=1, le=pagination.MAX_LIMIT), Digits, Query()]
TemplateName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


@routes.get(
    "/email/messages",
    summary="The shop's e-mails, newest first, with what became of each (delivered, bounced, …)",
    responses=doc(200, EmailMessagePage, 401, 403),
)
def list_messages(
    limit: Limit = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[MessageStatus | None, Query()] = None,
    order_id: Annotated[UUID | None, Query()] = None,
    to: Annotated[str | None, Query(min_length=3, max_length=320)] = None,
) -> Response[Any]:
    after = pagination.key_from(cursor, datetime.fromisoformat, UUID)
    rows = services().mail_admin.messages(
        caller(router),
        limit=limit + 1,
        after=(after[0], after[1]) if after else None,
        status=status,
        order_id=order_id,
        to=to,
    )
    items, next_cursor = pagination.page(rows, limit, lambda m: [m.created_at.isoformat(), str(m.id)])
    return json_response(
        200,
        EmailMessagePage(items=[EmailMessageOut.model_validate(r) for r in items], next_cursor=next_cursor),
    )


@routes.get(
    "/email/suppressions",
    summary="Addresses the shop no longer writes to (bounced or complained), with the reason",
    responses=doc(200, SuppressionPage, 401, 403),
)
def list_suppressions(
    limit: Limit = pagination.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
) -> Response[Any]:
    after = pagination.key_from(cursor, str)
    rows = services().mail_admin.suppressions(
        caller(router), limit=limit + 1, after=after[0] if after else None
    )
    items, next_cursor = pagination.page(rows, limit, lambda s: [s.address])
    return json_response(
        200, SuppressionPage(items=[SuppressionOut.model_validate(r) for r in items], next_cursor=next_cursor)
    )


@routes.delete(
    "/email/suppressions/<address>",
    summary="Write to a suppressed address again (owners and admins)",
    responses=doc(200, Deleted, 401, 403, 404),
)
def lift_suppression(address: Annotated[str, Path(min_length=3, max_length=320)]) -> Response[Any]:
    from urllib.parse import unquote

    # A browser's client percent-encodes the segment (the @ as %40); the gateway passes it as sent.
    services().mail_admin.lift(caller(router), unquote(address))
    return json_response(200, Deleted(deleted=True))


# --- the shop's own server ----------------------------------------------------------------------
def _smtp_out(row: Any) -> SmtpOut:
    return SmtpOut(
        host=row.smtp_host,
        port=row.smtp_port,
        security=row.smtp_security,
        username=row.smtp_username,
        has_password=row.smtp_password_enc is not None,
        from_address=row.from_address,
        verified_at=row.verified_at,
        last_error=row.last_error,
        version=row.version,
    )


@routes.get(
    "/settings/email",
    summary="How the shop's e-mails leave: the platform's sender or the shop's own SMTP server",
    responses=doc(200, EmailSettingsOut, 401, 403),
)
def get_email_settings() -> Response[Any]:
    row = services().mail_admin.smtp(caller(router))
    return json_response(
        200,
        EmailSettingsOut(
            transport="smtp" if row else "ses",
            sender=services().settings.mail_sender,
            smtp=_smtp_out(row) if row else None,
        ),
    )


@routes.put(
    "/settings/email/smtp",
    summary="Send the shop's e-mails through its own SMTP server (STARTTLS or TLS; owners and admins)",
    responses=doc(200, SmtpOut, 401, 403, 409, 413),
)
def put_smtp(body: Annotated[SmtpIn, Body()]) -> Response[Any]:
    from assistec.services.email.admin import SmtpCommand  # the e-mail settings' rare route pays for it

    row = services().mail_admin.save_smtp(
        caller(router),
        SmtpCommand(
            host=body.host.lower(),
            port=body.port,
            security=body.security,
            username=body.username,
            password=body.password,
            from_address=body.from_address,
        ),
        expected_version=body.version,
    )
    return json_response(200, _smtp_out(row))


@routes.delete(
    "/settings/email/smtp",
    summary="Back to the platform's sender",
    responses=doc(200, Deleted, 401, 403, 404),
)
def delete_smtp() -> Response[Any]:
    services().mail_admin.delete_smtp(caller(router))
    return json_response(200, Deleted(deleted=True))


@routes.post(
    "/settings/email/smtp/test",
    summary="Send a test message to yourself through the shop's server",
    responses=doc(200, SmtpTestOut, 401, 403, 404),
)
def test_smtp() -> Response[Any]:
    identity = caller(router)
    sent, to = services().mail_admin.test_smtp(identity)
    return json_response(200, SmtpTestOut(status=sent.status, to=to, reason=sent.reason))


# --- the shop's texts ---------------------------------------------------------------------------
def _template_out(view: Any) -> TemplateOut:
    override = view.override
    return TemplateOut(
        name=view.spec.name,
        description=view.spec.description,
        variables=dict(view.spec.variables),
        subject=override.subject if override else None,
        intro=override.intro if override else None,
        version=override.version if override else 0,
    )


@routes.get(
    "/settings/email/templates",
    summary="The customer messages whose subject and opening paragraph the shop may write",
    responses=doc(200, TemplateList, 401, 403),
)
def list_templates() -> Response[Any]:
    views = services().mail_admin.templates(caller(router))
    return json_response(200, TemplateList(items=[_template_out(v) for v in views]))


@routes.put(
    "/settings/email/templates/<name>",
    summary="The shop's own subject and/or opening paragraph for a message ({{ variables }} allowed)",
    responses=doc(200, TemplateOut, 401, 403, 404, 409, 413),
)
def put_template(name: TemplateName, body: Annotated[TemplateIn, Body()]) -> Response[Any]:
    view = services().mail_admin.save_template(
        caller(router), name, subject=body.subject, intro=body.intro, expected_version=body.version
    )
    return json_response(200, _template_out(view))


@routes.delete(
    "/settings/email/templates/<name>",
    summary="Back to the default texts",
    responses=doc(200, Deleted, 401, 403, 404),
)
def reset_template(name: TemplateName) -> Response[Any]:
    services().mail_admin.reset_template(caller(router), name)
    return json_response(200, Deleted(deleted=True))


@routes.post(
    "/settings/email/templates/<name>/preview",
    summary="The message with sample data, as the customer would read it (with the given texts)",
    responses=doc(200, PreviewOut, 401, 403, 404, 413),
)
def preview_template(name: TemplateName, body: Annotated[PreviewIn, Body()]) -> Response[Any]:
    rendered = services().mail_admin.preview(caller(router), name, subject=body.subject, intro=body.intro)
    return json_response(200, PreviewOut(subject=rendered.subject, text=rendered.text, html=rendered.html))
