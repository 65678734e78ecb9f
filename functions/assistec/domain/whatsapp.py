"""WhatsApp as Evolution API delivers it: who wrote (phones, JIDs, ``@lid`` ids), what kind of message
it is and its text. Pure functions over the webhook's ``data``; no I/O.

Facts these rules rest on (../shared/PROVIDERS.md §1):

- A JID is ``user@server``: ``@s.whatsapp.net`` a person (the user part is the phone in E.164
  digits, sometimes with a ``:device`` suffix), ``@g.us`` a group, ``status@broadcast`` stories,
  ``@broadcast`` lists, ``@lid`` a Linked ID that hides the phone.
- Evolution's ``formatBRNumber`` drops the ninth digit of Brazilian mobiles of old accounts (area
  code >= 31, next digit >= 7), so the JID we receive may lack it; people and address books write
  either spelling too. The canonical form always carries the 9 (``domain.phones``); matching a
  customer uses both spellings (``phone_variants``).
- With ``@lid`` addressing the phone, when Evolution knows it, comes in ``key.remoteJidAlt``
  (2.3.6, with ``key.addressingMode``) or ``key.senderPn`` (2.3.0); sometimes not at all.
- Evolution 2.2+ moves ``extendedTextMessage.text`` into ``conversation``; 1.x did not: read both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assistec.domain.phones import to_e164

JidKind = Literal["user", "lid", "group", "broadcast", "status", "other"]
MessageKind = Literal[
    "text", "image", "audio", "document", "video", "sticker", "reaction", "protocol", "other"
]

_USER_SERVERS = frozenset({"s.whatsapp.net", "c.us"})
# The first digit of an eight-digit Brazilian mobile written without its ninth digit (landlines
# start 2-5, so 6-9 after the area code can only be a mobile missing its 9).
_OLD_MOBILE_FIRST_DIGITS = frozenset("6789")
# Keys of ``data.message`` that describe the message, not its content.
_NOT_CONTENT = frozenset({"messageContextInfo", "base64", "contextInfo"})
# Wrappers whose ``message`` holds the real content.
_WRAPPERS = ("ephemeralMessage", "viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension")
_KINDS: dict[str, MessageKind] = {
    "conversation": "text",
    "extendedTextMessage": "text",
    "buttonsResponseMessage": "text",
    "listResponseMessage": "text",
    "templateButtonReplyMessage": "text",
    "imageMessage": "image",
    "audioMessage": "audio",
    "pttMessage": "audio",
    "documentMessage": "document",
    "documentWithCaptionMessage": "document",
    "videoMessage": "video",
    "ptvMessage": "video",
    "stickerMessage": "sticker",
    "reactionMessage": "reaction",
    "protocolMessage": "protocol",
}


@dataclass(frozen=True)
class Jid:
    """A WhatsApp address taken apart: ``kind``, the ``user`` part (without a ``:device`` suffix)
    and the ``server`` part; ``raw`` as received."""

    kind: JidKind
    user: str
    server: str
    raw: str


@dataclass(frozen=True)
class Sender:
    """The customer's side of a 1:1 chat, read from a ``messages.upsert``'s ``data``. For a message the
    shop wrote (``from_me``), that is the person it was written to.

    ``phone``: E.164 digits (``5511987654321``, canonical: with the ninth digit) when Evolution gave a
    phone anywhere in the key; ``lid``: the Linked ID's user part when it gave one (keep both per
    contact: the same person may arrive either way next time); ``chat_jid``: ``key.remoteJid`` as sent.
    """

    chat_jid: str
    kind: JidKind
    phone: str | None
    lid: str | None
    from_me: bool
    push_name: str | None
    addressing_mode: str | None

    @property
    def reply_to(self) -> str:
        """What to put in a send's ``number``: the phone when known (replying to a lid is unreliable,
        PROVIDERS §1.4), else the chat's JID."""
        return self.phone or self.chat_jid


def parse_jid(jid: str | None) -> Jid:
    """``jid`` taken apart; anything without ``@`` (or not a string) is kind ``other``."""
    raw = jid if isinstance(jid, str) else ""
    text = raw.strip()
    user, at, server = text.partition("@")
    if not at or not user:
        return Jid("other", text, "", raw)
    server = server.lower()
    user = user.split(":", 1)[0]  # "5511987654321:12@s.whatsapp.net": a device of that user
    kind: JidKind
    if server in _USER_SERVERS:
        kind = "user"
    elif server == "lid":
        kind = "lid"
    elif server == "g.us":
        kind = "group"
    elif server == "broadcast":
        kind = "status" if user == "status" else "broadcast"
    else:
        kind = "other"  # newsletters, calls, whatever WhatsApp adds next
    return Jid(kind, user, server, raw)


