"""Devices left at the shop: what they are, how they came in, their unlock code (encrypted with
KMS, readable only by roles that repair) and their photos (uploaded straight to S3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from assistec.db import customers as customers_db
from assistec.db import devices as devices_db
from assistec.db.rows import DeviceRow, PhotoRow
from assistec.domain import photos as photo_rules
from assistec.domain.permissions import Permission, allows
from assistec.domain.tokens import Identity
from assistec.errors import NotFoundError, found
from assistec.integrations.kms import Cipher
from assistec.integrations.storage import PhotoStorage
from assistec.observability import logger
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_NO_CUSTOMER = "Cliente não encontrado."
_NO_DEVICE = "Aparelho não encontrado."


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
    """Devices at the shop, always under one of its customers. The unlock code is encrypted with KMS
    under a shop + device context before any transaction opens, never logged or audited, and shown
    only to roles that repair (a code that no longer decrypts degrades to none, with an error log).
    Photos go straight to S3 through short-lived presigned forms and links."""

    def __init__(self, work: UnitsOfWork, cipher: Cipher, storage: PhotoStorage) -> None:
        self._work = work
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

    def create(self, identity: Identity, customer_id: uuid.UUID, fields: dict[str, Any]) -> DeviceView:
        """Register a device of one of the shop's customers (404 for another shop's customer)."""
        device_id = uuid.uuid4()
        sealed = self._sealed(identity, device_id, fields)  # KMS first: no transaction held open meanwhile
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            self._customer(uow, customer_id)
            row = devices_db.insert_device(
                uow.conn, device_id=device_id, tenant_id=uow.tenant_id, customer_id=customer_id, fields=sealed
            )
            uow.audit(
                "create", "device", device_id, changes={k: v for k, v in fields.items() if k != "unlock_code"}
            )
        return self._view(identity, row)

    def list_for_customer(self, identity: Identity, customer_id: uuid.UUID) -> list[DeviceView]:
        """The customer's devices."""
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            self._customer(uow, customer_id)
            rows = devices_db.list_devices(uow.conn, customer_id)
        return [self._view(identity, row) for row in rows]

    def get(self, identity: Identity, device_id: uuid.UUID) -> DeviceView:
        """One device of the caller's shop; 404 for any other id."""
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            row = self._device(uow, device_id)
        return self._view(identity, row)

    def update(
        self, identity: Identity, device_id: uuid.UUID, *, version: int, changes: dict[str, Any]
    ) -> DeviceView:
        """Change a device at ``version`` (409 with the current version when someone else did first);
        a new unlock code is sealed before the transaction and audited only as "alterado"."""
        sealed = self._sealed(identity, device_id, changes)
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            if not sealed:
                return self._view(identity, self._device(uow, device_id))
            _, row = uow.update_versioned(
                lambda: devices_db.get_device(uow.conn, device_id),
                lambda: devices_db.update_device(
                    uow.conn, device_id, expected_version=version, changes=sealed
                ),
                version_of=lambda d: d.version,
                not_found=_NO_DEVICE,
                stale="Este aparelho foi alterado por outra pessoa. Recarregue e tente novamente.",
            )
            uow.audit(
                "update",
                "device",
                device_id,
                changes={k: ("alterado" if k == "unlock_code" else v) for k, v in changes.items()},
            )
        return self._view(identity, row)

    def new_photo(
        self, identity: Identity, device_id: uuid.UUID, content_type: str
    ) -> tuple[PhotoRow, dict[str, Any]]:
        """Register a photo and return the form the browser posts the file with (10 MB, images only)."""
        with self._work(identity, Permission.CUSTOMERS_WRITE) as uow:
            self._device(uow, device_id)
            key = f"{uow.tenant_id}/devices/{device_id}/{uuid.uuid4()}.{photo_rules.EXTENSIONS[content_type]}"
            photo = devices_db.insert_photo(
                uow.conn, tenant_id=uow.tenant_id, device_id=device_id, s3_key=key, content_type=content_type
            )
        form = self._storage.upload_form(
            key, content_type, max_bytes=photo_rules.MAX_BYTES, expires_s=photo_rules.UPLOAD_EXPIRES_S
        )
        return photo, form

    def photos(self, identity: Identity, device_id: uuid.UUID) -> list[PhotoView]:
        """The device's photos with short-lived download links."""
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            self._device(uow, device_id)
            rows = devices_db.list_photos(uow.conn, device_id)
        return [
            PhotoView(r, self._storage.download_url(r.s3_key, expires_s=photo_rules.DOWNLOAD_EXPIRES_S))
            for r in rows
        ]

    @staticmethod
    def _customer(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
        if customers_db.get_customer(uow.conn, customer_id) is None:
            raise NotFoundError(_NO_CUSTOMER)

    @staticmethod
    def _device(uow: UnitOfWork, device_id: uuid.UUID) -> DeviceRow:
        return found(devices_db.get_device(uow.conn, device_id), _NO_DEVICE)
