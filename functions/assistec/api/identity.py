"""Who is calling: taken from the API Gateway authorizer's context, and from nowhere else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from assistec.domain.permissions import Role
from assistec.domain.tokens import Identity
from assistec.errors import UnauthorizedError


def identity_from_authorizer(context: dict[str, Any] | None) -> Identity | None:
    if not context:
        return None
    try:
        return Identity(
            tenant_id=UUID(str(context["tenant_id"])),
            user_id=UUID(str(context["user_id"])),
            role=Role(str(context["role"])),
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
    from assistec.runtime import settings

    configured = settings().public_base_url
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
