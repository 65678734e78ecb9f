"""Customers' photos, audios and documents fetched to S3 when the shop wants it (``fetch_media``).

A media message arrives without its file (Evolution's webhook is set without base64); the consumer
queues it for the sender, which asks Evolution for the file (``getBase64FromMediaMessage``) and
keeps it under ``whatsapp/<shop>/<message id>`` in the devices bucket, up to ``MAX_BYTES`` (a larger
one is recorded as too large, never fetched twice). Staff read it through a short-lived link."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from uuid import UUID

from assistec.db import whatsapp as wa_db
from assistec.integrations.evolution import EvolutionError
from assistec.integrations.storage import MediaStore
from assistec.services.audit import PublicActor
from assistec.services.unit_of_work import UnitsOfWork
from assistec.services.whatsapp.server import ClientFactory

MAX_BYTES = 10 * 1024 * 1024
MEDIA_KINDS = frozenset({"image", "audio", "document", "video"})


def media_key(tenant_id: UUID, message_id: UUID) -> str:
    return f"whatsapp/{tenant_id}/{message_id}"


def wanted(kind: str, media: dict[str, object] | None) -> bool:
    """Whether a message's file is worth asking for: a media kind, not declared larger than the limit."""
    if kind not in MEDIA_KINDS:
        return False
    declared = (media or {}).get("fileLength")
    try:
        return int(str(declared)) <= MAX_BYTES if declared is not None else True
    except ValueError:
        return True


class MediaFetcher:
    def __init__(self, work: UnitsOfWork, evolution: ClientFactory, store: Callable[[], MediaStore]) -> None:
        self._work = work
        self._evolution = evolution
        self._store = store

    def fetch(self, tenant_id: UUID, message_id: UUID) -> str:
        """Fetch one message's file to S3; the outcome (``stored``, ``too_large``, ``gone``,
        ``already``, ``not_media``). Raises on what a retry may fix (Evolution unavailable)."""
        actor = PublicActor(tenant_id=tenant_id, label="WhatsApp")
        with self._work(actor) as uow:
            message = wa_db.get_message(uow.conn, message_id)
            instance = wa_db.get_instance(uow.conn)
            if message is None or message.kind not in MEDIA_KINDS or not message.evolution_id:
                return "not_media"
            if (message.media or {}).get("s3_key") or (message.media or {}).get("fetch"):
                return "already"
            if instance is None:
                return self._record(tenant_id, message_id, {"fetch": "no_number"})
            name, evolution_id = instance.name, message.evolution_id
        client = self._evolution()
        try:
            with client.deadline():
                answer = client.media_base64(name, evolution_id)
        except EvolutionError as exc:
            if exc.status in (400, 404):
                return self._record(tenant_id, message_id, {"fetch": "gone"})  # expired at WhatsApp
            raise
        finally:
            client.close()
        encoded = str(answer.get("base64") or "")
        if len(encoded) * 3 // 4 > MAX_BYTES:
            return self._record(tenant_id, message_id, {"fetch": "too_large"})
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return self._record(tenant_id, message_id, {"fetch": "unreadable"})
        if not data or len(data) > MAX_BYTES:
            return self._record(tenant_id, message_id, {"fetch": "too_large" if data else "empty"})
        mimetype = str(answer.get("mimetype") or "application/octet-stream")[:100]
        key = media_key(tenant_id, message_id)
        self._store().put(key, data, mimetype)
        return self._record(
            tenant_id, message_id, {"s3_key": key, "size": len(data), "stored_mimetype": mimetype}
        )

    def _record(self, tenant_id: UUID, message_id: UUID, facts: dict[str, object]) -> str:
        with self._work(PublicActor(tenant_id=tenant_id, label="WhatsApp")) as uow:
            uow.conn.execute(
                "update wa_messages set media = coalesce(media, '{}'::jsonb) || %s::jsonb where id = %s",
                (json.dumps(facts), message_id),
            )
        return "stored" if "s3_key" in facts else str(facts.get("fetch"))
