"""Evolution's shapes (2.3.x, read from its source; compare tests/fixtures/evolution): error answers,
JIDs as ``createJid`` makes them, send answers, and the ``data`` of the webhook events."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from evolution_sim.state import Instance

# (HTTP status, JSON body), what every simulated route answers
Answer = tuple[int, Any]

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
DELIVERY_STATUSES = ("SERVER_ACK", "DELIVERY_ACK", "READ", "PLAYED")


def error(status: int, *messages: Any) -> Answer:
    """Evolution's error body (main.ts): ``{status, error, response: {message}}``; the exceptions
    pass their arguments as a list, the 401 guard a bare "Unauthorized"."""
    message: Any = list(messages) if messages else _REASONS.get(status, "Error")
    return status, {
        "status": status,
        "error": _REASONS.get(status, "Error"),
        "response": {"message": message},
    }


def unauthorized() -> Answer:
    return error(401)


def format_br_number(digits: str) -> str:
    """Evolution's ``formatBRNumber``: a 13-digit Brazilian mobile loses its ninth digit when the
    area code is >= 31 and the digit after the 9 is >= 7 (how old accounts' JIDs are spelled)."""
    match = re.fullmatch(r"(\d{2})(\d{2})\d(\d{8})", digits)
    if match is None or match.group(1) != "55":
        return digits
    country, area, rest = match.groups()
    if int(rest[0]) < 7 or int(area) < 31:
        return digits
    return country + area + rest


def create_jid(number: str) -> str:
    """Evolution's ``createJid``: JIDs pass as they are; a number loses its punctuation and, when
    Brazilian, its ninth digit as ``format_br_number`` says."""
    number = re.sub(r":\d+", "", number.strip())
    if any(s in number for s in ("@g.us", "@s.whatsapp.net", "@lid", "@broadcast")):
        return number
    digits = re.sub(r"\D", "", number.split("@")[0])
    if len(digits) >= 18:
        return f"{digits}@g.us"
    return f"{format_br_number(digits)}@s.whatsapp.net"


def sent_id() -> str:
    """An id as Baileys gives messages it sends ("3EB0" + 18 hex digits)."""
    return "3EB0" + secrets.token_hex(9).upper()


def phone_id() -> str:
    """An id as an Android phone gives the messages it sends (32 hex digits)."""
    return secrets.token_hex(16).upper()


def date_time() -> str:
    """The envelope's ``date_time`` as Evolution computes it: the server's *local* time written with
    a ``Z`` (``new Date(Date.now() - tzoffset).toISOString()``), so wrong by the server's offset."""
    local = datetime.now(UTC).astimezone()
    shifted = datetime.now(UTC) + (local.utcoffset() or timedelta(0))
    return shifted.strftime("%Y-%m-%dT%H:%M:%S.") + f"{shifted.microsecond // 1000:03d}Z"


def qrcode(instance: Instance) -> dict[str, Any]:
    """``instance.qrCode``: a new QR each time it is asked for while pairing."""
    instance.qr_count += 1
    pairing = secrets.token_hex(4).upper() if instance.pairing_number else None
    return {
        "pairingCode": pairing,
        "code": f"2@{secrets.token_urlsafe(48)},{secrets.token_urlsafe(32)},{secrets.token_urlsafe(32)}",
        "base64": f"data:image/png;base64,{_PNG_1PX}",
        "count": instance.qr_count,
    }


def text_content(text: str) -> dict[str, Any]:
    """What Baileys sends for a text (the send's answer); webhooks carry it as ``conversation``
    (Evolution 2.2+ normalises extendedTextMessage)."""
    return {"extendedTextMessage": {"text": text}}


def media_content(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(messageType, message) of a sendMedia body, as the fromMe echo and the answer carry it."""
    kind = str(body.get("mediatype"))
    media = str(body.get("media") or "")
    content: dict[str, Any] = {
        "url": media if media.startswith("http") else "https://mmg.whatsapp.net/o1/v/t62.7119-24/SIMULATED",
        "mimetype": body.get("mimetype") or ("application/pdf" if kind == "document" else f"{kind}/*"),
        "fileLength": str(len(media)),
        "mediaKeyTimestamp": str(int(time.time())),
    }
    if kind == "document":
        content["fileName"] = body.get("fileName") or "documento"
        content["title"] = content["fileName"]
    if body.get("caption"):
        content["caption"] = body["caption"]
    message_type = f"{kind}Message"
    return message_type, {message_type: content}


def send_answer(remote_jid: str, message_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """A send's answer: the message as Baileys queued it (``status`` PENDING, the timestamp a string)."""
    return {
        "key": {"remoteJid": remote_jid, "fromMe": True, "id": message_id},
        "message": message,
        "messageTimestamp": str(int(time.time())),
        "status": "PENDING",
    }


def upsert_data(
    instance: Instance,
    key: dict[str, Any],
    message: dict[str, Any],
    message_type: str,
    *,
    push_name: str | None,
    status: str,
    source: str,
) -> dict[str, Any]:
    """A ``messages.upsert``'s ``data`` (``prepareMessage``): ``contextInfo`` only when the content
    has one; ``instanceId`` where 1.x had ``owner``."""
    return {
        "key": key,
        "pushName": push_name,
        "status": status,
        "message": message,
        "messageType": message_type,
        "messageTimestamp": int(time.time()),
        "instanceId": instance.instance_id,
        "source": source,
    }


def incoming_key(
    phone: str | None, message_id: str, *, lid: str | None, version: str, addressing: str
) -> dict[str, Any]:
    """The ``key`` of a customer's message: a phone JID; or with a Linked ID, 2.3.6's
    ``remoteJidAlt``/``addressingMode`` (``lid``: the lid in remoteJid, the phone beside it; ``pn``:
    the other way round) or 2.3.0's ``senderPn``. ``phone`` None with a lid: Evolution did not
    learn the phone."""
    phone_jid = f"{phone}@s.whatsapp.net" if phone else None
    if lid is None:
        if phone_jid is None:
            raise ValueError("a message needs a phone or a lid")
        return {"remoteJid": phone_jid, "fromMe": False, "id": message_id}
    lid_jid = f"{lid}@lid"
    if version.startswith("2.3.0"):
        key: dict[str, Any] = {"remoteJid": lid_jid, "fromMe": False, "id": message_id}
        if phone_jid:
            key["senderPn"] = phone_jid
        return key
    if addressing == "pn" and phone_jid:
        return {
            "remoteJid": phone_jid,
            "fromMe": False,
            "id": message_id,
            "remoteJidAlt": lid_jid,
            "addressingMode": "pn",
        }
    key = {"remoteJid": lid_jid, "fromMe": False, "id": message_id, "addressingMode": "lid"}
    if phone_jid:
        key["remoteJidAlt"] = phone_jid
    return key


def update_data(instance: Instance, sent: dict[str, Any], status: str) -> dict[str, Any]:
    """A ``messages.update``'s ``data`` for one of our sends (delivered, read)."""
    key = sent["response"]["key"]
    return {
        "messageId": sent["row_id"],
        "keyId": key["id"],
        "remoteJid": key["remoteJid"],
        "fromMe": True,
        "status": status,
        "instanceId": instance.instance_id,
    }


def connection_data(instance: Instance) -> dict[str, Any]:
    """A ``connection.update``'s ``data``: open carries the paired number and profile."""
    data: dict[str, Any] = {"instance": instance.name}
    if instance.state == "open":
        data.update(wuid=instance.wuid, profileName=instance.profile_name, profilePictureUrl=None)
    data.update(state=instance.state, statusReason=instance.status_reason)
    return data


def qrcode_data(instance: Instance, qr: dict[str, Any]) -> dict[str, Any]:
    """A ``qrcode.updated``'s ``data``."""
    return {
        "qrcode": {
            "instance": instance.name,
            "pairingCode": qr["pairingCode"],
            "code": qr["code"],
            "base64": qr["base64"],
        }
    }


def envelope(
    instance: Instance, event: str, data: Any, *, server_url: str, expose_apikey: bool
) -> dict[str, Any]:
    """The body of every delivery (webhook.controller.ts ``emit``). ``sender`` is absent until the
    instance is paired (undefined in JavaScript); ``apikey`` is the instance's token unless
    AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES is off."""
    body: dict[str, Any] = {
        "event": event,
        "instance": instance.name,
        "data": data,
        "destination": (instance.webhook or {}).get("url"),
        "date_time": date_time(),
    }
    if instance.wuid:
        body["sender"] = instance.wuid
    body["server_url"] = server_url
    body["apikey"] = instance.token if expose_apikey else None
    return body