def normalize_phone(raw: str | None) -> str | None:
    """A phone in E.164 digits (``5511987654321``) from what people type (``(11) 98765-4321``,
    ``+55 11 98765-4321``, ``11987654321``; Brazil by default) or a person's JID
    (``5511987654321@s.whatsapp.net``, international, a ``:device`` suffix allowed). Brazilian mobiles
    come out with their ninth digit. None for what is not a phone: groups, broadcasts, status,
    ``@lid`` ids, invalid numbers."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    if "@" in raw:
        jid = parse_jid(raw)
        if jid.kind != "user" or not jid.user.isdigit():
            return None
        e164 = to_e164(f"+{jid.user}")
    else:
        e164 = to_e164(raw.strip())
    return e164[1:] if e164 else None


def phone_variants(e164: str) -> frozenset[str]:
    """Both spellings of a Brazilian mobile, E.164 digits (``5511987654321`` and ``551187654321``), so
    a customer stored either way is found; any other number is only itself. Symmetric: every
    spelling gives the same set. Only mobiles whose digit after the 9 is 6-9 have a second
    spelling (those are the ones that existed with eight digits; Evolution's ``formatBRNumber``
    drops the 9 for a subset of them: area code >= 31 and next digit >= 7)."""
    digits = e164.removeprefix("+")
    if not digits.isdigit() or not digits.startswith("55"):
        return frozenset({digits})
    national = digits[2:]
    if len(national) == 11 and national[2] == "9" and national[3] in _OLD_MOBILE_FIRST_DIGITS:
        return frozenset({digits, f"55{national[:2]}{national[3:]}"})
    if len(national) == 10 and national[2] in _OLD_MOBILE_FIRST_DIGITS:
        return frozenset({digits, f"55{national[:2]}9{national[2:]}"})
    return frozenset({digits})


def sender_of(data: Mapping[str, Any]) -> Sender:
    """Who the chat is with, from a ``messages.upsert``'s ``data``: the phone from ``remoteJid``,
    ``remoteJidAlt`` or ``senderPn`` (whichever is a person's JID), the lid from whichever is a
    ``@lid``; ``fromMe`` and ``pushName`` as given."""
    key = _mapping(data.get("key"))
    chat = parse_jid(_text(key.get("remoteJid")))
    phone: str | None = None
    lid: str | None = None
    if chat.kind in ("user", "lid"):
        # The alternatives name the same person: 2.3.6 remoteJidAlt, 2.3.0 senderPn (in the key,
        # or beside it in some builds).
        for candidate in (chat, *(parse_jid(_text(v)) for v in _alternatives(key, data))):
            if candidate.kind == "user" and phone is None:
                phone = normalize_phone(candidate.raw)
            elif candidate.kind == "lid" and lid is None:
                lid = candidate.user
    push_name = data.get("pushName")
    mode = key.get("addressingMode")
    return Sender(
        chat_jid=chat.raw,
        kind=chat.kind,
        phone=phone,
        lid=lid,
        from_me=key.get("fromMe") is True,
        push_name=push_name if isinstance(push_name, str) and push_name else None,
        addressing_mode=mode if isinstance(mode, str) else None,
    )


def message_text(data: Mapping[str, Any]) -> str | None:
    """The text a person wrote: ``conversation`` (2.2+), ``extendedTextMessage.text`` (1.x, and
    replies), the caption of an image, video or document, or the label of a tapped button.
    None when the message carries no text."""
    message = _content(data)
    candidates = (
        message.get("conversation"),
        _mapping(message.get("extendedTextMessage")).get("text"),
        _mapping(message.get("imageMessage")).get("caption"),
        _mapping(message.get("videoMessage")).get("caption"),
        _mapping(message.get("documentMessage")).get("caption"),
        _mapping(message.get("buttonsResponseMessage")).get("selectedDisplayText"),
        _mapping(message.get("templateButtonReplyMessage")).get("selectedDisplayText"),
        _mapping(message.get("listResponseMessage")).get("title"),
    )
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    return None


def message_kind(data: Mapping[str, Any]) -> MessageKind:
    """What the message is: by its content first (the key of ``data.message``, wrappers opened),
    then by ``messageType``; ``other`` for anything else (polls, contacts, locations, edits, …)."""
    for name in _content(data):
        if name in _KINDS:
            return _KINDS[name]
    message_type = data.get("messageType")
    if isinstance(message_type, str) and message_type in _KINDS:
        return _KINDS[message_type]
    return "other"


def _content(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data.message`` with ephemeral/view-once wrappers opened and the document-with-caption
    wrapper replaced by its document (as Evolution 2.2+ does itself); descriptive keys dropped."""
    message = _mapping(data.get("message"))
    for _ in range(3):  # wrappers nest at most a couple of levels; never loop on hostile input
        inner = next((_mapping(message[w]).get("message") for w in _WRAPPERS if w in message), None)
        if not isinstance(inner, Mapping):
            break
        message = inner
    captioned = _mapping(_mapping(message.get("documentWithCaptionMessage")).get("message"))
    if "documentMessage" in captioned:
        message = {**message, "documentMessage": captioned["documentMessage"]}
    return {k: v for k, v in message.items() if k not in _NOT_CONTENT}


def _alternatives(key: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[Any, ...]:
    return (key.get("remoteJidAlt"), key.get("senderPn"), data.get("senderPn"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
