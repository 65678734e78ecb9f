"""Who is calling: taken from the API Gateway authorizer's context, and from nowhere else; and the
bearer-token check the authorizer runs (which the local stage's API runs itself)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.domain import tokens
from assistec.domain.permissions import Role
from assistec.domain.tokens import Identity
from assistec.errors import UnauthorizedError
from assistec.observability import logger

if TYPE_CHECKING:
    from assistec.wiring.api import ApiRoot


class Unauthorized(Exception):
    """A missing or refused bearer token (API Gateway answers 401 for an authorizer raising it)."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def verify_bearer(header: str, key: bytes | Sequence[bytes]) -> Identity:
    """The identity in an ``Authorization: Bearer <token>`` header, signed with ``key`` (or one of
    the keys of a rotation); ``Unauthorized`` otherwise."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    try:
        return tokens.verify_access_token(token.strip(), key, now=int(time.time()))
    except tokens.TokenError:
        logger.info("token refused")
        raise Unauthorized() from None


def authorizer_context(identity: Identity) -> dict[str, str]:
    """What the authorizer hands API Gateway, which passes it to the API as the caller."""
    context = {
        "tenant_id": str(identity.tenant_id),
        "user_id": str(identity.user_id),
        "role": identity.role.value,
    }
    if identity.session_id is not None:
        context["session_id"] = str(identity.session_id)
    return context


def emulate_authorizer(event: dict[str, Any], key: bytes | Sequence[bytes]) -> None:
    """Do in-process what API Gateway's authorizer does (local stage only; see ApiSettings): a
    valid bearer token puts the caller in the event; a refused one raises ``Unauthorized``."""
    headers = event.get("headers") or {}
    header = headers.get("Authorization") or headers.get("authorization")
    if not header:
        return
    identity = verify_bearer(str(header), key)
    event.setdefault("requestContext", {})["authorizer"] = {
        "principalId": str(identity.user_id),
        **authorizer_context(identity),
    }


_serving: ContextVar[ApiRoot] = ContextVar("api_root")


@contextmanager
def serving(root: ApiRoot) -> Iterator[None]:
    """Within the block, ``services()`` is ``root`` (``api.app.serve`` wraps each request in it)."""
    token = _serving.set(root)
    try:
        yield
    finally:
        _serving.reset(token)


def services() -> ApiRoot:
    """The composition root serving the current request: the routers' services come from it.

    A context variable rather than the resolver's routing context: Powertools clears that after
    every resolve, including a nested one (an in-process simulator posting a webhook back into the
    API while a request waits on it), while a context variable is restored when the inner request
    ends."""
    return _serving.get()


def identity_from_authorizer(context: dict[str, Any] | None) -> Identity | None:
    if not context:
        return None
    try:
        session = context.get("session_id")
        return Identity(
            tenant_id=UUID(str(context["tenant_id"])),
            user_id=UUID(str(context["user_id"])),
            role=Role(str(context["role"])),
            session_id=UUID(str(session)) if session else None,
        )
    except (KeyError, ValueError):
        return None


def caller(router: Any) -> Identity:
    """The identity of the request a router is serving (from the authorizer's context only)."""
    return require_identity(router.current_event.request_context.authorizer.get_context())


def require_identity(context: dict[str, Any] | None) -> Identity:
    """The caller's identity; 401 when a route meant to be protected was reached without one."""
    identity = identity_from_authorizer(context)
    if identity is None:
        raise UnauthorizedError()
    return identity


def public_base_url(router: Any) -> str:
    """The API's own base URL (scheme, host and stage prefix), so links the API writes into
    messages open wherever it is deployed: PUBLIC_BASE_URL when set (a custom domain, LocalStack),
    else as the caller reached it; "" when the event does not tell."""
    configured = services().settings.public_base_url
    if configured:
        return configured
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    host = headers.get("host")
    full_path = str(event.request_context.path or "")
    path = str(event.path or "")
    if not host or not full_path.endswith(path):
        return ""
    proto = str(headers.get("x-forwarded-proto", "https")).lower()
    return f"{proto}://{host}{full_path[: len(full_path) - len(path)]}"
