"""The shop's Google account: the consent (OAuth with PKCE and a signed, one-time, short-lived state),
the tokens kept KMS-encrypted, which calendars are used, and a live client for whoever calls Google
for the shop.

Nothing here holds a transaction open while Google is called: the connection is read in one short
transaction, Google is called, and what changed (a refreshed access token, a rotated refresh token,
``invalid_grant``) is written in another.

The deployment's OAuth client (id and secret, and locally the simulator's URLs) sits in a Secrets
Manager secret (README, "Google Calendar: the OAuth client"); until ops fill it, connecting answers
503 ``google_not_configured`` and everything else works without Google.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import scheduling as db
from assistec.domain.permissions import Permission
from assistec.errors import AppError, NotFoundError, ServiceUnavailableError, ValidationFailedError
from assistec.observability import logger
from assistec.services.access import require
from assistec.services.audit import SystemActor
from assistec.services.unit_of_work import UnitsOfWork

if TYPE_CHECKING:
    from assistec.domain.tokens import Identity
    from assistec.integrations.google_calendar import GoogleCalendar, GoogleOAuthConfig
    from assistec.integrations.kms import Cipher
    from assistec.services.email.service import Mail

STATE_TTL_S = 600
_STATE_AUDIENCE = "assistec-google-consent"
MAX_BUSY_CALENDARS = 50


class GoogleNotConfiguredError(ServiceUnavailableError):
    code = "google_not_configured"
    message = "A integração com o Google ainda não foi configurada nesta instalação. Fale com o suporte."


class GoogleUnavailableError(ServiceUnavailableError):
    code = "google_unavailable"
    message = "O Google não respondeu agora. Tente novamente em instantes."


class GoogleConsentError(AppError):
    status = 400
    code = "google_consent_invalid"
    message = "Este link de autorização do Google expirou ou já foi usado. Comece a conexão de novo."


def config_from_secret(secret_id: str | None) -> GoogleOAuthConfig | None:
    """The deployment's OAuth client from its secret; None while unset or empty."""
    if not secret_id:
        return None
    from assistec.integrations.google_calendar import GoogleOAuthConfig
    from assistec.integrations.secrets import secret_string

    try:
        data = json.loads(secret_string(secret_id))
        return GoogleOAuthConfig.from_secret(data) if isinstance(data, dict) and data else None
    except ValueError:
        return None


def _context(tenant_id: UUID, what: str) -> dict[str, str]:
    from assistec.integrations.kms import GOOGLE_TOKEN

    name, value = GOOGLE_TOKEN
    return {name: value, "tenant_id": str(tenant_id), "token": what}


@dataclass(frozen=True, slots=True)
class ConnectionView:
    connected: bool
    status: str  # connected, reconnect, disconnected
    account_email: str | None
    calendar_id: str | None
    busy_calendar_ids: list[str]
    synced_at: datetime | None
    last_error: str | None
    version: int


def _view(row: db.GoogleConnectionRow | None) -> ConnectionView:
    if row is None:
        return ConnectionView(False, "disconnected", None, None, [], None, None, 0)
    return ConnectionView(
        row.status == "connected",
        row.status,
        row.account_email,
        row.calendar_id,
        list(row.busy_calendar_ids),
        row.synced_at,
        row.last_error,
        row.version,
    )


