"""One PostgreSQL connection per execution environment, opened lazily and reused.

Lambda runs one request at a time per environment, so a pool would only hold idle sockets; the RDS
Proxy in front of the database does the pooling across environments. A connection that broke
between invocations (proxy idle timeout, failover) is replaced before use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    import psycopg

    from assistec.settings import DatabaseSettings


class DatabaseUnavailableError(Exception):
    """The database could not be reached or refused the connection."""


# Shops whose own requests are refused (their subscription is suspended or cancelled).
BLOCKED_STATUSES = frozenset({"suspended", "cancelled"})
_gated: ContextVar[UUID | None] = ContextVar("billing_gate", default=None)


class TenantBlockedError(Exception):
    """The shop's subscription is suspended or cancelled: its request was refused unserved."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class SessionEndedError(Exception):
    """The signed-in user's session ended (logout, a replayed refresh token) or the user is gone or
    inactive: the access token is refused on its next request, whatever its expiry says."""


class RoleChangedError(Exception):
    """The user's role changed since the access token was issued (``role`` is the current one)."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


# SQLSTATE raised by enter_user (migration 0015) for a user who is inactive or gone.
SESSION_ENDED_SQLSTATE = "AS401"


@contextmanager
def billing_gate(tenant_id: UUID | None) -> Iterator[None]:
    """Within the block, entering ``tenant_id``'s unit of work refuses a blocked shop (the API wraps
    each request of a shop's user in it; workers, webhooks and public links are not gated)."""
    token = _gated.set(tenant_id)
    try:
        yield
    finally:
        _gated.reset(token)


@dataclass(frozen=True, slots=True)
class _Credentials:
    host: str
    port: int
    username: str
    password: str
    dbname: str


def _secret_credentials(secret: str) -> _Credentials:
    data = json.loads(secret)
    return _Credentials(
        host=data["host"],
        port=int(data.get("port", 5432)),
        username=data["username"],
        password=data["password"],
        dbname=data.get("dbname", "assistec"),
    )


def conninfo_from_settings(
    settings: DatabaseSettings, read_secret: Callable[[str], str] | None = None
) -> str:
    """Build the libpq connection string the settings describe; with ``DB_SECRET_ID`` the
    credentials come from ``read_secret`` (Secrets Manager, handed in by the composition root)."""
    from psycopg.conninfo import make_conninfo

    if settings.database_url is not None:
        return make_conninfo(
            settings.database_url.get_secret_value(),
            connect_timeout=settings.db_connect_timeout_s,
        )
    assert settings.db_secret_id is not None  # guaranteed by the settings validator
    if read_secret is None:
        raise ValueError("DB_SECRET_ID is set but no secret reader was given")
    creds = _secret_credentials(read_secret(settings.db_secret_id))
    return make_conninfo(
        host=settings.db_host or creds.host,
        port=creds.port,
        user=creds.username,
        password=creds.password,
        dbname=creds.dbname,
        sslmode=settings.db_sslmode,
        sslrootcert=_root_certificates(settings),
        connect_timeout=settings.db_connect_timeout_s,
        application_name="assistec",
    )


# Amazon RDS's CAs and the Amazon Trust Services roots RDS Proxy's certificates chain to.
RDS_CA_BUNDLE = Path(__file__).with_name("certs") / "rds-ca-bundle.pem"


def _root_certificates(settings: DatabaseSettings) -> str | None:
    """The CAs that verify the server when the mode verifies it: DB_SSLROOTCERT, else the RDS
    bundle shipped with the code (libpq's default, ~/.postgresql/root.crt, exists nowhere in Lambda)."""
    if settings.db_sslmode not in ("verify-ca", "verify-full"):
        return None
    return settings.db_sslrootcert or str(RDS_CA_BUNDLE)


