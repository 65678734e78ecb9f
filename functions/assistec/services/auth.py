"""Sign-up, login, token refresh and logout.

Access tokens are short-lived JWTs signed with a key held in Secrets Manager; refresh tokens are
opaque, stored hashed, rotated on every use, and a reused (already rotated) refresh token revokes its
whole family: whoever replays a stolen token logs everybody on that chain out.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from assistec.db import auth as auth_db
from assistec.db import shop_settings as settings_db
from assistec.db import sql
from assistec.db import tenants as tenants_db
from assistec.db import users as users_db
from assistec.domain import passwords, tokens
from assistec.domain.accounts import Signup, TokenPair
from assistec.domain.permissions import Role
from assistec.errors import ConflictError, InvalidCredentialsError, InvalidTokenError, TooManyAttemptsError
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


def _email_key(email: str) -> bytes:
    return hashlib.sha256(email.strip().lower().encode()).digest()


class AuthService:
    """Shops signing up and their staff signing in.

    Signup writes the shop, its owner, default settings, the trial subscription and the audit entry
    in one transaction (409 naming the field on a taken CNPJ or e-mail, nothing half-written), then
    publishes ``ShopSignedUp``. Logins are throttled per e-mail (5 failures in 15 minutes → 429 with
    ``Retry-After``); refresh tokens rotate, and a replayed one ends its whole session family.
    """

    def __init__(
        self, work: UnitsOfWork, signing_key: SigningKey, clock: Callable[[], float] = time.time
    ) -> None:
        self._work = work
        self._key = signing_key
        self._clock = clock

    def signup(self, cmd: Signup) -> TokenPair:
        """Create the shop, its owner and default settings in one transaction; then log the owner in."""
        tenant_id = uuid.uuid4()
        password_hash = passwords.hash_password(cmd.password)
        try:
            with self._work(SystemActor(tenant_id)) as uow:
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

    def login(self, email: str, password: str) -> TokenPair:
        """Tokens for a right e-mail and password of an active user; failures counted per e-mail."""
        key = _email_key(email)
        # The login lookup crosses shops (a SECURITY DEFINER function): no shop's unit of work yet.
        with self._work.db.transaction() as conn:
            failures, oldest = auth_db.count_recent_failures(conn, key, FAILURE_WINDOW_S)
            if failures >= MAX_FAILURES:
                retry_after = FAILURE_WINDOW_S
                if oldest is not None:
                    retry_after = max(
                        1, int((oldest + timedelta(seconds=FAILURE_WINDOW_S)).timestamp() - self._clock())
                    )
                raise TooManyAttemptsError(retry_after)
            login = users_db.find_login(conn, email)
        ok = passwords.verify_password(login["password_hash"] if login else None, password)
        if not ok or login is None or not login["active"]:
            with self._work.db.transaction() as conn:
                auth_db.record_failure(conn, key)
            logger.info("login refused", extra={"failures_in_window": failures + 1})
            raise InvalidCredentialsError()
        identity = tokens.Identity(
            tenant_id=login["tenant_id"], user_id=login["id"], role=Role(login["role"])
        )
        with self._work(identity) as uow:
            auth_db.clear_failures(uow.conn, key)
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
        return TokenPair(
            access_token=tokens.issue_access_token(identity, self._key(), now=now),
            refresh_token=refresh,
            expires_in=tokens.ACCESS_TTL_S,
            identity=identity,
        )