class GoogleAccess:
    """Live Google clients for a shop, their tokens written back, ``invalid_grant`` handled."""

    def __init__(
        self,
        work: UnitsOfWork,
        cipher: Callable[[], Cipher],
        config: Callable[[], GoogleOAuthConfig | None],
        http: Callable[[], Any],  # an httpx.Client (integrations.google_calendar.http_client)
        mail: Callable[[], Mail | None] = lambda: None,
    ) -> None:
        self.work = work
        self._cipher = cipher
        self._config = config
        self._http = http
        self._mail = mail

    def config(self) -> GoogleOAuthConfig:
        found = self._config()
        if found is None:
            raise GoogleNotConfiguredError()
        return found

    def http(self) -> Any:
        return self._http()

    def encrypt(self, tenant_id: UUID, what: str, token: str) -> bytes:
        return self._cipher().encrypt(token, _context(tenant_id, what))

    @contextmanager
    def calendar(
        self, tenant_id: UUID, *, budget_s: float = 10
    ) -> Iterator[tuple[GoogleCalendar, db.GoogleConnectionRow] | None]:
        """A client for the shop's account, or None (not connected, waiting for a reconnect, or no
        OAuth client in this deployment). Afterwards a refreshed or rotated token is saved; Google's
        ``invalid_grant`` marks the shop "reconnect Google" (the owners get an e-mail) and is raised
        again as ``GoogleReconnectNeeded`` for the caller to carry on without Google."""
        from assistec.integrations.google_calendar import GoogleCalendar, GoogleReconnectNeeded

        config = self._config()
        with self.work(SystemActor(tenant_id=tenant_id)) as uow:
            row = db.get_connection(uow.conn)
        if config is None or row is None or row.status != "connected":
            yield None
            return
        cipher = self._cipher()
        refresh = cipher.decrypt(row.refresh_token_enc, _context(tenant_id, "refresh"))
        access = (
            cipher.decrypt(row.access_token_enc, _context(tenant_id, "access"))
            if row.access_token_enc is not None
            else None
        )
        client = GoogleCalendar(
            config,
            self._http(),
            refresh_token=refresh,
            access_token=access,
            expires_at=row.access_expires_at,
            budget_s=budget_s,
        )
        try:
            yield client, row
        except GoogleReconnectNeeded:
            self.reconnect_needed(tenant_id, "Google recusou a autorização (invalid_grant).")
            raise
        finally:
            self._save_tokens(tenant_id, row, client, access)

    def _save_tokens(
        self, tenant_id: UUID, row: db.GoogleConnectionRow, client: GoogleCalendar, access_before: str | None
    ) -> None:
        changes: dict[str, Any] = {}
        if client.rotated:
            changes["refresh_token_enc"] = self.encrypt(tenant_id, "refresh", client.refresh_token)
        if client.access_token and client.access_token != access_before:
            changes["access_token_enc"] = self.encrypt(tenant_id, "access", client.access_token)
            changes["access_expires_at"] = client.expires_at
        if not changes:
            return
        with self.work(SystemActor(tenant_id=tenant_id)) as uow:
            current = db.get_connection(uow.conn, lock=True)
            # A new consent meanwhile replaced these tokens: keep the new ones.
            if current is not None and current.connected_at == row.connected_at:
                db.update_connection(uow.conn, **changes)

    def reconnect_needed(self, tenant_id: UUID, reason: str) -> None:
        """Mark the shop "reconnect Google" and e-mail its owners, once per consent."""
        with self.work(SystemActor(tenant_id=tenant_id)) as uow:
            row = db.get_connection(uow.conn, lock=True)
            if row is None:
                return
            first = row.reconnect_noticed_at is None
            db.update_connection(
                uow.conn,
                status="reconnect",
                last_error=reason[:500],
                reconnect_noticed_at=row.reconnect_noticed_at or datetime.now(UTC),
            )
            uow.audit("reconnect_needed", "google_connection", tenant_id, changes={"reason": reason})
            uow.emit("GoogleReconnectNeeded", {"account_email": row.account_email})
            owners = [
                str(r[0])
                for r in uow.conn.execute(
                    "select email from users where role = 'owner' and active order by created_at"
                ).fetchall()
            ]
        logger.warning("google reconnect needed", extra={"tenant_id": str(tenant_id)})
        mail = self._mail()
        if not first or mail is None:
            return
        for email in owners:
            try:
                mail.send(tenant_id, template="google_reconnect", to=email, context={}, audience="shop")
            except Exception:
                logger.exception("could not e-mail the owner about the Google connection")


def _state_claims(state: str, keys: Sequence[bytes]) -> dict[str, Any]:
    """A consent state's claims, checked with the first of ``keys`` whose signature matches."""
    import jwt

    if not keys:
        raise ValueError("no key to verify with")
    for key in keys[:-1]:
        try:
            claims: dict[str, Any] = jwt.decode(state, key, algorithms=["HS256"], audience=_STATE_AUDIENCE)
            return claims
        except jwt.InvalidSignatureError:
            continue
    last: dict[str, Any] = jwt.decode(state, keys[-1], algorithms=["HS256"], audience=_STATE_AUDIENCE)
    return last


