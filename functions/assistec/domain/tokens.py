"""Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed).

An access token carries the shop (``tid``), the user (``sub``), the role and the session (``sid``,
the refresh-token family); API Gateway's authorizer checks it and hands those to the API, whose
entry statement refuses it at once when the session ended or the user was deactivated. A refresh token is
``<tenant id>.<random>``: the tenant part lets the server open the right shop's transaction; only
the SHA-256 of the whole token is stored, so a database leak yields no usable tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistec.domain.permissions import Role

ISSUER = "assistec"
AUDIENCE = "assistec-api"
ALGORITHM = "HS256"
ACCESS_TTL_S = 15 * 60
REFRESH_TTL_S = 30 * 24 * 3600
LEEWAY_S = 30  # clock skew between the API and the authorizer environments


class TokenError(Exception):
    """The token is malformed, tampered with, expired or not ours."""


@dataclass(frozen=True, slots=True)
class Identity:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    # The session (refresh-token family) an access token belongs to: the shop's entry statement
    # refuses the token once that session ended (logout). None for identities not from a token.
    session_id: uuid.UUID | None = None


def issue_access_token(identity: Identity, key: bytes, *, now: int) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(identity.user_id),
        "tid": str(identity.tenant_id),
        "role": identity.role.value,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TTL_S,
        "jti": secrets.token_hex(8),
    }
    if identity.session_id is not None:
        claims["sid"] = str(identity.session_id)
    import jwt  # deferred: the API signs tokens only on sign-up, login and refresh

    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify_access_token(token: str, key: bytes | Sequence[bytes], *, now: int) -> Identity:
    """The identity of a token signed with ``key`` (or with any of the keys given: a key rotation,
    domain/signing_keys.py); ``TokenError`` otherwise."""
    import jwt

    keys = [key] if isinstance(key, bytes) else list(key)
    if not keys:
        raise TokenError("no key to verify with")
    try:
        claims = _decode(token, keys)
        if not int(claims["nbf"]) - LEEWAY_S <= now < int(claims["exp"]) + LEEWAY_S:
            raise TokenError("expired or not yet valid")
        sid = claims.get("sid")
        return Identity(
            tenant_id=uuid.UUID(claims["tid"]),
            user_id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            session_id=uuid.UUID(str(sid)) if sid is not None else None,
        )
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise TokenError(str(exc)) from exc


def _decode(token: str, keys: list[bytes]) -> dict[str, Any]:
    """The token's claims, checked with the first key whose signature matches."""
    import jwt

    for index, key in enumerate(keys):
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                # Time claims are checked by the caller against its injected clock, not PyJWT's.
                options={
                    "require": ["exp", "nbf", "iat", "sub", "tid", "role"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            return claims
        except jwt.InvalidSignatureError:
            if index == len(keys) - 1:
                raise
    raise AssertionError("unreachable")


def new_refresh_token(tenant_id: uuid.UUID) -> str:
    return f"{tenant_id}.{secrets.token_urlsafe(32)}"


def refresh_token_tenant(token: str) -> uuid.UUID:
    tenant, _, rest = token.partition(".")
    if not rest:
        raise TokenError("malformed refresh token")
    try:
        return uuid.UUID(tenant)
    except ValueError as exc:
        raise TokenError("malformed refresh token") from exc


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
