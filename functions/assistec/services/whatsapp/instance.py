"""The shop's WhatsApp number: an instance on the deployment's Evolution server, paired by QR code
or pairing code, its webhook pointed at the shop's own URL with a secret header.

No transaction is open while Evolution is called: the instance's row (name, token, webhook key and
secret) is written first, in its own transaction, so a retry after a failed call finds it and
converges (creating an existing instance answers 403 and is followed by ``set_webhook``, an upsert).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from assistec.db import whatsapp as wa_db
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import NotFoundError, ServiceUnavailableError
from assistec.integrations.evolution import EvolutionClient, EvolutionError
from assistec.integrations.kms import Cipher
from assistec.services.unit_of_work import UnitsOfWork
from assistec.services.whatsapp.server import ClientFactory

# The header Evolution sends with every delivery (the webhook's custom headers): our secret.
SECRET_HEADER = "x-assistec-webhook-secret"  # noqa: S105 - a header name, not a secret
_NO_INSTANCE = "Nenhum número de WhatsApp conectado. Conecte um em /whatsapp/instance."
_UNAVAILABLE = "O servidor do WhatsApp não respondeu. Tente novamente em instantes."


@dataclass(frozen=True, slots=True)
class InstanceView:
    """What the owner sees: the state, the paired number and, while pairing, the QR and the code."""

    name: str
    state: str
    number: str | None
    qr_image: str | None = None  # data:image/png;base64,...
    qr_code: str | None = None
    pairing_code: str | None = None
    webhook_url: str | None = None


def instance_name(tenant_id: UUID) -> str:
    return f"assistec-{tenant_id}"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class WhatsappInstances:
    """Connect, show, disconnect (owners and admins: ``SETTINGS_WRITE``; the QR pairs a phone)."""

    def __init__(self, work: UnitsOfWork, cipher: Cipher, evolution: ClientFactory) -> None:
        self._work = work
        self._cipher = cipher
        self._evolution = evolution

    def connect(self, identity: Identity, *, webhook_base: str, number: str | None = None) -> InstanceView:
        """Create the shop's instance (once) and start pairing: the QR (and the pairing code when
        ``number`` is given). An instance already open answers its state."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = wa_db.get_instance(uow.conn, lock=True)
            created: tuple[str, str] | None = None
            if row is None:
                token = secrets.token_urlsafe(32)
                secret = secrets.token_urlsafe(32)
                name = instance_name(uow.tenant_id)
                context = {"tenant_id": str(uow.tenant_id), "purpose": "evolution-instance-token"}
                row = wa_db.insert_instance(
                    uow.conn,
                    tenant_id=uow.tenant_id,
                    name=name,
                    token_ciphertext=self._cipher.encrypt(token, context),
                    token_hash=digest(token),
                    webhook_key=f"{uow.tenant_id}.{secrets.token_urlsafe(24)}",
                    webhook_secret_hash=digest(secret),
                )
                uow.audit("create", "whatsapp_instance", name)
                created = (token, secret)
        url = f"{webhook_base}/webhooks/evolution/{row.webhook_key}"
        client = self._evolution()  # 503 while the deployment has no Evolution server
        try:
            with client.deadline():
                if created is not None:
                    answer = self._create(client, row.name, url, created, number)
                else:
                    try:
                        answer = client.connect(row.name, number=number)
                    except EvolutionError as exc:
                        if exc.status != 404:
                            raise
                        # The server lost the instance (reset, deleted by hand): made again, with a
                        # new token and webhook secret (the old ones are refused from the commit on).
                        created = self._renew(identity)
                        answer = self._create(client, row.name, url, created, number)
        except EvolutionError as exc:
            raise _unavailable(exc) from exc
        finally:
            client.close()
        return _view(row, answer, url)

    def _renew(self, identity: Identity) -> tuple[str, str]:
        token, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            context = {"tenant_id": str(uow.tenant_id), "purpose": "evolution-instance-token"}
            uow.conn.execute(
                "update whatsapp_instances set token_ciphertext = %s, token_hash = %s, "
                "webhook_secret_hash = %s, state = 'connecting', version = version + 1",
                (self._cipher.encrypt(token, context), digest(token), digest(secret)),
            )
            uow.audit("recreate", "whatsapp_instance", instance_name(uow.tenant_id))
        return token, secret

    def rotate_webhook(self, identity: Identity, *, webhook_base: str) -> InstanceView:
        """A new webhook secret (the old one refused from the commit on), set on the instance."""
        client = self._evolution()
        secret = secrets.token_urlsafe(32)
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = wa_db.get_instance(uow.conn, lock=True)
            if row is None:
                raise NotFoundError(_NO_INSTANCE)
            uow.conn.execute(
                "update whatsapp_instances set webhook_secret_hash = %s, version = version + 1",
                (digest(secret),),
            )
            uow.audit("rotate_webhook", "whatsapp_instance", row.name)
        url = f"{webhook_base}/webhooks/evolution/{row.webhook_key}"
        try:
            with client.deadline():
                client.set_webhook(row.name, url, {SECRET_HEADER: secret})
        except EvolutionError as exc:
            raise _unavailable(exc) from exc
        finally:
            client.close()
        return _view(row, {}, url)

    @staticmethod
    def _create(
        client: EvolutionClient, name: str, url: str, created: tuple[str, str], number: str | None
    ) -> dict[str, Any]:
        token, secret = created
        try:
            answer = client.create_instance(
                name, token=token, webhook_url=url, webhook_headers={SECRET_HEADER: secret}, number=number
            )
            return dict(answer.get("qrcode") or {})
        except EvolutionError as exc:
            if not (exc.ambiguous or exc.status == 403):
                raise
        # It may exist already (a lost answer, an earlier try): point its webhook at us, pair it.
        client.set_webhook(name, url, {SECRET_HEADER: secret})
        return client.connect(name, number=number)

    def status(self, identity: Identity, *, webhook_base: str) -> InstanceView:
        """The state as Evolution has it now (kept), and a fresh QR while pairing."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = wa_db.get_instance(uow.conn)
        if row is None:
            raise NotFoundError(_NO_INSTANCE)
        client = self._evolution()
        answer: dict[str, Any] = {}
        try:
            with client.deadline():
                state = client.connection_state(row.name)
                if state != "open":
                    answer = client.connect(row.name)
        except EvolutionError as exc:
            raise _unavailable(exc) from exc
        finally:
            client.close()
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            wa_db.set_state(uow.conn, state if state in ("open", "connecting", "close") else "close", None)
            row = wa_db.get_instance(uow.conn) or row
        return _view(row, answer, f"{webhook_base}/webhooks/evolution/{row.webhook_key}")

    def disconnect(self, identity: Identity) -> None:
        """Unpair the phone and remove the instance (conversations stay). Evolution first: a row
        removed while the instance lives would leave a number nobody can unpair from here."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = wa_db.get_instance(uow.conn)
        if row is None:
            raise NotFoundError(_NO_INSTANCE)
        client = self._evolution()
        try:
            with client.deadline():
                for call in (client.logout, client.delete_instance):
                    try:
                        call(row.name)
                    except EvolutionError as exc:
                        if exc.status not in (400, 404):  # not connected / already gone
                            raise
        except EvolutionError as exc:
            raise _unavailable(exc) from exc
        finally:
            client.close()
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            wa_db.delete_instance(uow.conn)
            uow.audit("delete", "whatsapp_instance", row.name)


def _view(row: wa_db.InstanceRow, answer: dict[str, Any], url: str | None) -> InstanceView:
    instance = answer.get("instance") if isinstance(answer.get("instance"), dict) else None
    state = str(instance.get("state")) if instance else ("connecting" if answer.get("base64") else row.state)
    return InstanceView(
        name=row.name,
        state=state if state in ("open", "connecting", "close") else row.state,
        number=row.number,
        qr_image=_str(answer.get("base64")),
        qr_code=_str(answer.get("code")),
        pairing_code=_str(answer.get("pairingCode")),
        webhook_url=url,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _unavailable(exc: EvolutionError) -> ServiceUnavailableError:
    return ServiceUnavailableError(_UNAVAILABLE, details={"evolution_status": exc.status, "code": exc.code})