class GoogleConnections:
    """``/integrations/google``: connect, the callback, which calendars, disconnect."""

    def __init__(
        self,
        access: GoogleAccess,
        signing_key: Callable[[], bytes],
        *,
        verifying_keys: Callable[[], Sequence[bytes]] | None = None,
    ) -> None:
        self._access = access
        self._work = access.work
        self._key = signing_key
        # The keys a state may be signed with (more than one while the signing key is rotated).
        self._verifying = verifying_keys or (lambda: [signing_key()])

    def start(self, identity: Identity, *, redirect_uri: str, login_hint: str | None = None) -> str:
        """The consent URL: PKCE (the verifier kept here, server-side), a state signed for this shop
        and user, usable once within ``STATE_TTL_S``."""
        import jwt

        from assistec.integrations.google_calendar import authorization_url, pkce_pair

        config = self._access.config()
        verifier, challenge = pkce_pair()
        nonce = secrets.token_urlsafe(24)
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            db.add_oauth_state(
                uow.conn,
                tenant_id=uow.tenant_id,
                user_id=identity.user_id,
                nonce=nonce,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
                ttl_s=STATE_TTL_S,
            )
        now = int(time.time())
        state = jwt.encode(
            {
                "aud": _STATE_AUDIENCE,
                "tid": str(identity.tenant_id),
                "sub": str(identity.user_id),
                "nonce": nonce,
                "iat": now,
                "exp": now + STATE_TTL_S,
            },
            self._key(),
            algorithm="HS256",
        )
        return authorization_url(
            config, redirect_uri=redirect_uri, state=state, code_challenge=challenge, login_hint=login_hint
        )

    def finish(self, *, state: str, code: str | None, error: str | None) -> ConnectionView:
        """Google sent the user back: check the state (signature, expiry, once), exchange the code with
        the verifier, learn the account, keep the tokens encrypted."""
        import jwt

        from assistec.integrations.google_calendar import GoogleCalendar, GoogleError, exchange_code, revoke

        try:
            claims = _state_claims(state, self._verifying())
            tenant_id, user_id, nonce = UUID(claims["tid"]), UUID(claims["sub"]), str(claims["nonce"])
        except (jwt.PyJWTError, KeyError, ValueError):
            raise GoogleConsentError() from None
        actor = SystemActor(tenant_id=tenant_id)
        with self._work(actor) as uow:
            taken = db.take_oauth_state(uow.conn, nonce)
        if taken is None or taken[0] != user_id:
            raise GoogleConsentError()
        if error or not code:
            raise GoogleConsentError(
                "A conexão com o Google foi cancelada ou recusada. Comece de novo quando quiser."
            )
        _, verifier, redirect_uri = taken
        config = self._access.config()
        http = self._access.http()
        try:
            tokens = exchange_code(config, http, code=code, verifier=verifier, redirect_uri=redirect_uri)
            if tokens.missing_scopes():
                # The owner unchecked a box on the consent screen: the calendar cannot work like this
                revoke(config, http, tokens.refresh_token or tokens.access_token)
                raise GoogleConsentError(
                    "Para conectar, marque todas as permissões pedidas pelo Google (ver agendas, "
                    "eventos e horários livres). Comece de novo."
                )
            client = GoogleCalendar(
                config,
                http,
                refresh_token=tokens.refresh_token,
                access_token=tokens.access_token,
                expires_at=tokens.expires_at,
            )
            calendars = client.calendars()
        except GoogleError as exc:
            if exc.code == "no_refresh_token":
                raise GoogleConsentError("O Google não concedeu acesso offline. Conecte de novo.") from None
            if exc.status in (400, 401, 403):
                raise GoogleConsentError() from None
            raise GoogleUnavailableError() from None
        primary = next((c for c in calendars if c.get("primary")), calendars[0] if calendars else None)
        calendar_id = str(primary["id"]) if primary else "primary"
        email = calendar_id if primary and "@" in calendar_id else None
        refresh_enc = self._access.encrypt(tenant_id, "refresh", client.refresh_token)
        access_enc = (
            self._access.encrypt(tenant_id, "access", client.access_token) if client.access_token else None
        )
        with self._work(actor) as uow:
            row = db.save_connection(
                uow.conn,
                tenant_id=tenant_id,
                user_id=user_id,
                account_email=email,
                refresh_token_enc=refresh_enc,
                access_token_enc=access_enc,
                access_expires_at=client.expires_at,
                scopes=list(tokens.scopes),
                calendar_id=calendar_id,
            )
            # The appointments ahead go to the calendar now connected.
            uow.conn.execute(
                "update appointments set sync_state = 'pending', sync_attempts = 0, updated_at = now() "
                "where status in ('booked', 'confirmed') and ends_at > now()"
            )
            uow.audit(
                "connect",
                "google_connection",
                tenant_id,
                changes={"account_email": email},
                by=_User(tenant_id, user_id),
            )
            uow.emit("GoogleConnected", {"account_email": email})
        return _view(row)

    def get(self, identity: Identity) -> ConnectionView:
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            return _view(db.get_connection(uow.conn))

    def calendars(self, identity: Identity) -> list[dict[str, Any]]:
        """The account's calendars as Google lists them now (id, name, primary, access)."""
        from assistec.integrations.google_calendar import GoogleError, GoogleReconnectNeeded

        require(identity, Permission.SETTINGS_READ)  # before Google is asked
        try:
            with self._access.calendar(identity.tenant_id) as found:
                if found is None:
                    raise NotFoundError("A loja não está conectada ao Google.")
                client, _ = found
                listed = client.calendars()
        except GoogleReconnectNeeded:
            raise NotFoundError("A conexão com o Google precisa ser refeita.") from None
        except GoogleError:
            raise GoogleUnavailableError() from None
        return [
            {
                "id": str(c["id"]),
                "name": str(c.get("summaryOverride") or c.get("summary") or c["id"]),
                "primary": bool(c.get("primary")),
                "access_role": str(c.get("accessRole") or "reader"),
            }
            for c in listed
        ]

    def choose(
        self, identity: Identity, *, version: int, calendar_id: str, busy_calendar_ids: list[str]
    ) -> ConnectionView:
        """Which calendar receives the appointments and which ones block slots (≤ 50)."""
        busy = list(dict.fromkeys(busy_calendar_ids))
        if len(busy) > MAX_BUSY_CALENDARS:
            raise ValidationFailedError(
                details=[{"field": "busy_calendar_ids", "message": "no máximo 50 agendas"}]
            )
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = db.get_connection(uow.conn, lock=True)
            if row is None:
                raise NotFoundError("A loja não está conectada ao Google.")
            if row.version != version:
                from assistec.errors import ConflictError

                raise ConflictError(
                    "A conexão com o Google foi alterada por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": row.version},
                )
            changes: dict[str, Any] = {"busy_calendar_ids": busy}
            if calendar_id != row.calendar_id:
                changes.update(calendar_id=calendar_id, sync_token=None)
            updated = db.update_connection(uow.conn, **changes)
            uow.audit(
                "update",
                "google_connection",
                uow.tenant_id,
                changes={"calendar_id": calendar_id, "busy_calendar_ids": busy},
            )
            return _view(updated)

    def disconnect(self, identity: Identity) -> None:
        """Revoke the grant at Google (best effort) and forget the tokens; appointments stay."""
        from assistec.integrations.google_calendar import revoke

        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = db.get_connection(uow.conn, lock=True)
            if row is None:
                raise NotFoundError("A loja não está conectada ao Google.")
        token = None
        try:
            token = self._access._cipher().decrypt(
                row.refresh_token_enc, _context(identity.tenant_id, "refresh")
            )
            revoke(self._access.config(), self._access.http(), token)
        except Exception:
            logger.warning("could not revoke the Google grant (it is forgotten here anyway)")
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            db.delete_connection(uow.conn)
            uow.conn.execute(
                "update appointments set sync_state = 'off', updated_at = now() "
                "where sync_state in ('pending', 'failed')"
            )
            uow.audit("disconnect", "google_connection", uow.tenant_id)


@dataclass(frozen=True, slots=True)
class _User:
    """The user who gave the consent, for the audit log of the callback (no session on it)."""

    tenant_id: UUID
    user_id: UUID | None
