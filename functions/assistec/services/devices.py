"""Devices left at the shop: what they are, how they came in, their unlock code (encrypted with
KMS, readable only by roles that repair) and their photos (uploaded straight to S3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import DeviceRow, PhotoRow
from assistec.domain.permissions import Permission, allows
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError
from assistec.integrations.kms import Cipher
from assistec.integrations.storage import PhotoStorage
from assistec.observability import logger
from assistec.services import audit
from assistec.services.access import require

PHOTO_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_EXPIRES_S = 15 * 60
DOWNLOAD_EXPIRES_S = 15 * 60
_PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A device as the caller may see it: the unlock code only for roles allowed to read it."""

    row: DeviceRow
    unlock_code: str | None
    has_unlock_code: bool


@dataclass(frozen=True, slots=True)
class PhotoView:
    row: PhotoRow
    url: str


def _context(identity: Identity, device_id: uuid.UUID) -> dict[str, str]:
    return {"tenant_id": str(identity.tenant_id), "device_id": str(device_id), "field": "unlock_code"}


class DevicesService:
    def __init__(self, db: Database, cipher: Cipher, storage: PhotoStorage) -> None:
        self._db = db
        self._cipher = cipher
        self._storage = storage

    def _view(self, identity: Identity, row: DeviceRow) -> DeviceView:
        code = None
        if row.unlock_code is not None and allows(identity.role, Permission.DEVICES_UNLOCK_READ):
            try:
                code = self._cipher.decrypt(row.unlock_code, _context(identity, row.id))
            except Exception:
                # The device stays usable without its code (ask the customer again); ops get an error
                # line to alarm on: a key disabled or deleted, or a ciphertext moved between rows.
                logger.exception("unlock code could not be decrypted", extra={"device_id": str(row.id)})
        return DeviceView(row=row, unlock_code=code, has_unlock_code=row.unlock_code is not None)

    def _sealed(self, identity: Identity, device_id: uuid.UUID, fields: dict[str, Any]) -> dict[str, Any]:
        if fields.get("unlock_code") is not None:
            fields = {
                **fields,
                "unlock_code": self._cipher.encrypt(fields["unlock_code"], _context(identity, device_id)),
            }
        return fields

    def create(
        self,
        identity: Identity,
        customer_id: uuid.UUID,
        fields: dict[str, Any],
        *,
        correlation_id: str | None = None,
    ) -> DeviceView:
        require(identity, Permission.CUSTOMERS_WRITE)
        device_id = uuid.uuid4()
        sealed = self._sealed(identity, device_id, fields)  # KMS first: no transaction held open meanwhile
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if repo.get_customer(conn, customer_id) is None:
                raise NotFoundError("Cliente não encontrado.")
            row = repo.insert_device(
                conn,
                device_id=device_id,
                tenant_id=identity.tenant_id,
                customer_id=customer_id,
                fields=sealed,
            )
            audit.record(
                conn,
                identity,
                action="create",
                entity="device",
                entity_id=str(device_id),
                changes={k: v for k, v in fields.items() if k != "unlock_code"},
                correlation_id=correlation_id,
            )
        return self._view(identity, row)

    def list_for_customer(self, identity: Identity, customer_id: uuid.UUID) -> list[DeviceView]:
        require(identity, Permission.CUSTOMERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if repo.get_customer(conn, customer_id) is None:
                raise NotFoundError("Cliente não encontrado.")
            rows = repo.list_devices(conn, customer_id)
        return [self._view(identity, row) for row in rows]

    def get(self, identity: Identity, device_id: uuid.UUID) -> DeviceView:
        require(identity, Permission.CUSTOMERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            row = repo.get_device(conn, device_id)
        if row is None:
            raise NotFoundError("Aparelho não encontrado.")
        return self._view(identity, row)

    def update(
        self,
        identity: Identity,
        device_id: uuid.UUID,
        *,
        version: int,
        changes: dict[str, Any],
        correlation_id: str | None = None,
    ) -> DeviceView:
        require(identity, Permission.CUSTOMERS_WRITE)
        sealed = self._sealed(identity, device_id, changes)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = repo.get_device(conn, device_id)
            if current is None:
                raise NotFoundError("Aparelho não encontrado.")
            if not sealed:
                return self._view(identity, current)
            row = repo.update_device(conn, device_id, expected_version=version, changes=sealed)
            if row is None:
                raise ConflictError(
                    "Este aparelho foi alterado por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": current.version},
                )
            audit.record(
                conn,
                identity,
                action="update",
                entity="device",
                entity_id=str(device_id),
                changes={k: ("alterado" if k == "unlock_code" else v) for k, v in changes.items()},
                correlation_id=correlation_id,
            )
        return self._view(identity, row)

    def new_photo(
        self, identity: Identity, device_id: uuid.UUID, content_type: str
    ) -> tuple[PhotoRow, dict[str, Any]]:
        """Register a photo and return the form the browser posts the file with."""
        require(identity, Permission.CUSTOMERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if repo.get_device(conn, device_id) is None:
                raise NotFoundError("Aparelho não encontrado.")
            key = f"{identity.tenant_id}/devices/{device_id}/{uuid.uuid4()}.{_PHOTO_EXTENSIONS[content_type]}"
            photo = repo.insert_photo(
                conn, tenant_id=identity.tenant_id, device_id=device_id, s3_key=key, content_type=content_type
            )
        form = self._storage.upload_form(
            key, content_type, max_bytes=PHOTO_MAX_BYTES, expires_s=UPLOAD_EXPIRES_S
        )
        return photo, form

    def photos(self, identity: Identity, device_id: uuid.UUID) -> list[PhotoView]:
        require(identity, Permission.CUSTOMERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if repo.get_device(conn, device_id) is None:
                raise NotFoundError("Aparelho não encontrado.")
            rows = repo.list_photos(conn, device_id)
        return [
            PhotoView(r, self._storage.download_url(r.s3_key, expires_s=DOWNLOAD_EXPIRES_S)) for r in rows
        ]
