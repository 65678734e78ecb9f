"""SQL for sign-in state: refresh tokens and the login-failure throttle."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.sql import dict_row

if TYPE_CHECKING:
    from assistec.db.sql import Conn


# --- refresh tokens ----------------------------------------------------------------------------
def insert_refresh_token(
    conn: Conn, *, tenant_id: UUID, user_id: UUID, family_id: UUID, token_hash: bytes, expires_at: datetime
) -> None:
    conn.execute(
        "insert into refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at) "
        "values (%s, %s, %s, %s, %s)",
        (tenant_id, user_id, family_id, token_hash, expires_at),
    )


def take_refresh_token(conn: Conn, token_hash: bytes) -> dict[str, Any] | None:
    """Lock the token's row for this transaction, so two refreshes with one token cannot both win."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select id, user_id, family_id, expires_at, revoked_at from refresh_tokens "
            "where token_hash = %s for update",
            (token_hash,),
        ).fetchone()


def revoke_refresh_token(conn: Conn, token_id: UUID) -> None:
    conn.execute(
        "update refresh_tokens set revoked_at = now() where id = %s and revoked_at is null", (token_id,)
    )


def revoke_family(conn: Conn, family_id: UUID) -> int:
    cur = conn.execute(
        "update refresh_tokens set revoked_at = now() where family_id = %s and revoked_at is null",
        (family_id,),
    )
    return cur.rowcount


def revoke_user_tokens(conn: Conn, user_id: UUID) -> int:
    cur = conn.execute(
        "update refresh_tokens set revoked_at = now() where user_id = %s and revoked_at is null", (user_id,)
    )
    return cur.rowcount


# --- login throttling --------------------------------------------------------------------------
def reserve_login_attempt(conn: Conn, key: bytes, *, max_attempts: int, window_s: int) -> int:
    """Reserve one login attempt for ``key`` (serialized per key in the database): 0 when reserved,
    else the seconds until the window has room again. Parallel guesses cannot overrun the budget."""
    row = conn.execute("select login_reserve(%s, %s, %s)", (key, max_attempts, window_s)).fetchone()
    assert row is not None
    return int(row[0])


def clear_login_attempts(conn: Conn, key: bytes) -> None:
    conn.execute("select login_clear(%s)", (key,))
