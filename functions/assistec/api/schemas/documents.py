"""Models of the shop's documents (intake receipt, quote, delivery receipt) and what it prints on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from assistec.api.schemas.common import Input, Int, Output

DocumentKind = Literal["intake", "quote", "delivery"]
Paper = Literal["a4", "thermal80"]
LogoType = Literal["image/png", "image/jpeg"]


def _blank_is_none(value: str | None) -> str | None:
    return value or None


Address = Annotated[str, StringConstraints(max_length=300), AfterValidator(_blank_is_none)]
Terms = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_blank_is_none)]


class DocumentSettingsOut(Output):
    address: str | None = Field(description="Printed under the shop's name")
    intake_terms: str | None = Field(description="The shop's terms on the intake receipt")
    warranty_terms: str | None = Field(
        description="Extra terms under the legal warranty on the delivery receipt"
    )
    has_logo: bool
    logo_url: str | None = Field(description="A short-lived link to the uploaded logo (5 minutes)")
    version: int = Field(description="The shop's settings version (shared with PUT /settings)")
    updated_at: datetime


class DocumentSettingsIn(Input):
    version: Int = Field(ge=1)
    address: Address | None = None
    intake_terms: Terms | None = None
    warranty_terms: Terms | None = None


class LogoUploadIn(Input):
    content_type: LogoType


class LogoUploadOut(Output):
    key: str = Field(description="Confirm the upload with PUT /settings/logo {key}")
    upload_url: str
    upload_fields: dict[str, str] = Field(description="POST these form fields, then the file as `file`")
    max_bytes: int
    expires_in: int


class LogoIn(Input):
    key: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DocumentOut(Output):
    url: str = Field(description="A presigned download link of the PDF")
    filename: str = Field(examples=["OS-0042-orcamento.pdf"])
    content_type: Literal["application/pdf"]
    expires_at: datetime = Field(description="When the link stops working (5 minutes)")


class DocumentEmailOut(Output):
    status: Literal["sent", "suppressed", "failed"] = Field(
        description="sent; suppressed (the address bounced or complained before); failed (the reason)"
    )
    to: str
    message_id: UUID | None = Field(description="The message's record in /email/messages")
    reason: str | None
