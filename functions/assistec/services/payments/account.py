"""The shop's own Asaas account: connecting it (key stored encrypted, our webhook registered in
Asaas) and a client for it, kept per execution environment."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from uuid import UUID

from assistec.db import payments as pay_db
from assistec.db import tenants as tenants_db
from assistec.db.rows import PaymentAccountRow
from assistec.domain import payments as payment_rules
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ValidationFailedError
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.integrations.kms import Cipher
from assistec.services.payments.errors import provider_error
from assistec.services.unit_of_work import UnitsOfWork

AsaasFactory = Callable[[str, str], AsaasClient]  # (environment, api key) -> client

_MAX_CLIENTS = 256


def _context(tenant_id: UUID) -> dict[str, str]:
    """The KMS encryption context of a shop's key: a ciphertext decrypts for its own shop only."""
    return {"tenant_id": str(tenant_id), "purpose": "asaas-api-key"}


class AsaasAccounts:
    """Each shop's Asaas account. The API key never leaves KMS's envelope in the database, and
    the webhook token is kept only as a hash (shown to the shop once)."""

    def __init__(self, work: UnitsOfWork, cipher: Cipher, asaas: AsaasFactory) -> None:
        self._work = work
        self._cipher = cipher
        self._asaas = asaas
        self._clients: dict[tuple[UUID, int], AsaasClient] = {}

    def connect(
        self, identity: Identity, *, api_key: str, environment: str, webhook_base: str
    ) -> tuple[PaymentAccountRow, str, str]:
        """Register our webhook in the shop's Asaas account, then store the key (encrypted) and
        audit it; return the account, the webhook URL and the token Asaas will send (shown once).

        Settings writers only. A key Asaas refuses is 422 and nothing is stored; a reconnection
        replaces the account (a new version, a new URL and token)."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            tenant = tenants_db.get_tenant(uow.conn, uow.tenant_id)
        assert tenant is not None
        webhook_key = f"{identity.tenant_id}.{secrets.token_urlsafe(24)}"
        token = secrets.token_urlsafe(32)
        url = f"{webhook_base}/webhooks/asaas/{webhook_key}"
        client = self._asaas(environment, api_key)
        try:
            client.create_webhook(
                {
                    "name": "assistec",
                    "url": url,
                    "email": tenant.email,
                    "enabled": True,
                    "interrupted": False,
                    "apiVersion": 3,
                    "authToken": token,
                    "sendType": "SEQUENTIALLY",
                    "events": sorted(payment_rules.KNOWN_EVENTS),
                }
            )
        except AsaasError as exc:
            if exc.status == 401:
                raise ValidationFailedError(
                    "O Asaas não aceitou esta chave de API (ambiente certo?).",
                    details=[{"field": "api_key", "message": "chave recusada pelo Asaas"}],
                ) from exc
            raise provider_error(exc) from exc
        finally:
            client.close()
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            account = pay_db.save_account(
                uow.conn,
                tenant_id=uow.tenant_id,
                environment=environment,
                api_key_ciphertext=self._cipher.encrypt(api_key, _context(uow.tenant_id)),
                webhook_key=webhook_key,
                webhook_token_hash=hashlib.sha256(token.encode()).digest(),
            )
            uow.audit(
                "connect",
                "payment_account",
                uow.tenant_id,
                changes={"environment": environment, "webhook_url": url},
            )
        return account, url, token

    def account(self, identity: Identity) -> PaymentAccountRow | None:
        """The shop's account (settings readers), or None when it was never connected."""
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            return pay_db.get_account(uow.conn)

    def client_for(self, tenant_id: UUID, account: PaymentAccountRow) -> AsaasClient:
        """The shop's Asaas client, kept per execution environment: one KMS decrypt and one
        connection pool per account version, not per call (a reconnected account is a new version)."""
        key = (tenant_id, account.version)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= _MAX_CLIENTS:
                for stale in self._clients.values():
                    stale.close()
                self._clients.clear()
            api_key = self._cipher.decrypt(bytes(account.api_key_ciphertext), _context(tenant_id))
            client = self._clients[key] = self._asaas(account.environment, api_key)
        return client
