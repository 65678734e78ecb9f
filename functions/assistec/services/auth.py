"""Sign-up, login, token refresh and logout.

Access tokens are short-lived JWTs signed with a key held in Secrets Manager; refresh tokens are
opaque, stored hashed, rotated on every use, and a reused (already rotated) refresh token revokes its
whole family: whoever replays a stolen token logs everybody on that chain out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from assistec.db import auth as auth_db
from assistec.db import shop_settings as settings_db
from assistec.db import sql
from assistec.db import tenants as tenants_db
from assistec.db import users as users_db
from assistec.domain import passwords, tokens
from assistec.domain.accounts import Signup, TokenPair
from assistec.domain.permissions import Role
from assistec.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidTokenError,
    ServiceUnavailableError,
    TooManyAttemptsError,
)
from assistec.integrations.usage_keys import UsageKeys
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.billing.common import today_in_brazil
from assistec.services.billing.provisioning import open_subscription
from assistec.services.unit_of_work import UnitsOfWork

MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60

DEFAULT_BUSINESS_HOURS = {
    "mon": [["08:00", "18:00"]],
    "tue": [["08:00", "18:00"]],
    "wed": [["08:00", "18:00"]],
    "thu": [["08:00", "18:00"]],
    "fri": [["08:00", "18:00"]],
    "sat": [["08:00", "12:00"]],
    "sun": [],
}


class SigningKey(Protocol):
    def __call__(self) -> bytes: ...


def _attempt_key(email: str, source_ip: str) -> bytes:
    """The throttle's key: the e-mail and the address the guesses come from, hashed (no addresses
    stored). Guesses from elsewhere spend their own budget, never the owner's."""
    return hashlib.sha256(f"{email.strip().lower()}\x00{source_ip.strip()}".encode()).digest()


