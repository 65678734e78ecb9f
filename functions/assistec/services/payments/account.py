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
from assistec.errors import ConflictError, ValidationFailedError
from assistec.integrations.asaas import AsaasClient, AsaasError
from assistec.integrations.kms import Cipher
from assistec.observability import logger
from assistec.services.payments.errors import OpenChargesError, provider_error
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

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

        Settings writers only. A key Asaas refuses is 422 and nothing is stored. A reconnection
        replaces the account (a new version, a new URL and token; the old URL and token are refused
        from the commit on) and is refused (409 ``payment_account_has_open_charges``) while charges
        made in the current account can still move: only its key reads them and only its webhook
        reports them. The old webhook is then removed from the Asaas account it was registered in
        (best effort, the outcome audited)."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            tenant = tenants_db.get_tenant(uow.conn, uow.tenant_id)
            previous = pay_db.get_account(uow.conn)
            if previous is not None:
                _refuse_unsettled(uow)
        assert tenant is not None
        webhook_key = f"{identity.tenant_id}.{secrets.token_urlsafe(24)}"
        token = secrets.token_urlsafe(32)
        url = f"{webhook_base}/webhooks/asaas/{webhook_key}"
        client = self._asaas(environment, api_key)
        try:
            hook = client.create_webhook(
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
            client.close()
            if exc.status == 401:
                raise ValidationFailedError(
                    "O Asaas não aceitou esta chave de API (ambiente certo?).",
                    details=[{"field": "api_key", "message": "chave recusada pelo Asaas"}],
                ) from exc
            raise provider_error(exc) from exc
        hook_id = str(hook["id"]) if hook.get("id") else None
        try:
            with self._work(identity, Permission.SETTINGS_WRITE) as uow:
                # The account as it is now, locked: a charge being created reads it shared, so none
                # is made in the account being replaced once this check has passed.
                current = pay_db.get_account(uow.conn, lock=True)
                if current is not None:
                    _refuse_unsettled(uow)
                if (current.version if current else None) != (previous.version if previous else None):
                    raise ConflictError(
                        "A conta Asaas da loja foi alterada por outra pessoa. Recarregue e tente de novo.",
                        details={"current_version": current.version if current else None},
                    )
                account = pay_db.save_account(
                    uow.conn,
                    tenant_id=uow.tenant_id,
                    environment=environment,
                    api_key_ciphertext=self._cipher.encrypt(api_key, _context(uow.tenant_id)),
                    webhook_key=webhook_key,
                    webhook_token_hash=hashlib.sha256(token.encode()).digest(),
                    asaas_webhook_id=hook_id,
                )
                if current is not None:
                    pay_db.forget_asaas_customers(uow.conn)
                uow.audit(
                    "connect",
                    "payment_account",
                    uow.tenant_id,
                    changes={"environment": environment, "webhook_url": url, "asaas_webhook_id": hook_id},
                )
        except Exception:
            # Not stored: the webhook just registered would post to a URL nobody accepts.
            _remove_quietly(client, hook_id)
            raise
        finally:
            client.close()
        if current is not None:
            self._remove_old_webhook(identity, current, webhook_base)
        return account, url, token

    def _remove_old_webhook(self, identity: Identity, old: PaymentAccountRow, webhook_base: str) -> None:
        """Remove the replaced account's webhook from the Asaas account it was registered in, with
        that account's key (its id, or its URL for an account connected before ids were kept). Best
        effort: the outcome (``removed``, ``already_gone``, ``failed``) is audited, never raised."""
        old_url = f"{webhook_base}/webhooks/asaas/{old.webhook_key}"
        outcome, status, hook_id = "failed", None, old.asaas_webhook_id
        client: AsaasClient | None = None
        try:
            api_key = self._cipher.decrypt(bytes(old.api_key_ciphertext), _context(identity.tenant_id))
            client = self._asaas(old.environment, api_key)
            if hook_id is None:
                found = client.find_webhook(old_url)
                hook_id = str(found["id"]) if found else None
            if hook_id is None:
                outcome = "already_gone"
            else:
                client.delete_webhook(hook_id)
                outcome = "removed"
        except AsaasError as exc:
            status = exc.status
            if exc.status == 404:
                outcome = "already_gone"
        except Exception:
            logger.exception("the old Asaas webhook could not be removed")
        finally:
            if client is not None:
                client.close()
        if outcome == "failed":
            logger.warning(
                "the old Asaas webhook is still registered", extra={"webhook_id": hook_id, "status": status}
            )
        with self._work(identity) as uow:
            uow.audit(
                "remove_webhook",
                "payment_account",
                uow.tenant_id,
                changes={
                    "asaas_webhook_id": hook_id,
                    "webhook_url": old_url,
                    "outcome": outcome,
                    "status": status,
                },
            )

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


def _refuse_unsettled(uow: UnitOfWork) -> None:
    """409 while charges of the current account can still move (open, or being refunded)."""
    unsettled = pay_db.unsettled_charges(uow.conn)
    if unsettled:
        raise OpenChargesError(
            details={
                "open_charges": len(unsettled),
                "charges": [{"charge_id": str(c), "status": st} for c, st in unsettled[:20]],
            }
        )


def _remove_quietly(client: AsaasClient, hook_id: str | None) -> None:
    if hook_id is None:
        return
    try:
        client.delete_webhook(hook_id)
    except Exception:
        logger.warning(
            "a webhook registered for a refused connection is still in Asaas", extra={"id": hook_id}
        )
