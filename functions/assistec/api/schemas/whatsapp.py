"""Models of WhatsApp: the shop's number, the bot's texts, the conversations and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from assistec.api.schemas.common import Bool, Input, Int, OrderStatus, Output

InstanceState = Literal["connecting", "open", "close"]
ConversationState = Literal["bot", "awaiting_device", "awaiting_part", "waiting_staff", "with_staff"]


class InstanceIn(Input):
    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{10,15}$")] | None = Field(
        default=None,
        description="The shop's phone (E.164 digits, e.g. 5511987654321): a pairing code besides the QR",
    )


class InstanceOut(Output):
    name: str
    state: InstanceState
    number: str | None
    qr_image: str | None = Field(
        description="The QR code to scan, as a data:image/png;base64 URL (while pairing)"
    )
    qr_code: str | None
    pairing_code: str | None = Field(
        description="The code to type on the phone instead of scanning (with number)"
    )
    webhook_url: str | None


class WhatsappSettingsIn(Input):
    version: Int = Field(ge=0, description="The version read (0 when never saved)")
    bot_enabled: Bool = True
    templates: dict[Annotated[str, StringConstraints(min_length=1, max_length=40)], str | None] = Field(
        default_factory=dict,
        max_length=40,
        description="The bot's texts by key; null (or the default's text) goes back to the default",
    )
    status_messages: list[OrderStatus] | None = Field(
        default=None,
        max_length=11,
        description="The order statuses told to the customer on WhatsApp (status_<status> texts); "
        "null: the defaults (received, waiting_parts, ready, delivered)",
    )
    auto_send_quotes: Bool | None = Field(
        default=None, description="Send every new quote through the quote flow by itself (null: unchanged)"
    )
    quote_reminder_hours: Int | None = Field(default=None, ge=1, le=168, description="null: unchanged")
    quote_expire_hours: Int | None = Field(default=None, ge=2, le=720, description="null: unchanged")
    fetch_media: Bool | None = Field(
        default=None,
        description="Fetch customers' photos, audios and documents to S3, up to 10 MB each (null: unchanged)",
    )


class WhatsappSettingsOut(Output):
    version: int
    bot_enabled: bool
    status_messages: list[OrderStatus]
    auto_send_quotes: bool
    quote_reminder_hours: int
    quote_expire_hours: int
    fetch_media: bool
    templates: dict[str, str]
    overrides: dict[str, str]


class ConversationOut(Output):
    id: UUID
    phone: str | None
    lid: str | None
    customer_id: UUID | None
    push_name: str | None
    state: ConversationState
    state_since: datetime
    assigned_user_id: UUID | None
    unread: int
    opted_out_at: datetime | None
    last_message_at: datetime | None
    created_at: datetime


class ConversationList(Output):
    items: list[ConversationOut]


class MessageOut(Output):
    id: UUID
    conversation_id: UUID
    direction: Literal["in", "out"]
    author: Literal["customer", "bot", "staff", "phone"]
    user_id: UUID | None
    kind: str
    body: str | None
    media: dict[str, str | int | bool] | None = Field(
        default=None,
        description="A file's facts (mimetype, fileLength, caption, fileName...); s3_key once fetched, "
        "fetch: too_large/gone when it will not be",
    )
    media_url: str | None = Field(default=None, description="A 5-minute link to the fetched file")
    status: str
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class MessageList(Output):
    items: list[MessageOut]


class ReplyIn(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class AssigneeIn(Input):
    user_id: UUID | None


class ConversationCustomerIn(Input):
    customer_id: UUID
