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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.domain import passwords, tokens
from assistec.domain.permissions import Role
from assistec.errors import ConflictError, InvalidCredentialsError, InvalidTokenError, TooManyAttemptsError
from assistec.integrations.events import OutboxRelay
from assistec.observability import logger
from assistec.services import audit, billing

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


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    identity: tokens.Identity


@dataclass(frozen=True, slots=True)
class Signup:
    shop_name: str
    cnpj: str
    email: str
    phone: str
    owner_name: str
    password: str
    plan: str | None = None


def _email_key(email: str) -> bytes:
    return hashlib.sha256(email.strip().lower().encode()).digest()


class AuthService:
    def __init__(
        self,
        db: Database,
        signing_key: SigningKey,
        clock: Callable[[], float] = time.time,
        relay: OutboxRelay | None = None,
    ) -> None:
        self._db = db
        self._key = signing_key
        self._clock = clock
        self._relay = relay

    def signup(self, cmd: Signup, *, correlation_id: str | None = None) -> TokenPair:
        """Create the shop, its owner and default settings in one transaction; then log the owner in."""
        tenant_id = uuid.uuid4()
        password_hash = passwords.hash_password(cmd.password)
        try:
            with self._db.tenant_tx(tenant_id) as conn:
                repo.insert_tenant(
                    conn,
                    tenant_id=tenant_id,
                    name=cmd.shop_name,
                    cnpj=cmd.cnpj,
                    email=cmd.email,
                    phone=cmd.phone,
                )
                owner = repo.insert_user(
                    conn,
                    tenant_id=tenant_id,
                    email=cmd.email,
                    name=cmd.owner_name,
                    password_hash=password_hash,
                    role=Role.OWNER,
                )
                repo.insert_settings(
                    conn,
                    tenant_id=tenant_id,
                    business_hours=DEFAULT_BUSINESS_HOURS,
                    welcome_message=f"Olá! Você está falando com {cmd.shop_name}. Como podemos ajudar?",
                    out_of_hours_message=(
                        f"Olá! {cmd.shop_name} está fora do horário de atendimento. "
                        "Responderemos assim que abrirmos."
                    ),
                )
                # The shop's subscription (trial); ShopSignedUp gets it created in Asaas.
                signed_up = billing.open_subscription(
                    conn, tenant_id, cmd.plan, today=billing.today_in_brazil()
                )
                identity = tokens.Identity(tenant_id=tenant_id, user_id=owner.id, role=Role.OWNER)
                audit.record(
                    conn,
                    identity,
                    action="signup",
                    entity="tenant",
                    entity_id=str(tenant_id),
                    correlation_id=correlation_id,
                )
                pair = self._issue(conn, identity, family_id=uuid.uuid4())
        except repo.DuplicateError as exc:
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
        if self._relay is not None:
            self._relay.flush_quietly([signed_up])
        return pair

    def login(self, email: str, password: str) -> TokenPair:
        key = _email_key(email)
        with self._db.transaction() as conn:
            failures, oldest = repo.count_recent_failures(conn, key, FAILURE_WINDOW_S)
            if failures >= MAX_FAILURES:
                retry_after = FAILURE_WINDOW_S
                if oldest is not None:
                    retry_after = max(
                        1, int((oldest + timedelta(seconds=FAILURE_WINDOW_S)).timestamp() - self._clock())
                    )
                raise TooManyAttemptsError(retry_after)
            login = repo.find_login(conn, email)
        ok = passwords.verify_password(login["password_hash"] if login else None, password)
        if not ok or login is None or not login["active"]:
            with self._db.transaction() as conn:
                repo.record_failure(conn, key)
            logger.info("login refused", extra={"failures_in_window": failures + 1})
            raise InvalidCredentialsError()
        identity = tokens.Identity(
            tenant_id=login["tenant_id"], user_id=login["id"], role=Role(login["role"])
        )
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            repo.clear_failures(conn, key)
            if passwords.needs_rehash(login["password_hash"]):
                current = repo.get_user(conn, identity.user_id)
                if current is not None:
                    repo.update_user(
                        conn,
                        identity.user_id,
                        expected_version=current.version,
                        changes={"password_hash": passwords.hash_password(password)},
                    )
            return self._issue(conn, identity, family_id=uuid.uuid4())

    def refresh(self, refresh_token: str) -> TokenPair:
        try:
            tenant_id = tokens.refresh_token_tenant(refresh_token)
        except tokens.TokenError as exc:
            raise InvalidTokenError() from exc
        # A reuse must revoke the family even though the caller gets an error: commit that first.
        reused = False
        with self._db.tenant_tx(tenant_id) as conn:
            row = repo.take_refresh_token(conn, tokens.token_hash(refresh_token))
            if row is None:
                raise InvalidTokenError()
            if row["revoked_at"] is not None:
                repo.revoke_family(conn, row["family_id"])
                reused = True
            elif row["expires_at"] <= datetime.fromtimestamp(self._clock(), UTC):
                raise InvalidTokenError()
            else:
                user = repo.get_user(conn, row["user_id"])
                if user is None or not user.active:
                    repo.revoke_family(conn, row["family_id"])
                    reused = True
                else:
                    repo.revoke_refresh_token(conn, row["id"])
                    identity = tokens.Identity(tenant_id=tenant_id, user_id=user.id, role=Role(user.role))
                    return self._issue(conn, identity, family_id=row["family_id"])
        assert reused
        raise InvalidTokenError()

    def logout(self, refresh_token: str) -> None:
        """Revoke the session the refresh token belongs to; unknown tokens are a no-op (idempotent)."""
        try:
            tenant_id = tokens.refresh_token_tenant(refresh_token)
        except tokens.TokenError:
            return
        with self._db.tenant_tx(tenant_id) as conn:
            row = repo.take_refresh_token(conn, tokens.token_hash(refresh_token))
            if row is not None:
                repo.revoke_family(conn, row["family_id"])

    def _issue(self, conn: repo.Conn, identity: tokens.Identity, *, family_id: uuid.UUID) -> TokenPair:
        now = int(self._clock())
        refresh = tokens.new_refresh_token(identity.tenant_id)
        repo.insert_refresh_token(
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
