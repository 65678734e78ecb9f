"""Models of the shop's e-mail: messages sent, suppressed addresses, its SMTP server and texts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from assistec.api.schemas.common import Email, Input, Int, Output

MessageStatus = Literal[
    "sending", "sent", "failed", "suppressed", "delivered", "delayed", "bounced", "complained", "rejected"
]


class EmailMessageOut(Output):
    id: UUID
    template: str
    to_address: str
    subject: str | None
    transport: Literal["ses", "smtp"]
    status: MessageStatus
    error_code: str | None = Field(description="Why it failed (stable code), when it did")
    detail: str | None = Field(description="What happened, in pt-BR (bounce reason, refusal, suppression)")
    attachments: list[str]
    order_id: UUID | None
    created_at: datetime
    updated_at: datetime


class EmailMessagePage(Output):
    items: list[EmailMessageOut]
    next_cursor: str | None


class SuppressionOut(Output):
    address: str
    reason: Literal["bounce", "complaint"]
    detail: str = Field(description="Why the address is suppressed, as SES reported it")
    created_at: datetime


class SuppressionPage(Output):
    items: list[SuppressionOut]
    next_cursor: str | None


Host = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$"),
]


class SmtpIn(Input):
    host: Host = Field(description="The SMTP server's name (e.g. smtp.gmail.com)")
    port: Int = Field(ge=1, le=65535, description="587 (STARTTLS) or 465 (TLS), usually")
    security: Literal["starttls", "tls"] = Field(description="Credentials never travel in clear")
    username: Annotated[str, StringConstraints(min_length=1, max_length=320)] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="Leave out to keep the stored password (never returned)"
    )
    from_address: Email = Field(description="The sender the server accepts (the shop's address)")
    version: Int = Field(ge=0, description="The version you read (0 before the first save)")


class SmtpOut(Output):
    host: str
    port: int
    security: Literal["starttls", "tls"]
    username: str | None
    has_password: bool
    from_address: str
    verified_at: datetime | None = Field(description="When the last test message went through")
    last_error: str | None = Field(description="Why the last test message failed, if it did")
    version: int


class EmailSettingsOut(Output):
    transport: Literal["ses", "smtp"] = Field(description="How the shop's messages leave")
    sender: str = Field(description="The platform's sender (when transport is ses; the shop is the reply-to)")
    smtp: SmtpOut | None


class SmtpTestOut(Output):
    status: Literal["sent", "failed", "suppressed"]
    to: str
    reason: str | None


class TemplateOut(Output):
    name: str
    description: str
    variables: dict[str, str] = Field(description="What each {{ variable }} holds")
    subject: str | None = Field(description="The shop's own subject (null: the default)")
    intro: str | None = Field(description="The shop's own opening paragraph (null: the default)")
    version: int = Field(description="0 while the shop uses the default texts")


class TemplateList(Output):
    items: list[TemplateOut]


OverrideSubject = Annotated[str, StringConstraints(min_length=1, max_length=200)]
OverrideIntro = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class TemplateIn(Input):
    subject: OverrideSubject | None = None
    intro: OverrideIntro | None = None
    version: Int = Field(ge=0, description="The version you read (0 while using the defaults)")


class PreviewIn(Input):
    subject: OverrideSubject | None = None
    intro: OverrideIntro | None = None


class PreviewOut(Output):
    subject: str
    text: str
    html: str
