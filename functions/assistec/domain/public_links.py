"""Tokens of the public links a shop sends its customers (order tracking, quote decision).

A token is ``<tenant id>.<random>``: unguessable (256 random bits) and self-routing, the tenant
prefix tells the server which shop's transaction to open before looking the token up.
"""

from __future__ import annotations

import secrets
from uuid import UUID


def new_token(tenant_id: UUID) -> str:
    """A fresh public-link token of the shop ``tenant_id``."""
    return f"{tenant_id}.{secrets.token_urlsafe(32)}"


def token_tenant(token: str) -> UUID | None:
    """The shop a public-link token belongs to; None when the token is malformed (cut short)."""
    tenant, _, rest = token.partition(".")
    if len(rest) < 20:
        return None
    try:
        return UUID(tenant)
    except ValueError:
        return None
