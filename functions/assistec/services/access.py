"""The permission check every service runs first."""

from __future__ import annotations

from assistec.domain.permissions import Permission, allows
from assistec.domain.tokens import Identity
from assistec.errors import ForbiddenError


def require(identity: Identity, permission: Permission) -> None:
    if not allows(identity.role, permission):
        raise ForbiddenError()