class AuthService:
    """Shops signing up and their staff signing in.

    Signup writes the shop, its owner, default settings, the trial subscription and the audit entry
    in one transaction (409 naming the field on a taken CNPJ or e-mail, nothing half-written), then
    publishes ``ShopSignedUp``. Logins are throttled per e-mail and source address (5 passwords
    checked in 15 minutes → 429 with ``Retry-After``, under concurrency too); refresh tokens
    rotate, and a replayed one ends its whole session family (its access tokens included).
    """

    def __init__(
        self,
        work: UnitsOfWork,
        signing_key: SigningKey,
        clock: Callable[[], float] = time.time,
        *,
        usage_keys: UsageKeys | None = None,
    ) -> None:
        self._work = work
        self._key = signing_key
        self._clock = clock
        self._usage_keys = usage_keys

    def signup(self, cmd: Signup, *, claim: Callable[[sql.Conn], None] | None = None) -> TokenPair:
        """Create the shop, its owner and default settings in one transaction; then log the owner in.

        ``claim`` runs first in that transaction (services/signup.py: the e-mail's confirmation is
        spent there, so the shop and the spent confirmation commit together or not at all)."""
        tenant_id = uuid.uuid4()
        password_hash = cmd.password_hash or passwords.hash_password(cmd.password)
        # The shop's key in API Gateway's usage plan, before the shop exists: the owner's first
        # request goes through the authorizer, which names that key. Unavailable: 503, nothing
        # written (the confirmation link stays unspent). A signup refused below leaves an unused key.
        if self._usage_keys is not None:
            try:
                self._usage_keys.ensure(tenant_id)
            except Exception as exc:
                logger.exception(
                    "the shop's usage plan key could not be made", extra={"shop": str(tenant_id)}
                )
                raise ServiceUnavailableError() from exc
        try:
            with self._work(SystemActor(tenant_id)) as uow:
                if claim is not None:
                    claim(uow.conn)
                tenants_db.insert_tenant(
                    uow.conn,
                    tenant_id=tenant_id,
                    name=cmd.shop_name,
                    cnpj=cmd.cnpj,
                    email=cmd.email,
                    phone=cmd.phone,
                )
                owner = users_db.insert_user(
                    uow.conn,
                    tenant_id=tenant_id,
                    email=cmd.email,
                    name=cmd.owner_name,
                    password_hash=password_hash,
                    role=Role.OWNER,
                )
                settings_db.insert_settings(
                    uow.conn,
                    tenant_id=tenant_id,
                    business_hours=DEFAULT_BUSINESS_HOURS,
                    welcome_message=f"Olá! Você está falando com {cmd.shop_name}. Como podemos ajudar?",
                    out_of_hours_message=(
                        f"Olá! {cmd.shop_name} está fora do horário de atendimento. "
                        "Responderemos assim que abrirmos."
                    ),
                )
                # The shop's subscription (trial); ShopSignedUp gets it created in Asaas.
                open_subscription(uow, cmd.plan, today=today_in_brazil())
                identity = tokens.Identity(tenant_id=tenant_id, user_id=owner.id, role=Role.OWNER)
                uow.audit("signup", "tenant", tenant_id, by=identity)
                return self._issue(uow.conn, identity, family_id=uuid.uuid4())
        except sql.DuplicateError as exc:
            constraint = exc.constraint
            if "cnpj" in constraint:
                raise ConflictError(
                    "Já existe uma loja cadastrada com este CNPJ.", details={"field": "cnpj"}
                ) from exc
            if "email" in constraint:
                raise ConflictError(
                    "Este e-mail já está em uso por outro usuário.", details={"field": "email"}
                ) from exc
            raise

    def login(self, email: str, password: str, source_ip: str = "") -> TokenPair:
        """Tokens for a right e-mail and password of an active user.

        At most ``MAX_FAILURES`` passwords per e-mail and source address are checked in
        ``FAILURE_WINDOW_S``: each check first reserves its attempt in the database (serialized per
        key), so parallel guesses cannot overrun the budget; the rest get 429 with ``Retry-After``
        and their password is never looked at. A success forgets the key's attempts.
        """
        key = _attempt_key(email, source_ip)
        # The login lookup crosses shops (a SECURITY DEFINER function): no shop's unit of work yet.
        with self._work.db.transaction() as conn:
            retry_after = auth_db.reserve_login_attempt(
                conn, key, max_attempts=MAX_FAILURES, window_s=FAILURE_WINDOW_S
            )
            if retry_after:
                raise TooManyAttemptsError(retry_after)
            login = users_db.find_login(conn, email)
        ok = passwords.verify_password(login["password_hash"] if login else None, password)
        if not ok or login is None or not login["active"]:
            logger.info("login refused")
            raise InvalidCredentialsError()
        identity = tokens.Identity(
            tenant_id=login["tenant_id"], user_id=login["id"], role=Role(login["role"])
        )
        with self._work(identity) as uow:
            auth_db.clear_login_attempts(uow.conn, key)
            if passwords.needs_rehash(login["password_hash"]):
                current = users_db.get_user(uow.conn, identity.user_id)
                if current is not None:
                    users_db.update_user(
                        uow.conn,
                        identity.user_id,
                        expected_version=current.version,
                        changes={"password_hash": passwords.hash_password(password)},
                    )
            return self._issue(uow.conn, identity, family_id=uuid.uuid4())

    def refresh(self, refresh_token: str) -> TokenPair:
        """New tokens for a live refresh token, which is spent; a spent one revokes its family."""
        try:
            tenant_id = tokens.refresh_token_tenant(refresh_token)
        except tokens.TokenError as exc:
            raise InvalidTokenError() from exc
        # A reuse must revoke the family even though the caller gets an error: commit that first.
        reused = False
        with self._work(SystemActor(tenant_id)) as uow:
            row = auth_db.take_refresh_token(uow.conn, tokens.token_hash(refresh_token))
            if row is None:
                raise InvalidTokenError()
            if row["revoked_at"] is not None:
                auth_db.revoke_family(uow.conn, row["family_id"])
                reused = True
            elif row["expires_at"] <= datetime.fromtimestamp(self._clock(), UTC):
                raise InvalidTokenError()
            else:
                user = users_db.get_user(uow.conn, row["user_id"])
                if user is None or not user.active:
                    auth_db.revoke_family(uow.conn, row["family_id"])
                    reused = True
                else:
                    auth_db.revoke_refresh_token(uow.conn, row["id"])
                    identity = tokens.Identity(tenant_id=tenant_id, user_id=user.id, role=Role(user.role))
                    return self._issue(uow.conn, identity, family_id=row["family_id"])
        assert reused
        raise InvalidTokenError()

    def logout(self, refresh_token: str) -> None:
        """Revoke the session the refresh token belongs to; unknown tokens are a no-op (idempotent)."""
        try:
            tenant_id = tokens.refresh_token_tenant(refresh_token)
        except tokens.TokenError:
            return
        with self._work(SystemActor(tenant_id)) as uow:
            row = auth_db.take_refresh_token(uow.conn, tokens.token_hash(refresh_token))
            if row is not None:
                auth_db.revoke_family(uow.conn, row["family_id"])

    def _issue(self, conn: sql.Conn, identity: tokens.Identity, *, family_id: uuid.UUID) -> TokenPair:
        now = int(self._clock())
        refresh = tokens.new_refresh_token(identity.tenant_id)
        auth_db.insert_refresh_token(
            conn,
            tenant_id=identity.tenant_id,
            user_id=identity.user_id,
            family_id=family_id,
            token_hash=tokens.token_hash(refresh),
            expires_at=datetime.fromtimestamp(now + tokens.REFRESH_TTL_S, UTC),
        )
        # The access token names its session: logout (the family revoked) ends it too.
        session = dataclasses.replace(identity, session_id=family_id)
        return TokenPair(
            access_token=tokens.issue_access_token(session, self._key(), now=now),
            refresh_token=refresh,
            expires_in=tokens.ACCESS_TTL_S,
            identity=identity,
        )