class Database:
    """A lazily opened, self-healing connection for one execution environment."""

    def __init__(self, settings: DatabaseSettings, read_secret: Callable[[str], str] | None = None) -> None:
        self._settings = settings
        self._read_secret = read_secret
        self._conninfo: str | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        # psycopg (~60 ms with the asyncio it pulls in) loads with the first connection, not at
        # import: requests refused before the database (401, 404, 413, 422) never pay for it.
        import psycopg

        if self._conninfo is None:
            self._conninfo = conninfo_from_settings(self._settings, self._read_secret)
        try:
            # No server-side prepared statements: through RDS Proxy (PgBouncer locally) a
            # connection's transactions run on whichever server connection is free, where a
            # statement prepared by another transaction is missing, or taken by another client.
            return psycopg.connect(self._conninfo, autocommit=True, prepare_threshold=None)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(str(exc)) from exc

    def connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            self._conn = conn = self._connect()
        return conn

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """Run the block in one transaction on the environment's connection.

        Environments sit frozen for minutes and the proxy or a failover may close the socket
        meanwhile: the BEGIN doubles as the liveness check, and a connection found dead there is
        replaced once, before any of the caller's work. A connection lost later is dropped, and
        the caller gets ``DatabaseUnavailableError`` with the transaction rolled back by the server.
        """
        import psycopg

        with ExitStack() as stack:
            conn = self.connection()
            try:
                stack.enter_context(conn.transaction())
            except psycopg.Error:
                # Nothing of the caller's has run yet, so one retry on a new connection is safe.
                # Besides a socket found closed, a server connection that died under the pooler
                # (RDS Proxy; PgBouncer locally) can answer this BEGIN with its farewell error
                # ("terminating connection…", or that and the BEGIN: "received 2 results").
                conn.close()
                self._conn = None
                conn = self.connection()
                stack.enter_context(conn.transaction())
            try:
                yield conn
            except psycopg.OperationalError as exc:
                if conn.broken or conn.closed:
                    self._conn = None
                    raise DatabaseUnavailableError(str(exc)) from exc
                raise

    @contextmanager
    def tenant_tx(
        self,
        tenant_id: UUID,
        *,
        user_id: UUID | None = None,
        session_id: UUID | None = None,
        role: str | None = None,
    ) -> Iterator[psycopg.Connection[Any]]:
        """The unit of work of the house plan: one transaction scoped to one shop.

        The tenant is set with ``set_config(..., true)``, local to this transaction, so a reused
        connection can never carry it into the next request; row-level security does the rest.
        The same statement reads the shop's billing status: inside ``billing_gate(tenant_id)`` (the
        API's requests) a suspended or cancelled shop is refused before any other statement runs.

        For a signed-in user's request (``session_id`` from the access token) the same one statement
        also checks the user is active and the session open (``SessionEndedError`` otherwise) and
        returns the user's current role: one that is not ``role`` (the token's) raises
        ``RoleChangedError``, so logout, deactivation and demotion count on the next request.
        """
        import psycopg

        with self.transaction() as conn:
            if session_id is not None and user_id is not None:
                try:
                    row = conn.execute(
                        "select billing_status, role, session_open from enter_user(%s, %s, %s)",
                        (tenant_id, user_id, session_id),
                    ).fetchone()
                except psycopg.Error as exc:
                    if exc.sqlstate == SESSION_ENDED_SQLSTATE:
                        raise SessionEndedError() from exc
                    raise
                if row is None:  # the shop is gone
                    raise SessionEndedError()
                status = row[0]
                if role is not None and row[1] != role:  # before the session: a demotion is a 403
                    raise RoleChangedError(str(row[1]))
                if not row[2]:
                    raise SessionEndedError()
            else:
                row = conn.execute(
                    "select enter_tenant(%s, %s)", (str(tenant_id), str(user_id) if user_id else "")
                ).fetchone()
                status = row[0] if row is not None else None
            if _gated.get() == tenant_id and status in BLOCKED_STATUSES:
                raise TenantBlockedError(str(status))
            yield conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
