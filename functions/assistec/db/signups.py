"""SQL for signups waiting for their e-mail's confirmation (migration 0016): before any shop
exists, reached only through the migration's SECURITY DEFINER functions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import class_row

if TYPE_CHECKING:
    from assistec.db.sql import Conn


@dataclass(frozen=True, slots=True)
class SignupRequestRow:
    id: UUID
    email: str
    shop: dict[str, Any] | None
    expires_at: datetime
    confirmed_at: datetime | None


def add_request(
    conn: Conn,
    *,
    source_key: bytes,
    max_requests: int,
    window_s: int,
    token_hash: bytes | None,
    email: str,
    shop: dict[str, Any] | None,
    ttl_s: int,
) -> int:
    """Record the request: 0, or the seconds to wait when ``source_key`` used its budget (then
    nothing is written)."""
    row = conn.execute(
        "select signup_request_add(%s, %s, %s, %s, %s, %s::jsonb, %s)",
        (
            source_key,
            max_requests,
            window_s,
            token_hash,
            email,
            json.dumps(shop) if shop is not None else None,
            ttl_s,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def find_request(conn: Conn, token_hash: bytes) -> SignupRequestRow | None:
    with conn.cursor(row_factory=class_row(SignupRequestRow)) as cur:
        return cur.execute(
            "select id, email, shop, expires_at, confirmed_at from signup_request_find(%s)", (token_hash,)
        ).fetchone()


def claim_request(conn: Conn, request_id: UUID) -> bool:
    """True once: the request is marked confirmed (its password hash forgotten)."""
    row = conn.execute("select signup_request_claim(%s)", (request_id,)).fetchone()
    assert row is not None
    return bool(row[0])
